"""What the runner needs from a formulator, and one view over every attempt shape.

A formulator is anything with ``formulate(text, problem_id) -> attempt`` (or such a callable). The
attempt may be a ``FormulateAttempt`` (IR mode), a ``CodeAttempt`` (code mode, carries the objective),
a ``RulesResult`` or a plain dict; :func:`view_attempt` reads them all into :class:`AttemptView`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from formulate.errors import FormulateError


@runtime_checkable
class Formulator(Protocol):
    """Text -> attempt."""

    def formulate(self, text: str, problem_id: str | None = None) -> Any: ...


FormulateFn = Callable[[str, str | None], Any]


@dataclass
class AttemptView:
    """The parts of an attempt the evaluation log keeps."""

    status: str
    formulation: Any = None  # a Formulation
    objective: float | None = None  # code mode: what the script printed
    code: str | None = None
    code_status: str | None = None  # code mode: optimal, feasible, infeasible, ..., error, timeout, no_objective
    replies: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    try:
        return getattr(obj, name, default)
    except Exception:  # properties of foreign attempt types may raise
        return default


def _tokens(obj: Any) -> tuple[int, int]:
    usage = _get(obj, "usage")
    if usage is None:
        tokens = _get(obj, "tokens") or {}
        return int(_get(tokens, "prompt", 0) or 0), int(_get(tokens, "completion", 0) or 0)
    return int(_get(usage, "prompt_tokens", 0) or 0), int(_get(usage, "completion_tokens", 0) or 0)


def _error_line(obj: Any, extra: dict[str, Any]) -> str | None:
    """Why the attempt failed, in one line (None for a clean attempt)."""
    method = _get(obj, "error_line")
    if callable(method):
        line = method()
        return str(line) if line else None
    if extra.get("error"):
        return str(extra["error"])
    if _get(obj, "status") not in (None, "ok") and hasattr(obj, "last_errors"):
        try:
            from formulate.formulators.dispatch import error_line
        except ImportError:
            pass
        else:
            return error_line(obj)
    for name in ("error", "reason"):
        value = _get(obj, name)
        if value:
            return str(value)
    last = _get(obj, "last_errors")
    if last:
        return "; ".join(str(e) for e in last)
    return None


def _formulation(value: Any) -> Any:
    if value is None or hasattr(value, "model_dump"):
        return value
    from formulate.api import as_formulation
    from formulate.ir.io import formulation_from_data

    return formulation_from_data(value) if isinstance(value, dict) else as_formulation(str(value))


def view_attempt(attempt: Any) -> AttemptView:
    """Read any attempt shape (dataclass, pydantic, dict) into an AttemptView."""
    formulation = _formulation(_get(attempt, "formulation"))
    extra = _get(attempt, "extra") or {}
    code = _get(attempt, "code", extra.get("code"))
    status = _get(attempt, "status")
    code_status = extra.get("code_status") or (status if hasattr(attempt, "code") else None)
    if status is None:  # RulesResult: a formulation or a refusal
        status = "ok" if formulation is not None else "refused"
    replies = _get(attempt, "replies")
    if replies is None:
        reply = _get(attempt, "reply")
        replies = [reply] if reply else []
    prompt, completion = _tokens(attempt)
    objective = _get(attempt, "objective", extra.get("objective"))
    info: dict[str, Any] = {}
    for name in ("formulator", "model", "rounds", "confidence", "warnings", "errors"):
        value = _get(attempt, name, extra.get(name))
        if name == "errors" and isinstance(value, list) and not any(value):
            continue
        if value not in (None, "", []):
            info[name] = list(value) if isinstance(value, list | tuple) else value
    for name in ("examples", "code_status", "reason"):
        if extra.get(name) not in (None, "", []):
            info[name] = extra[name]
    return AttemptView(
        status=str(status), formulation=formulation,
        objective=float(objective) if isinstance(objective, int | float) else None,
        code=code if isinstance(code, str) else None, code_status=code_status,
        replies=[str(r) for r in replies],
        messages=list(_get(attempt, "messages") or []), prompt_tokens=prompt, completion_tokens=completion,
        error=_error_line(attempt, extra), info=info)


class _RulesAdapter:
    """The offline rules formulator behind the runner's formulate(text, problem_id) call."""

    name = "rules"

    def formulate(self, text: str, problem_id: str | None = None) -> Any:
        from formulate.formulators.offline import formulate_rules

        return formulate_rules(text)


def _dispatch() -> Callable[..., Any] | None:
    try:
        from formulate.formulators.dispatch import formulator_for
    except ImportError:
        try:
            from formulate.formulators import formulator_for  # type: ignore[attr-defined,no-redef]
        except ImportError:
            return None
    return formulator_for


def make_formulator(spec: str, mode: str = "ir", **opts: Any) -> Formulator:
    """The formulator for a model spec (``rules``, ``openai:...``, ``hf:...``, ``replay:...``) and mode.

    Uses ``formulate.formulators.dispatch.formulator_for`` when present; otherwise builds the rules,
    LLM (IR) or code formulator itself.
    """
    if mode not in ("ir", "code"):
        raise FormulateError(f"unknown mode `{mode}`; use ir (structured formulation) or code (model writes a script)")
    dispatch = _dispatch()
    if dispatch is not None:
        return dispatch(spec, mode=mode, **opts)
    if spec == "rules":
        if mode == "code":
            raise FormulateError("the rules formulator writes formulations, not scripts; use --mode ir")
        return _RulesAdapter()
    from formulate.llm import load_model

    model_keys = ("base_url", "api_key", "use_cache", "cache_dir", "timeout", "max_retries", "concurrency")
    model = load_model(spec, **{k: v for k, v in opts.items() if k in model_keys and v is not None})
    if mode == "code":
        from formulate.formulators.code import CodeFormulator

        return CodeFormulator(model)
    from formulate.formulators.llm import LLMFormulator

    return LLMFormulator(model)


@dataclass(frozen=True)
class FormulatorSpec:
    """How to build a formulator (``make_formulator`` arguments): sent to Ray workers, built once in each."""

    model: str
    mode: str = "ir"
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, model: str, mode: str = "ir", **options: Any) -> FormulatorSpec:
        """A spec with the options that are set (None values dropped)."""
        return cls(model, mode, tuple(sorted((k, v) for k, v in options.items() if v is not None)))

    @property
    def endpoint(self) -> str:
        """Where model calls go (a server URL, or the spec): one cluster-wide rate limiter each."""
        return str(dict(self.options).get("base_url") or self.model)

    def build(self) -> Formulator:
        """The formulator (validates the model spec and mode)."""
        return make_formulator(self.model, mode=self.mode, **dict(self.options))

    def validate(self) -> None:
        """Check the spec without building it (no weights loaded): the mode, the model spec, a replay file."""
        if self.mode not in ("ir", "code"):
            raise FormulateError(f"unknown mode `{self.mode}`; use ir (structured formulation) or code (model "
                                 "writes a script)")
        if self.model.strip().lower() == "rules":
            if self.mode == "code":
                raise FormulateError("the rules formulator writes formulations, not scripts; use --mode ir")
            return
        from pathlib import Path

        from formulate.llm.registry import parse_spec

        prefix, rest = parse_spec(self.model)
        if prefix == "replay" and not Path(rest).expanduser().is_file():
            raise FormulateError(f"replay file {rest} does not exist; record replies first or fix the path")


def as_callable(formulator: Formulator | FormulateFn) -> FormulateFn:
    """``formulator.formulate`` when it has one, else the callable itself."""
    method = getattr(formulator, "formulate", None)
    if callable(method):
        return method
    if callable(formulator):
        return formulator
    raise TypeError(f"{formulator!r} is neither a formulator nor a callable")


def close_formulator(formulator: Any) -> None:
    """Release the formulator's model (HTTP clients, weights) when it has one."""
    for target in (formulator, getattr(formulator, "model", None)):
        close = getattr(target, "close", None)
        if callable(close):
            close()
            return


__all__ = ["AttemptView", "FormulateFn", "Formulator", "FormulatorSpec", "as_callable", "close_formulator", "make_formulator",
           "view_attempt"]
