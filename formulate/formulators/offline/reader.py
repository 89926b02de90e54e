"""The offline formulator's entry point: the template reader, then the tagged reader."""

from __future__ import annotations

from formulate.formulators.offline.templates import THRESHOLD, RulesResult, formulate_templates


def formulate_rules(text: str) -> RulesResult:
    """Formulate ``text`` with no model, or refuse with the reason."""
    return formulate_templates(text)


class RulesFormulator:
    """The offline default formulator (no model)."""

    name = "rules"

    def formulate(self, text: str) -> RulesResult:
        """Formulate ``text``; see :func:`formulate_rules`."""
        return formulate_rules(text)


__all__ = ["RulesFormulator", "RulesResult", "THRESHOLD", "formulate_rules"]
