"""Imported by the web runner's fork server before it forks any worker: loads once what every request would
otherwise load again (the offline reader's tagger weights, about a second), so workers inherit it."""

from __future__ import annotations

from formulate.formulators.offline.tagger import default_tagger

default_tagger()
