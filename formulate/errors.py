"""One exception hierarchy, rooted at :class:`FormulateError`.

Every user-facing message is one sentence a person (or a model) can act on: where, what, and the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


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
