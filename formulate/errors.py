"""One exception hierarchy, rooted at :class:`FormulateError`.

Every user-facing message is one sentence a person (or a model) can act on: where, what, and the fix.
"""

from __future__ import annotations

import difflib
import functools
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class FormulateError(Exception):
    """Base of every error formulate raises on purpose."""


class FormulationError(FormulateError):
    """A formulation is malformed: parse, schema, name, index or data errors.

    ``where`` names the place (``constraint `wood_limit` at p='chair'``), ``what`` the problem and
    ``fix`` what to do about it; ``str()`` joins them into one line.
    """

    def __init__(self, what: str, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.fix:
            text = f"{text}; {self.fix}"
        return text

    def at(self, where: str) -> FormulationError:
        """Return a copy located at ``where`` unless it already names a place."""
        if self.where:
            return self
        return type(self)(self.what, where, self.fix)


class FormulationErrors(FormulationError):
    """Several independent errors found in one pass (e.g. every unknown key of a file); ``errors`` lists them.

    ``str()`` puts one error on each line, so a person or a model sees them all at once.
    """

    def __init__(self, errors: list[FormulationError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.what, first.where, first.fix)

    @property
    def message(self) -> str:
        return "\n".join(e.message for e in getattr(self, "errors", [])) or super().message

    def at(self, where: str) -> FormulationError:
        return FormulationErrors([e.at(where) for e in self.errors])


def raise_all(errors: list[FormulationError]) -> None:
    """Raise nothing for no errors, the error itself for one, :class:`FormulationErrors` for several."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise FormulationErrors(errors)


class SolverError(FormulateError):
    """A solver failed in a way that is not a property of the model."""


class SolverUnavailable(SolverError):
    """A solver backend is not installed; the message carries the install command."""


class ModelError(FormulateError):
    """A chat-model backend failed (unknown spec, missing key, unreachable server)."""


class DatasetError(FormulateError):
    """A benchmark dataset could not be found, downloaded or parsed."""


def did_you_mean(name: str, options: Iterable[str]) -> str | None:
    """Return ``"did you mean `x`?"`` for the closest option, or None."""
    matches = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f"did you mean `{matches[0]}`?" if matches else None


class LimitError(FormulationError):
    """Input exceeds a size, depth or count limit (settable in :mod:`formulate.ir.limits`)."""


class DataFileError(FormulationError):
    """A `file:` table may not be read: outside the allowed folder, not a regular file, too big or malformed.

    Its message names the path and what was wrong, never the file's content.
    """


class NumberError(FormulationError):
    """A number is infinite, NaN, too large, or a boolean where a number belongs."""


class InternalError(FormulateError):
    """An unexpected exception inside formulate (a bug): the message asks for a report."""


def guard_internal(what: str) -> Callable[[F], F]:
    """Decorator of last resort: an unexpected exception becomes one InternalError line asking for a report.

    Root causes are fixed where they arise; this only keeps a bug from ending in a bare traceback.
    The line names the exception type and where it happened, never its message (which could quote data).
    """

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except (FormulateError, MemoryError):  # running out of memory under a limit is not a bug
                raise
            except Exception as exc:
                frames = traceback.extract_tb(exc.__traceback__)
                place = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
                raise InternalError(f"internal error while {what}: {type(exc).__name__}{place}; this is a bug in "
                                    "formulate, please report it with the input that caused it") from exc

        return guarded  # type: ignore[return-value]

    return wrap
