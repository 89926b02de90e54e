"""The offline reader: problem text -> Formulation with no model (the default formulator).

Two readers, tried in turn by :mod:`formulate.formulators.offline.reader`:

- ``templates``: sentence patterns for regular, template-like phrasing (``Each X needs ...``).
- ``tagged``: a CRF tagger learned from the NL4Opt competition texts (``tagger.json``, rebuilt by
  ``train_tagger.py``; see ``DATA_NOTICE.md``) marks variables, coefficients, limits and directions, and
  ``assemble`` turns the tagged spans into objective and constraints.

Both refuse, with the sentence they could not read, rather than guess.
"""

from __future__ import annotations

from formulate.formulators.offline.reader import THRESHOLD, RulesFormulator, RulesResult, formulate_rules

__all__ = ["RulesFormulator", "RulesResult", "THRESHOLD", "formulate_rules"]
