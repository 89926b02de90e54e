"""The self-correction loop (the only stateful part of the verifier): attempt -> solve -> verify -> feedback.

``rounds`` counts model calls per sample, parse/check repairs and verifier rounds together. A round whose
reply does not parse or check gets the repair message; one that checks is solved and verified, and its
findings go back: errors until they are fixed, warnings once, info never. The loop stops when nothing
is left to send. The best round wins (optimal and clean, then warnings, then errors; the later round on a
tie). With ``samples=k`` the first round draws k replies (``n`` completions in one request where the backend
gives them, else more requests at temperature > 0); each sample runs its own loop and the samples vote on
the objective within the scoring tolerance, ties broken by findings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from formulate.errors import FormulateError
from formulate.formulators.attempt import FormulateAttempt, RoundRecord
from formulate.llm.base import ChatResponse, Message, Usage, raised_max_tokens
from formulate.verify.feedback import feedback_message
from formulate.verify.findings import Finding, summary
from formulate.verify.readings import Reading

log = logging.getLogger(__name__)

#: sampling temperature used for k > 1 samples when the formulator's own is 0
SAMPLE_TEMPERATURE = 0.7
_STATIC_KIND = {"parse_error": "parse", "schema_error": "schema", "check_error": "check", "model_error": "model"}


@dataclass
class RoundResult:
    """One model call of one sample: the reply, what the verifier found, what was sent back, what it cost."""

    round: int  # 1-based, per sample
    sample: int  # 0-based
    reply: str
    stage: str  # ok | parse_error | schema_error | check_error | model_error | code
    findings: list[Finding] = field(default_factory=list)
    feedback: str | None = None  # the message sent back after this round
    formulation: Any = None
    solution: Any = None
    readings: list[Reading] = field(default_factory=list)
    code: Any = None  # a CodeAttempt in code mode
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    finish_reason: str = "stop"

    @property
    def tokens(self) -> dict[str, int]:
        return {"prompt": self.usage.prompt_tokens, "completion": self.usage.completion_tokens}

    @property
    def rank(self) -> int:
        """0 optimal and clean, 1 warnings or not optimal, 2 errors, 3 no formulation at all."""
        if self.formulation is None and self.objective is None:
            return 3
        if any(f.severity == "error" for f in self.findings):
            return 2
        if any(f.severity == "warning" for f in self.findings) or self.status != "optimal":
            return 1
        return 0

    @property
    def status(self) -> str | None:
        if self.solution is not None:
            return self.solution.status
        if self.code is not None:
            return {"feasible": "time_limit"}.get(self.code.status, self.code.status)
        return None

    @property
    def objective(self) -> float | None:
        if self.solution is not None:
            return self.solution.objective if self.solution.has_solution else None
        if self.code is not None and self.code.ok:
            return self.code.objective
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"round": self.round, "sample": self.sample, "stage": self.stage, "status": self.status,
                "objective": self.objective, "summary": summary(self.findings),
                "findings": [f.to_dict() for f in self.findings], "feedback": self.feedback, "reply": self.reply,
                "readings": [r.to_dict() for r in self.readings], "tokens": self.tokens,
                "seconds": round(self.seconds, 6), "finish_reason": self.finish_reason}


@dataclass
class SampleRun:
    """One sample's rounds, its best round and the attempt built from them."""

    index: int
    rounds: list[RoundResult] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @property
    def best(self) -> RoundResult | None:
        if not self.rounds:
            return None
        return min(reversed(self.rounds), key=lambda r: r.rank)


@dataclass
class VerifiedRun:
    """The loop's result: the best attempt, its solution, findings and readings, every round, and the vote."""

    problem_text: str
    best: FormulateAttempt
    best_round: RoundResult | None = None
    rounds: list[RoundResult] = field(default_factory=list)
    samples: list[SampleRun] = field(default_factory=list)
    vote: dict[str, Any] | None = None

    @property
    def formulation(self) -> Any:
        return self.best_round.formulation if self.best_round is not None else None

    @property
    def solution(self) -> Any:
        return self.best_round.solution if self.best_round is not None else None

    @property
    def findings(self) -> list[Finding]:
        return list(self.best_round.findings) if self.best_round is not None else []

    @property
    def readings(self) -> list[Reading]:
        return list(self.best_round.readings) if self.best_round is not None else []

    @property
    def objective(self) -> float | None:
        return self.best_round.objective if self.best_round is not None else None

    @property
    def status(self) -> str | None:
        return self.best_round.status if self.best_round is not None else None

    def to_dict(self) -> dict[str, Any]:
        best = self.best_round
        return {
            "status": self.status, "objective": self.objective,
            "best": {"sample": best.sample, "round": best.round} if best is not None else None,
            "solution": self.solution.to_dict() if self.solution is not None else None,
            "formulation": self.formulation.to_dict() if self.formulation is not None else None,
            "findings": [f.to_dict() for f in self.findings], "readings": [r.to_dict() for r in self.readings],
            "rounds": [r.to_dict() for r in self.rounds], "vote": self.vote, "attempt": self.best.to_dict(),
        }


RoundCallback = Callable[[RoundResult], None]


def run_verified(problem_text: str, formulator: Any, *, rounds: int = 3, samples: int = 1, solver: str | None = None,
                 time_limit: float | None = None, mip_gap: float | None = None, problem_id: str | None = None,
                 on_round: RoundCallback | None = None, readings: bool = True, send_warnings: bool = True,
                 rule: str | None = None) -> VerifiedRun:
    """Formulate, solve, verify and feed back until nothing is left to fix or ``rounds`` model calls are spent.

    ``formulator`` is an LLM (IR) formulator, a code-mode formulator, or anything with ``formulate(text,
    problem_id)`` (the rules formulator: one round, nothing to send back).
    """
    rounds = max(1, int(rounds))
    samples = max(1, int(samples))
    settings = {"solver": solver, "time_limit": time_limit, "mip_gap": mip_gap, "readings": readings}
    driver = _driver_for(formulator, settings)
    if driver is None:
        runs = [_single(problem_text, formulator, problem_id, settings, on_round)]
    else:
        runs = driver.run(problem_text, problem_id, rounds, samples, on_round, send_warnings)
    every = [r for run in runs for r in run.rounds]
    vote, winner = _vote(runs, rule) if len(runs) > 1 else (None, runs[0])
    best_round = winner.best
    attempt = _attempt(problem_text, problem_id, formulator, winner, best_round)
    return VerifiedRun(problem_text, attempt, best_round, every, runs, vote)


# --------------------------------------------------------------------------------------------- drivers


def _verify_formulation(formulation: Any, problem_text: str, settings: dict[str, Any]):
    from formulate.verify.report import verify

    return verify(formulation, problem_text, solver=settings["solver"], time_limit=settings["time_limit"],
                  mip_gap=settings["mip_gap"], readings=settings["readings"])


def _single(problem_text: str, formulator: Any, problem_id: str | None, settings: dict[str, Any],
            on_round: RoundCallback | None) -> SampleRun:
    """A formulator without a conversation (rules): one attempt, verified, nothing sent back."""
    started = time.perf_counter()
    attempt = formulator.formulate(problem_text, problem_id)
    formulation = getattr(attempt, "formulation", None)
    status = getattr(attempt, "status", "ok" if formulation is not None else "refused")
    result = RoundResult(1, 0, "", str(status))
    if formulation is not None:
        report = _verify_formulation(formulation, problem_text, settings)
        result.stage = "ok"
        result.formulation, result.solution = formulation, report.solution
        result.findings, result.readings = report.findings, report.readings
    else:
        reason = "; ".join(getattr(attempt, "warnings", None) or []) or str(status)
        result.findings = [Finding("formulate", "error", "formulator", reason, reason)]
    result.seconds = time.perf_counter() - started
    run = SampleRun(0, [result])
    run.attempt = attempt  # type: ignore[attr-defined]
    if on_round and formulation is not None:
        on_round(result)
    return run


class _Conversation:
    """Shared loop over rounds for a chat-model formulator; subclasses read replies and write feedback."""

    mode = "ir"

    def __init__(self, formulator: Any, settings: dict[str, Any]) -> None:
        self.formulator = formulator
        self.settings = settings

    # subclass hooks
    def start(self, problem_text: str) -> list[Message]: ...  # pragma: no cover - abstract
    def request(self, messages: list[Message], problem_text: str, problem_id: str | None, n: int,
                temperature: float | None, seed: int | None) -> Any: ...  # pragma: no cover - abstract
    def judge(self, result: RoundResult, problem_text: str) -> str | None: ...  # pragma: no cover - abstract

    @property
    def model(self) -> Any:
        return self.formulator.model

    @property
    def temperature(self) -> float:
        return float(getattr(self.formulator, "temperature", 0.0) or 0.0)

    @property
    def max_tokens(self) -> int | None:
        """The formulator's own ``max_tokens`` (None: the server's default)."""
        return getattr(self.formulator, "max_tokens", None)

    def run(self, problem_text: str, problem_id: str | None, rounds: int, samples: int,
            on_round: RoundCallback | None, send_warnings: bool) -> list[SampleRun]:
        base = self.start(problem_text)
        temperature = self.temperature if samples == 1 else max(self.temperature, SAMPLE_TEMPERATURE)
        first = self._draw(base, problem_text, problem_id, samples, temperature)
        runs: list[SampleRun] = []
        for index in range(samples):
            run = SampleRun(index, messages=list(base))
            runs.append(run)
            sent: set[tuple[str, str]] = set()
            max_tokens: int | None = None  # raised after a reply was cut off at the length limit
            response, error = first[index]
            for number in range(1, rounds + 1):
                if number > 1:
                    seed = index if samples > 1 else None  # samples' conversations stay apart in the cache
                    response, error = self._ask(run.messages, problem_text, problem_id, 1, temperature, seed,
                                                max_tokens=max_tokens)
                result = self._round(number, index, response, error, problem_text)
                run.rounds.append(result)
                if result.finish_reason == "length":
                    max_tokens = raised_max_tokens(max_tokens or self.max_tokens, result.usage.completion_tokens)
                if result.stage != "model_error":
                    run.messages.append({"role": "assistant", "content": result.reply})
                message = self._feedback(result, problem_text, sent, send_warnings) if number < rounds else None
                result.feedback = message
                if on_round:
                    on_round(result)
                if result.stage == "model_error" or message is None:
                    break
                run.messages.append({"role": "user", "content": message})
        return runs

    def _draw(self, messages: list[Message], problem_text: str, problem_id: str | None, k: int,
              temperature: float) -> list[tuple[Any, Exception | None]]:
        """k first replies: one request for n=k where the backend answers with k, then more requests as needed."""
        out: list[tuple[Any, Exception | None]] = []
        response, error = self._ask(messages, problem_text, problem_id, k, temperature, None)
        if error is not None or response is None:
            return [(response, error)] + [self._ask(messages, problem_text, problem_id, 1, temperature, i)
                                          for i in range(1, k)]
        shares = _split(response, k)
        out.extend((r, None) for r in shares)
        while len(out) < k:
            out.append(self._ask(messages, problem_text, problem_id, 1, temperature, len(out)))
        return out[:k]

    def _ask(self, messages: list[Message], problem_text: str, problem_id: str | None, n: int,
             temperature: float, seed: int | None, max_tokens: int | None = None) -> tuple[Any, Exception | None]:
        request = self.request(messages, problem_text, problem_id, n, temperature, seed)
        if max_tokens is not None:
            request.max_tokens = max_tokens
        try:
            return self.model.chat(request), None
        except FormulateError as exc:
            log.warning("%s: model error: %s", problem_id or "problem", exc)
            return None, exc

    def _round(self, number: int, index: int, response: Any, error: Exception | None,
               problem_text: str) -> RoundResult:
        started = time.perf_counter()
        self.repair: str | None = None
        if response is None:
            reason = str(error) if error else "no reply"
            return RoundResult(number, index, "", "model_error",
                               [Finding("model", "error", "model", reason, f"model error: {reason}")])
        completion = response.completions[0] if response.completions else None
        result = RoundResult(number, index, completion.text if completion else "", "ok",
                             usage=response.usage or Usage(),
                             finish_reason=completion.finish_reason if completion else "stop")
        self.repair = self.judge(result, problem_text)
        result.seconds = float(response.latency_s or 0.0) + (time.perf_counter() - started)
        return result

    def _feedback(self, result: RoundResult, problem_text: str, sent: set[tuple[str, str]],
                  send_warnings: bool) -> str | None:
        """The message for the next round, or None when nothing is left to send."""
        if result.stage == "model_error":
            return None
        if self.repair is not None:  # parse/check failure: the repair message
            return self.repair
        errors = [f for f in result.findings if f.severity == "error"]
        fresh = [f for f in result.findings if f.severity == "warning" and f.key not in sent] if send_warnings else []
        if not errors and not fresh:
            return None
        sent.update(f.key for f in fresh)
        return feedback_message(errors + fresh, mode=self.mode, structured=bool(getattr(self.formulator,
                                                                                          "structured", False)))


class _IRConversation(_Conversation):
    mode = "ir"

    def start(self, problem_text: str) -> list[Message]:
        messages, self.examples = self.formulator.start_messages(problem_text)
        return messages

    def request(self, messages, problem_text, problem_id, n, temperature, seed):
        return self.formulator.request_for(messages, problem_text, problem_id, n=n, temperature=temperature,
                                           seed=seed)

    def judge(self, result: RoundResult, problem_text: str) -> str | None:
        outcome = self.formulator.read_reply(result.reply, problem_text)
        if outcome.status != "ok":
            result.stage = outcome.status
            result.formulation = outcome.formulation
            kind = _STATIC_KIND.get(outcome.status, "check")
            result.findings = [Finding(kind, "error", "formulation", e, e) for e in outcome.errors]
            return self.formulator.repair_text(outcome, truncated=result.finish_reason == "length")
        report = _verify_formulation(outcome.formulation, problem_text, self.settings)
        result.formulation, result.solution = outcome.formulation, report.solution
        result.findings, result.readings = report.findings, report.readings
        return None


class _CodeConversation(_Conversation):
    mode = "code"

    @property
    def inner(self) -> Any:
        return self.formulator.inner

    @property
    def model(self) -> Any:
        return self.inner.model

    @property
    def temperature(self) -> float:
        return float(getattr(self.inner, "temperature", 0.0) or 0.0)

    @property
    def max_tokens(self) -> int | None:
        return getattr(self.inner, "max_tokens", None)

    def start(self, problem_text: str) -> list[Message]:
        return self.inner.messages(problem_text)

    def request(self, messages, problem_text, problem_id, n, temperature, seed):
        request = self.inner.request(messages, problem_text, problem_id)
        request.n, request.temperature, request.seed = n, temperature, seed
        return request

    def judge(self, result: RoundResult, problem_text: str) -> str | None:
        from formulate.verify.report import verify

        code = self.inner.run_reply(result.reply)
        result.code = code
        result.stage = "ok" if code.ok else "code_error"
        result.findings = verify(code=code).findings
        return None


def _driver_for(formulator: Any, settings: dict[str, Any]) -> _Conversation | None:
    if hasattr(formulator, "start_messages") and hasattr(formulator, "read_reply"):
        return _IRConversation(formulator, settings)
    if hasattr(formulator, "inner") and hasattr(formulator.inner, "run_reply"):
        return _CodeConversation(formulator, settings)
    return None


def _split(response: ChatResponse, k: int) -> list[ChatResponse]:
    """One response per completion (the usage goes with the first)."""
    out = []
    for i, completion in enumerate(response.completions[:k]):
        out.append(ChatResponse([completion], response.usage if i == 0 else Usage(),
                                response.latency_s if i == 0 else 0.0, response.model, response.cached))
    return out


# -------------------------------------------------------------------------------------------- voting


def _vote(runs: list[SampleRun], rule: str | None) -> tuple[dict[str, Any], SampleRun]:
    """Group the samples' best answers by objective (within the scoring rule) or status; the largest group wins."""
    from formulate.eval.scoring import get_rule

    compare = get_rule(rule)
    groups: list[dict[str, Any]] = []
    for run in runs:
        best = run.best
        objective = best.objective if best is not None else None
        status = best.status if best is not None else None
        home = None
        for group in groups:
            if objective is not None and group["objective"] is not None:
                if compare.correct(objective, "optimal", group["objective"], None, None):
                    home = group
                    break
            elif objective is None and group["objective"] is None and group["status"] == status:
                home = group
                break
        if home is None:
            home = {"objective": objective, "status": status, "samples": []}
            groups.append(home)
        home["samples"].append(run.index)

    def group_key(group: dict[str, Any]) -> tuple:
        members = [runs[i] for i in group["samples"]]
        best_rank = min((m.best.rank if m.best is not None else 4) for m in members)
        findings = min(sum(f.severity != "info" for f in m.best.findings) if m.best else 99 for m in members)
        return (-len(members), group["objective"] is None, best_rank, findings, group["samples"][0])

    groups.sort(key=group_key)
    winner_group = groups[0]
    members = [runs[i] for i in winner_group["samples"]]
    winner = min(members, key=lambda m: (m.best.rank if m.best else 4,
                                         sum(f.severity != "info" for f in m.best.findings) if m.best else 99,
                                         m.index))
    vote = {"samples": len(runs), "agree": len(winner_group["samples"]), "winner": winner.index,
            "groups": [{"objective": g["objective"], "status": g["status"], "count": len(g["samples"]),
                        "samples": g["samples"]} for g in groups],
            "rule": compare.name}
    return vote, winner


# ---------------------------------------------------------------------------------------- the attempt


def _attempt(problem_text: str, problem_id: str | None, formulator: Any, run: SampleRun,
             best: RoundResult | None) -> FormulateAttempt:
    """The winning sample as a FormulateAttempt (the shape the CLI and the evaluation log read)."""
    given = getattr(run, "attempt", None)
    if isinstance(given, FormulateAttempt) and not run.messages:
        attempt = given
    else:
        name = "code" if isinstance(formulator, object) and hasattr(formulator, "inner") else getattr(
            formulator, "name", "llm")
        model = getattr(getattr(formulator, "model", None), "spec", "") or getattr(formulator, "model_spec", "")
        attempt = FormulateAttempt(problem_text=problem_text, problem_id=problem_id, formulator=str(name),
                                   model=str(model))
        attempt.messages = list(run.messages)
        for r in run.rounds:
            attempt.history.append(RoundRecord(r.reply, r.stage, [f.for_model for f in r.findings
                                                                  if f.severity == "error"],
                                               r.usage, r.seconds, r.finish_reason))
    if best is not None and best.formulation is not None and best.stage == "ok":
        attempt.status, attempt.formulation = "ok", best.formulation
    elif best is not None and best.code is not None:
        code = best.code
        attempt.status = "ok" if code.ok or code.status in ("infeasible", "unbounded") else "code_error"
        attempt.extra.update({"objective": code.objective, "code_status": code.status, "code": code.code,
                              "error": code.error})
    elif best is not None:
        attempt.status = best.stage if best.stage != "ok" else attempt.status
        attempt.draft = best.formulation
    attempt.extra["verified_rounds"] = len(run.rounds)
    return attempt


__all__ = ["RoundResult", "SampleRun", "VerifiedRun", "run_verified"]
