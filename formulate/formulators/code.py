"""Code mode: the model writes a complete solver script (gurobipy / pulp / pyomo), the sandbox runs it.

This is how the field's fine-tuned models answer (ORLM, SIRL, OptMATH, LLMOPT). The script runs in
:func:`formulate.verify.sandbox.run_script`, never in this process; its printed status and objective
are read by :func:`parse_objective`, and failures become a message the model can act on
(:func:`feedback_message`).
"""

from __future__ import annotations

import logging
import math
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from formulate.formulators.extract import extract_python
from formulate.llm.base import ChatModel, ChatRequest, Message, Usage, raised_max_tokens, truncation_note
from formulate.verify.sandbox import (
    DEFAULT_MEMORY_MB,
    SandboxError,
    SandboxResult,
    refusal_message,
    run_script,
    sandbox_status,
)

log = logging.getLogger(__name__)

SYSTEM_PROMPT = """You are an expert in operations research and mathematical optimization.
Read the optimization problem, formulate it as a mathematical model, and write ONE complete, runnable
Python script that builds and solves it with gurobipy (pulp or pyomo are fine too).

Rules for the script:
- Put the whole script in a single ```python fenced block; it runs as is, with no input and no files.
- Use only the standard library, the solver package and numpy.
- Choose variable types carefully: counts of people, vehicles, items and similar are integers.
- After solving, print the solver status and the optimal objective value exactly like this:
  print("Status:", <status name>)
  print("Optimal objective value:", <objective value>)
  If the model is infeasible or unbounded, print that instead of an objective value.
"""

#: Statuses of a :class:`CodeAttempt` (and of :func:`parse_objective`, which never says error/timeout).
STATUSES = (
    "optimal",  # an objective was printed and nothing said otherwise
    "feasible",  # an objective was printed, but the solver stopped early (time limit, suboptimal)
    "infeasible",
    "unbounded",
    "infeasible_or_unbounded",
    "error",  # no code, the script failed, or it ran out of memory
    "timeout",  # wall-clock or CPU-time limit
    "no_objective",  # the script ran but printed no objective value
)

_TAIL_CHARS = 4000


@dataclass
class CodeAttempt:
    """One code-mode attempt: the reply, the script, what it printed and what that means."""

    code: str | None
    status: str
    objective: float | None = None
    stdout: str = ""  # tail
    stderr: str = ""  # tail
    error: str | None = None  # traceback summary (last exception line + the script line) or other failure
    reply: str = ""
    returncode: int | None = None
    killed_reason: str | None = None
    contained: bool | None = None
    wall_s: float = 0.0
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    timeout_s: float = 0.0
    memory_mb: int | None = None
    finish_reason: str = "stop"  # "length": the reply was cut off at the token limit
    max_tokens: int | None = None  # what the request allowed

    @property
    def ok(self) -> bool:
        """True when the script reported an objective value."""
        return self.status in ("optimal", "feasible") and self.objective is not None


class CodeFormulator:
    """Ask a chat model for a solver script, run it in the sandbox and read its answer.

    Fails closed: when the sandbox cannot be contained here, construction raises :class:`SandboxError`
    (one line: why, and what is needed) unless ``unsafe_no_sandbox`` is set, which runs the scripts with
    resource limits only.
    """

    def __init__(
        self,
        model: ChatModel,
        *,
        timeout_s: float = 60,
        system_prompt: str = SYSTEM_PROMPT,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        memory_mb: int | None = DEFAULT_MEMORY_MB,
        sandbox_options: dict[str, Any] | None = None,
        unsafe_no_sandbox: bool = False,
    ) -> None:
        self.model = model
        self.timeout_s = timeout_s
        self.system_prompt = system_prompt
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.memory_mb = memory_mb
        self.sandbox_options = dict(sandbox_options or {})
        self.sandbox_options.setdefault("unsafe_no_sandbox", unsafe_no_sandbox)
        if not self.sandbox_options["unsafe_no_sandbox"]:
            require_sandbox(self.sandbox_options)

    def messages(self, problem_text: str) -> list[Message]:
        """The first-round conversation for a problem."""
        return [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": problem_text.strip()},
        ]

    def request(
        self,
        messages: list[Message],
        problem_text: str,
        problem_id: str | None = None,
        max_tokens: int | None = None,
    ) -> ChatRequest:
        """A chat request carrying the problem text and id (the replay backend keys on them)."""
        return ChatRequest(
            messages=messages,
            temperature=self.temperature,
            max_tokens=max_tokens or self.max_tokens,
            problem_id=problem_id,
            extra={"problem_text": problem_text, "problem_id": problem_id, "mode": "code"},
        )

    def formulate(self, problem_text: str, problem_id: str | None = None) -> CodeAttempt:
        """One round: prompt the model, run the script it writes, read the objective."""
        return self._ask(self.messages(problem_text), problem_text, problem_id)

    def revise(self, problem_text: str, previous: CodeAttempt, problem_id: str | None = None) -> CodeAttempt:
        """A follow-up round: show the model its previous reply and what went wrong, and run the new script."""
        messages = [
            *self.messages(problem_text),
            {"role": "assistant", "content": previous.reply},
            {"role": "user", "content": feedback_message(previous)},
        ]
        more = None
        if previous.finish_reason == "length":  # a cut-off reply gets more room in the next round
            more = raised_max_tokens(previous.max_tokens, previous.usage.completion_tokens)
        return self._ask(messages, problem_text, problem_id, more)

    def run_reply(self, reply_text: str) -> CodeAttempt:
        """Run a reply with this formulator's sandbox settings."""
        return run_code_reply(
            reply_text, timeout_s=self.timeout_s, memory_mb=self.memory_mb, **self.sandbox_options
        )

    def _ask(
        self, messages: list[Message], problem_text: str, problem_id: str | None, max_tokens: int | None = None
    ) -> CodeAttempt:
        request = self.request(messages, problem_text, problem_id, max_tokens)
        response = self.model.chat(request)
        attempt = self.run_reply(response.text)
        attempt.usage = response.usage
        attempt.latency_s = response.latency_s
        attempt.max_tokens = request.max_tokens
        attempt.finish_reason = response.completions[0].finish_reason if response.completions else "stop"
        if attempt.finish_reason == "length" and not attempt.ok:
            note = truncation_note(request.max_tokens)
            attempt.error = f"{note}: {attempt.error}" if attempt.error else note
        log.info(
            "code attempt%s: %s objective=%s (script %.2fs, model %.2fs)",
            f" for {problem_id}" if problem_id else "",
            attempt.status,
            attempt.objective,
            attempt.wall_s,
            attempt.latency_s,
        )
        return attempt


def require_sandbox(options: dict[str, Any] | None = None) -> None:
    """Raise :class:`SandboxError` (one line) when the contained sandbox cannot be built here."""
    options = options or {}
    if options.get("isolate", True):
        contained, why = sandbox_status(options.get("python") or sys.executable)
    else:
        contained, why = False, "isolation disabled by the caller"
    if not contained:
        raise SandboxError(refusal_message(why), why)


def run_code_reply(
    reply_text: str, *, timeout_s: float = 60, memory_mb: int | None = DEFAULT_MEMORY_MB, **sandbox: Any
) -> CodeAttempt:
    """Extract the script from a model reply, run it in the sandbox and read its result (no model needed)."""
    code = extract_python(reply_text)
    if code is None:
        return CodeAttempt(
            code=None,
            status="error",
            error="the reply contains no Python script",
            reply=reply_text,
            timeout_s=timeout_s,
            memory_mb=memory_mb,
        )
    result = run_script(code, timeout_s=timeout_s, memory_mb=memory_mb, **sandbox)
    return attempt_from_result(code, result, reply=reply_text, timeout_s=timeout_s, memory_mb=memory_mb)


def attempt_from_result(
    code: str,
    result: SandboxResult,
    *,
    reply: str = "",
    timeout_s: float = 0.0,
    memory_mb: int | None = None,
) -> CodeAttempt:
    """Interpret a sandbox run of ``code``."""
    status, objective = parse_objective(result.stdout)
    error = traceback_summary(result.stderr, code) if result.returncode != 0 else None
    if result.killed_reason in ("timeout", "cpu"):
        status, objective = "timeout", None
        limit = "wall-clock" if result.killed_reason == "timeout" else "CPU-time"
        error = f"the script was stopped by the {limit} limit after {result.wall_s:.1f} s"
    elif result.killed_reason == "memory":
        status, objective = "error", None
        error = f"the script ran out of memory (limit {memory_mb} MB): {error or 'killed'}"
    elif result.killed_reason == "signal":
        status, objective = "error", None
        error = f"the script was killed by signal {-result.returncode}" + (f": {error}" if error else "")
    elif result.returncode != 0 and status == "no_objective":
        status = "error"
    # a non-zero exit after the objective was printed (e.g. a crash while printing the solution)
    # keeps the objective; the error is kept too.
    return CodeAttempt(
        code=code,
        status=status,
        objective=objective,
        stdout=_tail(result.stdout),
        stderr=_tail(result.stderr),
        error=error,
        reply=reply,
        returncode=result.returncode,
        killed_reason=result.killed_reason,
        contained=result.contained,
        wall_s=result.wall_s,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
    )


# --------------------------------------------------------------------------------------- reading the output

_NUMBER = (
    r"[-+]?\s?\$?\s?[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?|[-+]?\$?\.\d+(?:[eE][-+]?\d+)?"
)
_NUMBER_RE = re.compile(rf"(?<![\w.])(?:{_NUMBER})(?![\w])")
_BARE_NUMBER = re.compile(rf"^\s*\(?\s*(?:{_NUMBER})\s*\)?\s*$")
_OBJ_LABEL = re.compile(r"\bobj(?:ective)?(?:[ _]?(?:val(?:ue)?|fun(?:ction)?))?\b", re.IGNORECASE)
# words between the objective label and its number that mean it is not the final objective
_OBJ_GAP_BAD = re.compile(
    r"range|coefficient|bound|cutoff|gap|toleran|statistic|constant|term|weight|sense|\[|row|column|nonzero",
    re.IGNORECASE,
)
_OBJ_LINE_BAD = re.compile(
    r"heuristic|relaxation|continuous|root |incumbent|found solution|cutoff|improved|objective range",
    re.IGNORECASE,
)
_VALUE_LABEL = re.compile(
    r"\b(?:optimal|optimum|minimum|minimized|minimised|maximum|maximized|maximised|min|max|total|best|"
    r"lowest|highest|least|final)\b",
    re.IGNORECASE,
)
_VALUE_WORD = re.compile(
    r"\b(?:value|cost|costs|profit|profits|revenue|income|earnings|return|distance|time|price|expense|"
    r"expenses|spend|spending|loss|penalty|waste|utility|benefit|score|amount|solution)\b",
    re.IGNORECASE,
)
# banner and log lines that carry numbers but never the answer
_NOISE = re.compile(
    r"restricted license|academic license|license|licence|set parameter|gurobi optimizer version|"
    r"^\s*cpu model|thread count|^\s*optimize a model|model fingerprint|^\s*(matrix|objective|bounds|rhs) range|"
    r"presolve|explored \d+ nodes|solution count|variable types|coefficient statistics|welcome to the cbc|"
    r"^\s*version:|build date|command line|^\s*cbc\d+|^\s*clp\d+|^\s*cgl\d+|running highs|copyright|"
    r"scip version|lp solver|^\s*expressions interpreter|^\s*Using license file",
    re.IGNORECASE,
)
_STATUS_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "infeasible_or_unbounded",
        re.compile(
            r"infeasible[\s_]*or[\s_]*unbounded|inf_or_unbd|infeasibleorunbounded|dual infeasible", re.I
        ),
    ),
    (
        "infeasible",
        re.compile(
            r"\b(?:model|problem|lp|mip|milp|program|status|condition|relaxation|result|it)\b\W+(?:\w+\W+){0,3}?"
            r"infeasible\b|^\W*infeasible\W*(?:model|problem|solution)?\W*$|\binfeasible (?:model|problem)\b"
            r"|\bno feasible solution\b",
            re.I,
        ),
    ),
    (
        "unbounded",
        re.compile(
            r"\b(?:model|problem|lp|mip|milp|program|status|condition|result|it|objective)\b\W+(?:\w+\W+){0,3}?"
            r"unbounded\b|^\W*unbounded\W*(?:model|problem|solution)?\W*$|\bunbounded (?:model|problem)\b",
            re.I,
        ),
    ),
    (
        "no_solution",
        re.compile(
            r"\bno (?:optimal |best )?solution\b(?! count)|\b(?:could|did) not find (?:an? )?(?:optimal |feasible )?"
            r"solution\b|\bnot solved\b|\bnot optimal\b|\bno solution (?:was )?found\b",
            re.I,
        ),
    ),
    (
        "feasible",
        re.compile(
            r"time limit (?:reached|exceeded|hit)|\btime_limit\b|\bmaxtimelimit\b|stopped on time|\bsuboptimal\b"
            r"|\bstatus\W+(?:\w+\W+)?feasible\b",
            re.I,
        ),
    ),
    (
        "optimal",
        re.compile(
            r"\boptimal solution found\b|\bstatus\W+(?:\w+\W+)?optimal\b|^\W*optimal\W*$|\bproven optimal\b",
            re.I,
        ),
    ),
]


def parse_number(text: str) -> float | None:
    """``"$1,234.50"`` -> 1234.5; None when ``text`` holds no number."""
    m = _NUMBER_RE.search(text)
    if m is None:
        return None
    raw = m.group(0).replace(",", "").replace("$", "").replace(" ", "")
    raw = raw.replace("+-", "-").replace("-+", "-").replace("--", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_objective(stdout: str) -> tuple[str, float | None]:
    """Read the status and the objective value a solver script printed.

    The objective comes from, in order of preference: the last line labelled ``objective`` (``Optimal
    objective value: 123.4``, ``Objective Value: 1.2e3``, Gurobi's ``Best objective 1.0e+02`` /
    ``Optimal objective 1.0e+02``), the last line with an optimum-like label and a value-like word
    (``Total cost = 42``, ``Optimal value: 7``, ``Maximum profit: $1,234``), the last other optimum-like
    label, and finally the last number alone on a line (``print(model.objVal)``). Licence banners and
    solver log lines are skipped. The status is the last one the output states (``Status: Optimal``,
    ``Model is infeasible``, ``INFEASIBLE``, ``No optimal solution found`` -> infeasible); an explicit
    infeasible/unbounded statement wins over a printed number (PuLP prints ``value(prob.objective)``
    even for infeasible models). Returns ``(status, objective)`` with status one of ``optimal``,
    ``feasible``, ``infeasible``, ``unbounded``, ``infeasible_or_unbounded`` or ``no_objective``.
    """
    tiers: list[float | None] = [None, None, None, None]
    status_seen: str | None = None
    for line in stdout.splitlines():
        text = line.strip()
        if not text:
            continue
        for name, pattern in _STATUS_PATTERNS:
            if pattern.search(text):
                status_seen = name
                break
        if _NOISE.search(text) and not re.search(
            r"best objective|optimal objective|objective value", text, re.I
        ):
            continue
        tier, value = _objective_in_line(text)
        if value is not None:
            tiers[tier] = value
    objective = next((v for v in tiers if v is not None), None)
    if status_seen in ("infeasible", "unbounded", "infeasible_or_unbounded"):
        return status_seen, None
    if status_seen == "no_solution":
        return ("infeasible", None) if objective is None else ("feasible", objective)
    if objective is None:
        return "no_objective", None
    return ("feasible" if status_seen == "feasible" else "optimal"), objective


def _objective_in_line(text: str) -> tuple[int, float | None]:
    """(tier, value) of an objective-looking line; tier 0 is the most explicit."""
    if not _OBJ_LINE_BAD.search(text):
        for m in _OBJ_LABEL.finditer(text):
            rest = text[m.end() :]
            num = _NUMBER_RE.search(rest)
            if num is None:
                continue
            gap = rest[: num.start()]
            if len(gap) <= 40 and not re.search(r"\d", gap) and not _OBJ_GAP_BAD.search(gap):
                value = parse_number(num.group(0))
                if value is not None:
                    return 0, value
    label = _VALUE_LABEL.search(text)
    if label is not None:
        sep = re.search(r"[:=]|\bis\b|\bof\b", text[label.end() :])
        if sep is not None:
            head = text[: label.end() + sep.start()]
            rest = text[label.end() + sep.end() :]
            num = _NUMBER_RE.search(rest)
            if num is not None and len(rest[: num.start()].strip(" $:=")) <= 3:
                value = parse_number(num.group(0))
                if value is not None:
                    return (1 if _VALUE_WORD.search(head) else 2), value
    if _BARE_NUMBER.match(text):
        return 3, parse_number(text)
    return 3, None


# ---------------------------------------------------------------------------------------------- feedback

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')


def traceback_summary(stderr: str, code: str | None = None) -> str | None:
    """``line 12: `m.addConstr(x[i] <= cap)` -> KeyError: 3`` from a Python traceback (None if no error)."""
    lines = [line.rstrip() for line in stderr.strip().splitlines()]
    if not lines:
        return None
    exc = next(
        (
            line
            for line in reversed(lines)
            if line
            and not line[0].isspace()
            and not line.startswith(("Traceback", "During handling", "The above"))
        ),
        lines[-1].strip(),
    )
    where = None
    for i, line in enumerate(lines):
        m = _FRAME.match(line)
        if m and m.group("file").endswith("script.py"):
            lineno = int(m.group("line"))
            source = _script_line(code, lineno)
            if source is None and i + 1 < len(lines) and not _FRAME.match(lines[i + 1]):
                source = lines[i + 1].strip()
            where = f"line {lineno}" + (f": `{source}`" if source else "")
    return f"{where} -> {exc}" if where else exc


def _script_line(code: str | None, lineno: int) -> str | None:
    if not code:
        return None
    src = code.splitlines()
    return src[lineno - 1].strip() if 0 < lineno <= len(src) else None


def feedback_message(attempt: CodeAttempt) -> str:
    """Tell the model what went wrong with its script, in a form it can act on ("" when nothing did)."""
    again = "Reply with the complete corrected script in one ```python block."
    if attempt.finish_reason == "length" and not attempt.ok:
        return (
            "Your reply was cut off at the length limit before the script was complete. Write a shorter "
            "reply: no explanations, only the complete script in one ```python block."
        )
    if attempt.code is None:
        return (
            "Your reply contained no Python script. Write one complete, runnable Python script that builds "
            "and solves the model and prints `Optimal objective value: <number>`, in one ```python block."
        )
    if attempt.status == "timeout":
        return (
            f"Your script did not finish: {attempt.error}. Check for endless loops and for a model far larger "
            f"than the problem needs; it must finish within {attempt.timeout_s:g} s. {again}"
        )
    if attempt.status == "error":
        parts = [f"Your script failed: {attempt.error or 'it exited with an error'}."]
        if attempt.error and "size-limited license" in attempt.error:
            parts.append(
                "The Gurobi licence here is size-limited (2000 variables and 2000 constraints); "
                "use a smaller model or write it with pulp instead."
            )
        if attempt.stderr:
            parts.append("The end of its error output:\n```\n" + _tail(attempt.stderr, 1500) + "\n```")
        parts.append(again)
        return "\n".join(parts)
    if attempt.status == "no_objective":
        shown = _tail(attempt.stdout, 1500)
        seen = f"\nIt printed:\n```\n{shown}\n```" if shown.strip() else " It printed nothing."
        return (
            "The script ran but printed no objective value; print it as `Optimal objective value: <number>` "
            f"(and `Status: <status>`).{seen}\n{again}"
        )
    if attempt.status in ("infeasible", "unbounded", "infeasible_or_unbounded"):
        what = attempt.status.replace("_", " ")
        hint = (
            "check constraint directions, right-hand sides, units and bounds against the problem text"
            if "infeasible" in attempt.status
            else "check that every variable that the objective rewards is limited by a constraint, "
            "and the objective sense"
        )
        return (
            f"The solver reported that your model is {what}. Unless the problem really is {what}, {hint}. "
            f"{again}"
        )
    if attempt.error:  # an objective was printed, but the script then failed
        return f"The script printed an objective value but then failed: {attempt.error}. {again}"
    return ""


def _tail(text: str, limit: int = _TAIL_CHARS) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]
