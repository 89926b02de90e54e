"""Text -> Formulation through a chat model: prompt, extract, validate, check, and repair (design §4, §5).

Each round's reply is pulled out of its prose and fences, validated against the schema and checked
statically; any failure goes back to the model as the exact error text (where, what, fix) until the
formulation checks or ``max_repairs`` repair rounds are spent. Every reply, error, token and second is kept.

Strict JSON-schema structured output cannot express maps keyed by the model's own names, so
``structured=True`` sends :func:`list_schema` (named items as lists) and converts back with
:func:`from_list_shape`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from formulate.errors import FormulateError, FormulationError
from formulate.formulators.attempt import FormulateAttempt, RoundRecord
from formulate.formulators.extract import code_blocks, extract_structured, repair_json, strip_reasoning
from formulate.formulators.fewshot import Example, select_examples
from formulate.formulators.prompt import build_messages, repair_message
from formulate.ir.io import formulation_from_data, parse_yaml_text, quote_opened_lines, with_data_dir
from formulate.ir.model import (
    CONSTRAINT_KEYS,
    OBJECTIVE_KEYS,
    VARIABLE_KEYS,
    Formulation,
)
from formulate.llm.base import (
    ChatModel,
    ChatRequest,
    ChatResponse,
    Message,
    Usage,
    raised_max_tokens,
    truncation_note,
)

log = logging.getLogger(__name__)

SECTIONS = ("sets", "parameters", "variables", "objective", "constraints")
_LEADING_TABS = re.compile(r"^(\t+)", re.MULTILINE)


# ----------------------------------------------------------------------------------- list-shaped schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null, with nested ``anyOf`` flattened and the description kept outside."""
    schema = dict(schema)
    description = schema.pop("description", None)
    options = schema["anyOf"] if set(schema) == {"anyOf"} else [schema]
    out: dict[str, Any] = {"anyOf": [*options, {"type": "null"}]}
    if description:
        out["description"] = description
    return out


def _obj(properties: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    """A strict object: every key required (nullable where optional), nothing else allowed."""
    out: dict[str, Any] = {"type": "object", "properties": properties, "required": list(properties),
                           "additionalProperties": False}
    if description:
        out["description"] = description
    return out


def _strict_property(node: dict[str, Any]) -> dict[str, Any]:
    """A pydantic property schema without titles/defaults (strict mode rejects ``default``)."""
    out = {k: v for k, v in node.items() if k not in ("title", "default")}
    if "anyOf" in out:
        number = {"type": "number"} in out["anyOf"]  # int | float: `number` alone covers both
        out["anyOf"] = [_strict_property(n) for n in out["anyOf"] if not (number and n == {"type": "integer"})]
        if len(out["anyOf"]) == 1:
            out.update(out.pop("anyOf")[0])
    return out


def _item_schema(def_name: str, keys: Sequence[str], description: str) -> dict[str, Any]:
    """A list item ``{name, <the model's keys>}`` built from the pydantic definition of that item."""
    node = Formulation.model_json_schema()["$defs"][def_name]
    properties: dict[str, Any] = {"name": {"type": "string"}}
    for key in keys:
        properties[key] = _strict_property(node["properties"][key])
    return _obj(properties, description)


@lru_cache(maxsize=1)
def _list_schema() -> str:
    member = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    member_or_tuple = {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "array", "items": member}]}
    scalar = {"anyOf": [{"type": "number"}, {"type": "string"}]}
    set_item = _obj({
        "name": {"type": "string"},
        "members": _nullable({"type": "array", "items": member_or_tuple,
                              "description": "members in order; a tuple member is a list"}),
        "definition": _nullable({"type": "string",
                                 "description": "`range(a, b)` or a comprehension over data, instead of members"}),
    }, "an ordered set")
    parameter_item = _obj({
        "name": {"type": "string"},
        "value": _nullable({**scalar, "description": "a scalar, or a quoted data expression; null when indexed"}),
        "index": _nullable({"type": "array", "items": {"type": "string"}, "description": "index sets, in order"}),
        "values": _nullable({"$ref": "#/$defs/values"}),
        "entries": _nullable({"type": "array", "description": "sparse or by-member data",
                              "items": _obj({"key": {"type": "array", "items": member_or_tuple,
                                                     "description": "one member per index set"},
                                             "value": scalar})}),
        "default": _nullable(scalar),
        "file": _nullable({"type": "string"}),
        "description": _nullable({"type": "string"}),
    }, "a scalar (`value`) or a table over `index` (`values` in set order, or `entries`)")
    objective = _item_schema("Objective", OBJECTIVE_KEYS, "what to optimise (`priority`, `weight`: null for one)")
    objective["properties"].pop("name")
    objective["required"].remove("name")
    objectives = {"anyOf": [{"$ref": "#/$defs/objective"},
                            {"type": "array", "items": {"$ref": "#/$defs/objective"},
                             "description": "several objectives: higher `priority` first (lexicographic), "
                                            "equal priorities summed with `weight`"}]}
    schema = _obj({
        "name": {"type": "string"},
        "description": _nullable({"type": "string"}),
        "meta": _obj({"assumptions": {"type": "array", "items": {"type": "string"}},
                      "alternatives": {"type": "array", "items": {"anyOf": [
                          {"type": "string"},
                          _obj({"reading": {"type": "string", "description": "the reading, one sentence"},
                                "changes": _nullable({"type": "string", "description":
                                                      "a JSON object: the sections that differ, items by name "
                                                      "(a mapping gives only the keys that change), "
                                                      "null deletes"})},
                               "a reading that changes the answer, as a patch of the formulation")]}},
                      "expected_status": _nullable({"type": "string", "enum": ["infeasible", "unbounded"],
                                                    "description": "only when the text's own conditions admit no "
                                                                   "optimum"})},
                     "assumptions made, alternative readings that change the answer, and a status the text itself "
                     "implies"),
        "sets": {"type": "array", "items": set_item},
        "parameters": {"type": "array", "items": parameter_item},
        "variables": {"type": "array", "items": _item_schema("Variable", VARIABLE_KEYS, "a decision variable")},
        "objective": objectives,
        "constraints": {"type": "array", "items": _item_schema("Constraint", CONSTRAINT_KEYS, "a named constraint")},
    }, "a formulation in the formulate language, named items as lists")
    schema["title"] = "formulation"
    schema["$defs"] = {"values": {"anyOf": [{"type": "number"}, {"type": "string"},
                                            {"type": "array", "items": {"$ref": "#/$defs/values"}}],
                                  "description": "nested lists in set order (first index outermost)"},
                       "objective": objective}
    return json.dumps(schema)


def list_schema() -> dict[str, Any]:
    """The list-shaped JSON Schema for structured output (valid for strict mode: all keys required)."""
    return json.loads(_list_schema())


def _member_key(member: Any) -> Any:
    """A mapping key for one member: a tuple member (a list) becomes ``"(a, b)"``, which the loader reads."""
    if isinstance(member, list | tuple):
        return "(" + ", ".join(str(m) for m in member) + ")"
    return member


def _nest_entries(name: str, entries: list[Any], arity: int) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for entry in entries:
        if not isinstance(entry, dict) or "key" not in entry or "value" not in entry:
            raise FormulationError("each entry must be `{key: [...], value: ...}`", f"parameter `{name}`",
                                   "write one object per entry with `key` (a member per index set) and `value`")
        key = entry["key"] if isinstance(entry["key"], list) else [entry["key"]]
        if len(key) != arity:
            if arity == 1:
                key = [key]
            else:
                raise FormulationError(f"entry key {key} has {len(key)} members but the index has {arity} sets",
                                       f"parameter `{name}`", "give one member per index set")
        level = out
        for member in key[:-1]:
            level = level.setdefault(_member_key(member), {})
        level[_member_key(key[-1])] = entry["value"]
    return out


def _set_from_item(name: str, item: dict[str, Any]) -> Any:
    if item.get("members") is not None:
        return item["members"]
    if item.get("definition") is not None:
        return item["definition"]
    raise FormulationError("gives neither `members` nor `definition`", f"set `{name}`",
                           "list the members, or write `range(a, b)` or a comprehension in `definition`")


def _parameter_from_item(name: str, item: dict[str, Any]) -> Any:
    index = item.get("index") or None
    if index is None:
        for key in ("value", "values"):
            if item.get(key) is not None and not isinstance(item[key], list | dict):
                return item[key]
        raise FormulationError("has no `index` and no scalar `value`", f"parameter `{name}`",
                               "give `value` for a scalar, or `index` with `values` or `entries` for a table")
    spec: dict[str, Any] = {"index": index}
    if item.get("values") is not None:
        spec["values"] = item["values"]
    elif item.get("entries") is not None:
        spec["values"] = _nest_entries(name, item["entries"], len(index) if isinstance(index, list) else 1)
    elif item.get("value") is not None:
        spec["values"] = item["value"]
    for key in ("default", "file", "description"):
        if item.get(key) is not None:
            spec[key] = item[key]
    return spec


def _plain_item(name: str, item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "name" and v is not None}


def _constraint_from_item(name: str, item: dict[str, Any]) -> Any:
    spec = {k: v for k, v in _plain_item(name, item).items() if v != []}
    return spec["expr"] if set(spec) == {"expr"} else spec


_CONVERTERS = {"sets": ("set", _set_from_item), "parameters": ("parameter", _parameter_from_item),
               "variables": ("variable", _plain_item), "constraints": ("constraint", _constraint_from_item)}


def from_list_shape(data: Any) -> Any:
    """Convert list-shaped sections (``[{name: ..., ...}]``) to the map form; map-shaped ones pass through.

    Null keys are dropped (so defaults apply); a constraint with only ``expr`` becomes a one-line string.
    """
    if not isinstance(data, dict):
        return data
    out = {k: v for k, v in data.items() if v is not None or k in SECTIONS}
    for section, (kind, convert) in _CONVERTERS.items():
        items = out.get(section)
        if not isinstance(items, list) or not all(isinstance(i, dict) and "name" in i for i in items):
            continue
        converted: dict[str, Any] = {}
        for item in items:
            name = str(item["name"])
            if name in converted:
                raise FormulationError(f"two {section} are named `{name}`", f"{kind} `{name}`",
                                       "give each item a distinct name")
            converted[name] = convert(name, item)
        out[section] = converted
    objective = out.get("objective")
    if isinstance(objective, dict):
        out["objective"] = _plain_objective(objective)
    elif isinstance(objective, list):
        out["objective"] = [_plain_objective(o) if isinstance(o, dict) else o for o in objective]
    if isinstance(out.get("meta"), dict):
        out["meta"] = {k: v for k, v in out["meta"].items() if v is not None}
    return out


def _plain_objective(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


def _entries(values: dict[Any, Any], depth: int, prefix: list[Any]) -> list[dict[str, Any]] | None:
    out: list[dict[str, Any]] = []
    for key, value in values.items():
        if depth == 1:
            out.append({"key": prefix + [key], "value": value})
        elif isinstance(value, dict):
            inner = _entries(value, depth - 1, prefix + [key])
            if inner is None:
                return None
            out.extend(inner)
        else:
            return None
    return out


def _list_alternative(entry: Any) -> Any:
    """A patch alternative for the list shape: ``changes`` as a JSON string (strict schemas cannot hold a map)."""
    if isinstance(entry, dict) and isinstance(entry.get("changes"), dict):
        return {"reading": entry.get("reading"), "changes": json.dumps(entry["changes"], ensure_ascii=False)}
    if isinstance(entry, dict):
        return {"reading": entry.get("reading"), "changes": entry.get("changes")}
    return entry


def to_list_shape(data: dict[str, Any]) -> dict[str, Any]:
    """The map form as the list shape of :func:`list_schema` (every key present, null when unused)."""
    meta = data.get("meta") or {}
    out: dict[str, Any] = {
        "name": data.get("name", "model"), "description": data.get("description"),
        "meta": {"assumptions": list(meta.get("assumptions") or []),
                 "alternatives": [_list_alternative(a) for a in meta.get("alternatives") or []],
                 "expected_status": meta.get("expected_status")},
        "sets": [], "parameters": [], "variables": [], "objective": None, "constraints": [],
    }
    for name, spec in (data.get("sets") or {}).items():
        is_list = isinstance(spec, list)
        out["sets"].append({"name": name, "members": spec if is_list else None,
                            "definition": None if is_list else spec})
    for name, spec in (data.get("parameters") or {}).items():
        item: dict[str, Any] = {"name": name, "value": None, "index": None, "values": None, "entries": None,
                                "default": None, "file": None, "description": None}
        if not isinstance(spec, dict):
            item["value"] = spec
        else:
            index = spec.get("index")
            item["index"] = [index] if isinstance(index, str) else index
            values = spec.get("values")
            entries = _entries(values, len(item["index"] or [None]), []) if isinstance(values, dict) else None
            if entries is not None:
                item["entries"] = entries
            else:
                item["values"] = values
            for key in ("default", "file", "description"):
                item[key] = spec.get(key)
        out["parameters"].append(item)
    for name, spec in (data.get("variables") or {}).items():
        spec = dict(spec or {})
        if isinstance(spec.get("index"), str):
            spec["index"] = [spec["index"]]
        out["variables"].append({"name": name, **{k: spec.get(k) for k in VARIABLE_KEYS}})
    objective = data.get("objective")
    if isinstance(objective, dict):
        out["objective"] = {k: objective.get(k) for k in OBJECTIVE_KEYS}
    elif isinstance(objective, list):
        out["objective"] = [{k: o.get(k) for k in OBJECTIVE_KEYS} for o in objective if isinstance(o, dict)]
    for name, spec in (data.get("constraints") or {}).items():
        spec = {"expr": spec} if isinstance(spec, str) else (spec or {})
        out["constraints"].append({"name": name, **{k: spec.get(k) for k in CONSTRAINT_KEYS}})
    return out


# ----------------------------------------------------------------------------------------- reply parsing


def _looks_like_formulation(data: Any) -> bool:
    return isinstance(data, dict) and any(k in data for k in SECTIONS)


def _expand_tabs(text: str) -> str:
    """Leading tabs (YAML forbids them in indentation) as two spaces each."""
    return _LEADING_TABS.sub(lambda m: "  " * len(m.group(1)), text)


def _quotes_closed(text: str) -> str:
    """Every line whose value opens with a quote and goes on after it (`- "x" means y`, a YAML error), quoted
    whole: the parser's own fix, applied on the way in as for tabs and trailing commas."""
    fixes = {number: fixed for number, _, fixed in quote_opened_lines(text)}
    if not fixes:
        return text
    lines = text.splitlines(keepends=True)  # numbered as quote_opened_lines numbers them
    for number, fixed in fixes.items():
        raw = lines[number - 1]
        body = raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        lines[number - 1] = body[:len(body) - len(body.lstrip(" "))] + fixed + raw[len(body):]
    return "".join(lines)


def _diagnose(text: str) -> FormulationError:
    """Why no formulation could be read: the YAML/JSON error of the most likely block, with its line."""
    body = strip_reasoning(text)
    blocks = [b for b in code_blocks(body) if b.lang in ("yaml", "yml", "json", "")]
    fix = "answer with the complete formulation as ONE YAML document in a single ```yaml block"
    candidate = blocks[-1].code if blocks else None
    if candidate is None:
        keys = [m.start() for m in re.finditer(r"^(name|sets|parameters|variables|objective|constraints)\s*:",
                                               body, re.MULTILINE)]
        candidate = body[keys[0]:] if keys else None
    if candidate is None or not candidate.strip():
        return FormulationError("the reply contains no formulation (no ```yaml block, no `sets:`/`variables:` keys)",
                                "your reply", fix)
    stripped = candidate.strip()
    if stripped.startswith("{"):
        from formulate.ir.bounded import json_loads

        try:
            data = json_loads(repair_json(stripped), "your reply")
        except FormulationError as exc:
            return exc
        except json.JSONDecodeError as exc:
            line = stripped.splitlines()[exc.lineno - 1].strip() if exc.lineno <= len(stripped.splitlines()) else ""
            return FormulationError(f"JSON error at line {exc.lineno} `{line}`: {exc.msg}", "your reply",
                                    "write valid JSON (double quotes, no trailing commas) or YAML")
    else:
        try:
            data = parse_yaml_text(_expand_tabs(candidate), "your YAML block")
        except FormulationError as exc:
            return exc
    if _looks_like_formulation(data):  # pragma: no cover - extraction would have found it
        return FormulationError("the formulation could not be isolated from the reply", "your reply", fix)
    return FormulationError(f"the document has none of the keys {', '.join(SECTIONS)}", "your reply",
                            "write the formulation itself, starting with `name:` and `sets:`")


def parse_reply(text: str) -> dict[str, Any]:
    """The formulation mapping in a model reply (fences, prose, reasoning, trailing commas, tabs and values that
    open with a quote and go on tolerated).

    Raises FormulationError with the YAML/JSON error line when there is none.
    """
    for candidate in _candidates(text):
        try:
            data = extract_structured(candidate, required_keys=SECTIONS)
        except FormulationError:
            continue
        if _looks_like_formulation(data):
            return data
    raise _diagnose(text)


def _candidates(text: str) -> Iterator[str]:
    """The reply as written, then with tabs expanded, then with quote-opened values quoted whole: each repair is
    made only when the readings before it failed, and only when it changes the text."""
    yield text
    expanded = _expand_tabs(text)
    if expanded != text:
        yield expanded
    closed = _quotes_closed(expanded)
    if closed != expanded:
        yield closed


# ------------------------------------------------------------------------------------------- formulator


@dataclass
class _Session:
    """One problem's conversation in progress."""

    attempt: FormulateAttempt
    messages: list[Message]
    done: bool = False
    max_tokens: int | None = None  # raised after a reply was cut off at the length limit


@dataclass
class ReplyOutcome:
    """How one reply fared: ``ok`` with a checked formulation, or the stage that failed and its errors."""

    status: str
    errors: list[str]
    formulation: Formulation | None = None
    warnings: list[str] | None = None




class LLMFormulator:
    """Turn problem text into a checked Formulation with a chat model, repairing errors in conversation."""

    name = "llm"

    def __init__(self, model: ChatModel, *, k_examples: int = 3, max_repairs: int = 2, temperature: float = 0.0,
                 structured: bool = False, max_tokens: int | None = None,
                 library: str | Path | Sequence[Example] | None = None, data_dir: str | Path | None = None) -> None:
        self.model = model
        self.data_dir = data_dir  # the folder the model's `file:` tables may come from (none when None)
        self.k_examples = k_examples
        self.max_repairs = max(0, max_repairs)
        self.temperature = temperature
        self.structured = structured
        self.max_tokens = max_tokens
        self.library = library

    # -- prompt ------------------------------------------------------------------------------------

    def examples_for(self, problem_text: str) -> list[Example]:
        """The few-shot examples chosen for this problem."""
        if self.k_examples <= 0:
            return []
        return select_examples(problem_text, self.k_examples, self.library)

    def build_messages(self, problem_text: str) -> list[Message]:
        """System prompt, few-shot turns and the problem."""
        return build_messages(problem_text, self.examples_for(problem_text), self.structured)

    # -- public ------------------------------------------------------------------------------------

    def formulate(self, problem_text: str, problem_id: str | None = None) -> FormulateAttempt:
        """Formulate one problem: up to ``1 + max_repairs`` rounds."""
        session = self._start(problem_text, problem_id)
        while not session.done:
            try:
                response: ChatResponse | None = self.model.chat(self._request(session))
                error: Exception | None = None
            except FormulateError as exc:
                response, error = None, exc
            self._absorb(session, response, error)
        return session.attempt

    def formulate_many(self, texts: Sequence[str], problem_ids: Sequence[str | None] | None = None
                       ) -> list[FormulateAttempt]:
        """Formulate several problems; each round's requests go to ``model.chat_many`` together."""
        ids = list(problem_ids) if problem_ids is not None else [None] * len(texts)
        if len(ids) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(ids)} problem ids")
        sessions = [self._start(text, pid) for text, pid in zip(texts, ids, strict=True)]
        while active := [s for s in sessions if not s.done]:
            results = self._chat_many([self._request(s) for s in active])
            for session, (response, error) in zip(active, results, strict=True):
                self._absorb(session, response, error)
        return [s.attempt for s in sessions]

    # -- one step at a time (the verifier's loop drives these) ----------------------------------------

    def start_messages(self, problem_text: str) -> tuple[list[Message], list[str]]:
        """The first-round conversation and the names of the examples in it."""
        examples = self.examples_for(problem_text)
        return build_messages(problem_text, examples, self.structured), [e.name for e in examples]

    def request_for(self, messages: list[Message], problem_text: str, problem_id: str | None = None, *,
                    n: int = 1, temperature: float | None = None, seed: int | None = None) -> ChatRequest:
        """A chat request for ``messages`` (``n`` completions; the replay backend keys on the problem text)."""
        return ChatRequest(messages=list(messages), n=n,
                           temperature=self.temperature if temperature is None else temperature,
                           max_tokens=self.max_tokens, json_schema=list_schema() if self.structured else None,
                           seed=seed, problem_id=problem_id, extra={"problem_text": problem_text})

    def read_reply(self, reply: str, problem_text: str) -> ReplyOutcome:
        """Parse, validate and check one reply (no model call)."""
        return self._evaluate(reply, problem_text)

    def repair_text(self, outcome: ReplyOutcome, truncated: bool = False) -> str:
        """The message asking the model to fix a reply that did not parse or check."""
        return repair_message(outcome.status, outcome.errors, self.structured, truncated=truncated)

    # -- rounds ------------------------------------------------------------------------------------

    def _start(self, problem_text: str, problem_id: str | None) -> _Session:
        attempt = FormulateAttempt(problem_text=problem_text, problem_id=problem_id,
                                   formulator=self.name + ("-structured" if self.structured else ""),
                                   model=self.model.spec)
        examples = self.examples_for(problem_text)
        attempt.extra["examples"] = [e.name for e in examples]
        messages = build_messages(problem_text, examples, self.structured)
        attempt.messages = messages
        return _Session(attempt, messages)

    def _request(self, session: _Session) -> ChatRequest:
        attempt = session.attempt
        return ChatRequest(messages=list(session.messages), temperature=self.temperature,
                           max_tokens=session.max_tokens or self.max_tokens, json_schema=list_schema() if self.structured else None,
                           problem_id=attempt.problem_id, extra={"problem_text": attempt.problem_text})

    def _chat_many(self, requests: list[ChatRequest]) -> list[tuple[ChatResponse | None, Exception | None]]:
        """Batch when the backend batches; isolate failures per request otherwise or when the batch fails."""
        if len(requests) > 1 and type(self.model).chat_many is not ChatModel.chat_many:
            try:
                return [(r, None) for r in self.model.chat_many(requests)]
            except FormulateError as exc:
                log.warning("%s: batched request failed (%s); asking one at a time", self.model.spec, exc)
        results: list[tuple[ChatResponse | None, Exception | None]] = []
        for request in requests:
            try:
                results.append((self.model.chat(request), None))
            except FormulateError as exc:
                results.append((None, exc))
        return results

    def _absorb(self, session: _Session, response: ChatResponse | None, error: Exception | None) -> None:
        """Record one round; finish the session or append the repair message."""
        attempt = session.attempt
        if response is None:
            attempt.history.append(RoundRecord("", "model_error", [str(error)]))
            attempt.status = "model_error"
            session.done = True
            log.warning("%s: model error: %s", attempt.problem_id or "problem", error)
            return
        completion = response.completions[0] if response.completions else None
        reply = completion.text if completion is not None else ""
        finish = completion.finish_reason if completion is not None else "stop"
        outcome = self._evaluate(reply, attempt.problem_text)
        if finish == "length" and outcome.status != "ok":  # say so first, and give the next round more room
            used = session.max_tokens or self.max_tokens
            outcome.errors = [truncation_note(used), *outcome.errors]
            session.max_tokens = raised_max_tokens(used, (response.usage or Usage()).completion_tokens)
        attempt.history.append(RoundRecord(reply, outcome.status, outcome.errors, response.usage or Usage(),
                                           float(response.latency_s or 0.0), finish))
        session.messages.append({"role": "assistant", "content": reply})
        attempt.status = outcome.status
        attempt.warnings = list(outcome.warnings or [])
        if outcome.formulation is not None:
            attempt.draft = outcome.formulation
        if outcome.status == "ok":
            attempt.formulation = outcome.formulation
            session.done = True
        elif attempt.rounds > self.max_repairs:
            session.done = True
            log.info("%s: %s after %d rounds", attempt.problem_id or "problem", outcome.status, attempt.rounds)
        else:
            session.messages.append({"role": "user", "content": repair_message(
                outcome.status, outcome.errors, self.structured, truncated=finish == "length")})

    def _evaluate(self, reply: str, problem_text: str) -> ReplyOutcome:
        """Parse, validate and check one reply."""
        try:
            data = parse_reply(reply)
        except FormulationError as exc:
            return ReplyOutcome("parse_error", [str(exc)])
        try:
            formulation = formulation_from_data(from_list_shape(data), "formulation")
        except FormulationError as exc:
            return ReplyOutcome("schema_error", [str(exc)])
        self._stamp(formulation, problem_text)
        from formulate.api import check

        try:
            report = check(formulation)
        except FormulateError as exc:
            return ReplyOutcome("check_error", [str(exc)], formulation)
        except Exception as exc:  # a crash in the checker is not the model's fault, but the round cannot pass
            log.exception("check crashed on a model's formulation")
            return ReplyOutcome("check_error", [f"internal error while checking: {type(exc).__name__}: {exc}"],
                            formulation)
        if report.errors:
            return ReplyOutcome("check_error", [str(e) for e in report.errors], formulation, report.warnings)
        return ReplyOutcome("ok", [], formulation, report.warnings)

    def _stamp(self, formulation: Formulation, problem_text: str) -> None:
        """Keep the source text and say who wrote the formulation; a claimed answer is not an expected one."""
        formulation.problem = problem_text
        if self.data_dir is not None:
            with_data_dir(formulation, self.data_dir)
        meta = formulation.meta
        if "expected_objective" in meta:
            meta["claimed_objective"] = meta.pop("expected_objective")
        meta["formulator"] = self.name + ("-structured" if self.structured else "")
        meta["model"] = self.model.spec
