"""Pull code and structured data (JSON / YAML) out of messy model replies.

Replies wrap what we want in prose, reasoning (``<think>...</think>``), one or several fenced blocks (with
or without a language tag, sometimes unclosed when the reply was cut off) or no fence at all.
:func:`extract_python` picks the block that looks like the complete solver script;
:func:`extract_structured` returns the JSON/YAML mapping, tolerating trailing commas, comments, single
quotes, Python literals and unquoted keys.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from formulate.errors import FormulationError

_FENCE_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$", re.MULTILINE)
_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_PY_TAGS = {"python", "py", "python3", "py3", "ipython", "gurobipy", "pyomo", "pulp"}
_DATA_TAGS = {"json", "jsonc", "json5", "yaml", "yml"}
_NOT_PY_TAGS = {
    "bash",
    "sh",
    "shell",
    "console",
    "text",
    "txt",
    "output",
    "plaintext",
    "latex",
    "tex",
    "math",
}
_SOLVER_IMPORT = re.compile(
    r"^\s*(?:import|from)\s+(?:gurobipy|coptpy|pulp|pyomo|pyscipopt|highspy|mip|ortools|docplex|cvxpy|"
    r"scipy(?:\.optimize)?)\b",
    re.MULTILINE,
)
_SOLVE_CALL = re.compile(
    r"\.(?:optimize|solve|Solve|minimize|maximize)\s*\(|SolverFactory|\blinprog\(|\bmilp\("
)
_CODE_START = re.compile(r"^(?:import\s+\w|from\s+[\w.]+\s+import\b|def\s+\w|class\s+\w|#!)", re.MULTILINE)


@dataclass
class CodeBlock:
    """One fenced block: its language tag (lower case, may be empty), its text and where it starts."""

    lang: str
    code: str
    start: int
    end: int
    closed: bool = True


def strip_reasoning(text: str) -> str:
    """Drop ``<think>...</think>`` sections (and an unclosed trailing ``<think>``)."""
    text = _THINK.sub("", text)
    cut = re.search(r"<(think|thinking|reasoning)>", text, re.IGNORECASE)
    return text[: cut.start()] if cut else text


def code_blocks(text: str) -> list[CodeBlock]:
    """All fenced blocks in order; a fence left open at the end of the reply runs to the end."""
    blocks: list[CodeBlock] = []
    pos = 0
    while (m := _FENCE_OPEN.search(text, pos)) is not None:
        fence = m.group("fence")
        lang = (m.group("info").strip().split() or [""])[0].lower().strip("{}.")
        body_start = m.end() + 1
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        end = close.search(text, body_start)
        if end is None:
            blocks.append(CodeBlock(lang, text[body_start:], m.start(), len(text), closed=False))
            break
        blocks.append(CodeBlock(lang, text[body_start : end.start()], m.start(), end.end()))
        pos = end.end()
    return blocks


def extract_python(text: str) -> str | None:
    """Return the Python script in a reply, or None when there is none.

    Candidates are the fenced blocks (Python-tagged or untagged code), outside any reasoning section
    first; each is scored on solver imports, a solve call, a print, whether it parses and its length,
    and the best wins (the later one on ties: models revise). When the script is split over several
    Python blocks and only their concatenation is complete, that is returned. Without fences, the text
    from the first line that looks like code is used.
    """
    for body in (strip_reasoning(text), text):
        found = _python_from(body)
        if found is not None:
            return found
    return None


def _python_from(text: str) -> str | None:
    blocks = code_blocks(text)
    candidates = [b for b in blocks if _is_python_block(b)]
    if candidates:
        scored = [(_score(b.code, b.lang), i, b) for i, b in enumerate(candidates)]
        best_score, _, best = max(scored, key=lambda s: (s[0], s[1]))
        if len(candidates) > 1 and not _complete(best.code):
            joined = "\n\n".join(_dedent(b.code) for b in candidates)
            if _complete(joined) and _parses(joined):
                return joined.strip("\n") + "\n"
        return _dedent(best.code).strip("\n") + "\n"
    if blocks:  # fenced, but nothing that looks like Python
        return None
    return _unfenced_python(text)


def _is_python_block(block: CodeBlock) -> bool:
    if block.lang in _PY_TAGS:
        return True
    if block.lang in _DATA_TAGS or block.lang in _NOT_PY_TAGS:
        return False
    return _looks_like_python(block.code)


def _looks_like_python(code: str) -> bool:
    return bool(_CODE_START.search(code) or _SOLVE_CALL.search(code)) and _parses(_dedent(code))


def _complete(code: str) -> bool:
    return bool(_SOLVER_IMPORT.search(code) and _SOLVE_CALL.search(code))


def _score(code: str, lang: str) -> float:
    code = _dedent(code)
    score = 2.0 if lang in _PY_TAGS else 1.0
    score += 3.0 if _SOLVER_IMPORT.search(code) else 0.0
    score += 2.0 if _SOLVE_CALL.search(code) else 0.0
    score += 1.0 if re.search(r"\bprint\s*\(", code) else 0.0
    score += 2.0 if _parses(code) else 0.0
    return score + min(len(code.splitlines()) / 60.0, 1.0)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _dedent(code: str) -> str:
    import textwrap

    return textwrap.dedent(code)


def _unfenced_python(text: str) -> str | None:
    """Code written without fences: from the first code-looking line, trimmed of trailing prose."""
    m = _CODE_START.search(text)
    if m is None:
        return None
    lines = text[m.start() :].splitlines()
    while lines and not _parses("\n".join(lines)):
        lines.pop()  # drop trailing prose one line at a time
    code = "\n".join(lines).strip("\n")
    return code + "\n" if code and (_SOLVER_IMPORT.search(code) or _SOLVE_CALL.search(code)) else None


# ------------------------------------------------------------------------------------------ structured data


def extract_structured(text: str, *, required_keys: Collection[str] = ()) -> dict[str, Any]:
    """Return the JSON or YAML mapping in a reply.

    Looks at fenced blocks first (any tag), then balanced ``{...}`` spans, then an unfenced YAML
    document. Each candidate is tried as strict JSON, as repaired JSON (comments, trailing commas,
    single quotes, ``True/False/None``, unquoted keys) and as YAML. Among the mappings found, those with
    the most of ``required_keys`` win, then those with the most top-level keys, then the later one.
    Raises :class:`~formulate.errors.FormulationError` when there is no mapping.
    """
    found: list[tuple[int, int, int, dict[str, Any]]] = []
    for body in (strip_reasoning(text), text):
        for order, candidate in enumerate(_structured_candidates(body)):
            data = parse_structured(candidate)
            if isinstance(data, dict) and data:
                hits = sum(1 for k in required_keys if k in data)
                found.append((hits, len(data), order, data))
        if found:
            break
    if not found:
        raise FormulationError(
            "the reply contains no JSON or YAML object",
            where="model reply",
            fix="reply with the formulation as one JSON object or YAML document in a single fenced block",
        )
    return max(found, key=lambda f: (f[0], f[1], f[2]))[3]


def parse_structured(text: str) -> Any:
    """Parse one JSON/YAML snippet leniently; None when nothing parses."""
    text = text.strip().lstrip("\ufeff")
    if not text:
        return None
    from formulate.ir.bounded import json_loads

    try:
        return json_loads(text, "model reply")
    except ValueError:
        pass
    if text[:1] in "{[":
        try:
            return json_loads(repair_json(text), "model reply")
        except ValueError:
            pass
    return _load_yaml(text)


def _structured_candidates(text: str) -> list[str]:
    out: list[str] = []
    blocks = code_blocks(text)
    data_blocks = [b for b in blocks if b.lang in _DATA_TAGS or not b.lang]
    out.extend(b.code for b in data_blocks)
    out.extend(b.code for b in blocks if b not in data_blocks and b.lang not in _PY_TAGS)
    prose, pos = [], 0
    for b in blocks:  # balanced spans outside fences
        prose.append(text[pos : b.start])
        pos = b.end
    prose.append(text[pos:])
    out.extend(_balanced_spans("\n".join(prose)))
    if not blocks:
        yaml_doc = _unfenced_yaml(text)
        if yaml_doc:
            out.append(yaml_doc)
    return out


def _balanced_spans(text: str) -> list[str]:
    """Top-level ``{...}`` spans, respecting quoted strings."""
    spans: list[str] = []
    depth, start, quote, escaped = 0, -1, "", False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote or ch == "\n":
                quote = ""
            continue
        if ch in "\"'" and depth > 0:
            quote = ch
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start : i + 1])
    return spans


_YAML_KEY = re.compile(r"^[A-Za-z_][\w\- ]*:(\s|$)")


def _unfenced_yaml(text: str) -> str | None:
    """The YAML document in an unfenced reply: the run of lines from the first top-level ``key:`` on."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _YAML_KEY.match(line)), None)
    if start is None:
        return None
    end = start
    for i in range(start, len(lines)):
        line = lines[i]
        if not line.strip() or line[:1] in " \t-#" or _YAML_KEY.match(line):
            end = i + 1
        else:
            break
    return "\n".join(lines[start:end])


def _load_yaml(text: str) -> Any:
    from ruamel.yaml.error import YAMLError

    from formulate.ir.io import load_yaml_bounded

    try:
        return _plain(load_yaml_bounded(text, "model reply"))
    except (YAMLError, ValueError, TypeError):
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str | int | float) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}


def repair_json(text: str) -> str:
    """Rewrite near-JSON into JSON: drop comments and trailing commas, double-quote single-quoted
    strings and bare keys, and map ``True/False/None`` to JSON literals."""
    out: list[str] = []
    last = ""  # the last significant character written
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            j, buf = i + 1, []
            while j < n and text[j] != ch:
                if text[j] == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    buf.append(nxt if (nxt == "'" and ch == "'") else text[j : j + 2])
                    j += 2
                    continue
                buf.append('\\"' if text[j] == '"' else text[j])
                j += 1
            out.append('"' + "".join(buf) + '"')
            last = '"'
            i = j + 1
        elif text.startswith("//", i) or ch == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch == ",":
            j = i + 1
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j < n and text[j] in "}]":
                i += 1  # trailing comma
            else:
                out.append(ch)
                last = ch
                i += 1
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_-"):
                j += 1
            word = text[i:j]
            k = j
            while k < n and text[k] in " \t":
                k += 1
            if k < n and text[k] == ":" and last in ("{", ","):
                out.append(f'"{word}"')
            else:
                out.append(_PY_LITERALS.get(word, word))
            last = word[-1]
            i = j
        else:
            out.append(ch)
            if not ch.isspace():
                last = ch
            i += 1
    return "".join(out)
