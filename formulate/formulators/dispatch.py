"""Pick a formulator from a model spec: `rules`, or a chat model in IR mode or code mode.

Every formulator returned here answers ``formulate(text, problem_id=None) -> FormulateAttempt`` so
the CLI, the verifier and the evaluation harness read one shape.
"""

from __future__ import annotations

from typing import Any, Protocol

from formulate.errors import ModelError
from formulate.formulators.attempt import FormulateAttempt, RoundRecord

#: the rules formulator answers only at or above this confidence
RULES_THRESHOLD = 0.5
MODES = ("ir", "code")


class TextFormulator(Protocol):
    """Anything that turns problem text into a FormulateAttempt."""

    def formulate(self, problem_text: str, problem_id: str | None = None) -> FormulateAttempt: ...


class RulesTextFormulator:
    """The offline rules formulator, refusing below a confidence threshold."""

    def __init__(self, threshold: float = RULES_THRESHOLD) -> None:
        self.threshold = threshold

    def formulate(self, problem_text: str, problem_id: str | None = None) -> FormulateAttempt:
        from formulate.formulators.offline import formulate_rules

        result = formulate_rules(problem_text)
        attempt = FormulateAttempt(problem_text=problem_text, problem_id=problem_id, formulator="rules",
                                   model="rules")
        attempt.extra = {"confidence": result.confidence, "reason": result.reason, "notes": list(result.notes)}
        if result.formulation is not None and result.confidence >= self.threshold:
            attempt.status = "ok"
            attempt.formulation = result.formulation
        else:
            attempt.status = "refused"
            attempt.warnings.append(result.reason)
        return attempt


class CodeTextFormulator:
    """Code mode: the model writes a solver script, run in the sandbox; failures are fed back."""

    def __init__(self, model: Any, max_repairs: int = 2, **options: Any) -> None:
        from formulate.formulators.code import CodeFormulator

        self.inner = CodeFormulator(model, **options)
        self.max_repairs = max_repairs
        self.model_spec = getattr(model, "spec", "")

    def formulate(self, problem_text: str, problem_id: str | None = None) -> FormulateAttempt:
        from formulate.formulators.code import feedback_message

        attempt = FormulateAttempt(problem_text=problem_text, problem_id=problem_id, formulator="code",
                                   model=self.model_spec)
        try:
            code = self.inner.formulate(problem_text, problem_id)
            self._record(attempt, code)
            for _ in range(self.max_repairs):
                if code.ok or code.status in ("infeasible", "unbounded"):
                    break
                code = self.inner.revise(problem_text, code, problem_id)
                self._record(attempt, code)
        except ModelError as exc:
            attempt.status = "model_error"
            attempt.warnings.append(str(exc))
            return attempt
        attempt.status = "ok" if code.ok or code.status in ("infeasible", "unbounded") else "code_error"
        attempt.extra.update({"objective": code.objective, "code_status": code.status, "code": code.code,
                              "error": code.error, "feedback": None if code.ok else feedback_message(code)})
        return attempt

    @staticmethod
    def _record(attempt: FormulateAttempt, code: Any) -> None:
        attempt.history.append(RoundRecord(reply=code.reply, status=code.status,
                                           errors=[code.error] if code.error else [], usage=code.usage,
                                           latency_s=code.latency_s))


def check_mode(spec: str, mode: str) -> None:
    """Refuse an unknown mode, and code mode with the rules formulator (it writes no scripts)."""
    if mode not in MODES:
        raise ModelError(f"unknown mode `{mode}`; use --mode ir or --mode code")
    if mode == "code" and spec.strip().lower() == "rules":
        raise ModelError("the rules formulator writes formulations, not scripts; --mode code needs a chat "
                         "model (--model openai:MODEL or hf:PATH), or use --mode ir")


def formulator_for(spec: str, mode: str = "ir", *, base_url: str | None = None, api_key: str | None = None,
                   use_cache: bool = True, timeout: float | None = None, max_retries: int | None = None,
                   unsafe_no_sandbox: bool = False, **options: Any) -> TextFormulator:
    """`rules` -> the offline formulator; any chat-model spec -> the IR (or code) formulator over it.

    ``timeout`` (seconds for a whole request) and ``max_retries`` go to the HTTP client; code mode
    refuses to start where the sandbox is unavailable unless ``unsafe_no_sandbox`` is set.
    """
    check_mode(spec, mode)
    if spec.strip().lower() == "rules":
        return RulesTextFormulator()
    from formulate.llm.registry import load_model

    client = {k: v for k, v in (("timeout", timeout), ("max_retries", max_retries)) if v is not None}
    model = load_model(spec, base_url=base_url, api_key=api_key, use_cache=use_cache, **client)
    if mode == "code":
        return CodeTextFormulator(model, unsafe_no_sandbox=unsafe_no_sandbox, **options)
    from formulate.formulators.llm import LLMFormulator

    return LLMFormulator(model, **options)


def error_line(attempt: FormulateAttempt) -> str:
    """One line saying why an attempt produced no formulation, and what to do."""
    if attempt.status == "refused":
        return attempt.warnings[-1] if attempt.warnings else "the rules formulator cannot formulate this text"
    errors = attempt.last_errors
    detail = errors[0] if errors else (attempt.warnings[-1] if attempt.warnings else attempt.status)
    return f"no usable formulation after {attempt.rounds} round(s) ({attempt.status}): {detail}"
