"""Sweeps: a grid of models x datasets x settings, one run log per cell, then one comparison report.

A sweep file (YAML)::

    out: runs/dev-sweep            # the sweep folder (default: runs/<file stem>), relative to the file
    models: [rules, "replay:replies.jsonl"]
    datasets: [../shared/data/dev/nl4opt_dev.jsonl, c3_canonical]
    limit: 40                      # first N samples of every dataset (optional)
    settings:                      # every combination is a cell; a single value needs no list
      mode: [ir]
      rule: rel1e-4
      solver: [highs]
    workers: 4
    backend: thread                # or ray (address: HOST:PORT for an existing cluster)
    data_dir: data                 # the folder the models' `file:` tables may come from (optional)

Paths (datasets, ``replay:`` files, ``out``, ``data_dir``) are relative to the sweep file. A cell runs
as ``formulate eval`` with the same settings would: without ``rounds`` it gets eval's default verifier
rounds (``rounds: 0`` turns the verifier off). Each cell writes
``<out>/cells/<cell>.jsonl``; a cell whose log holds every sample is skipped, a partial one is resumed
sample by sample. The comparison report is ``<out>/report.md`` and ``<out>/report.html``.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from formulate.errors import FormulateError

log = logging.getLogger(__name__)

#: sweep settings and the EvalConfig field each sets
SETTINGS = {"mode": "mode", "rule": "rule", "solver": "solver", "time_limit": "time_limit", "gap": "mip_gap",
            "rounds": "rounds", "samples": "samples"}
_TOP_KEYS = {"out", "models", "datasets", "limit", "settings", "workers", "backend", "address", "model_calls",
             "rpm", "base_url", "name", "data_dir"}


@dataclass
class Cell:
    """One point of the grid: a model on a dataset with one value per setting."""

    model: str
    dataset: str
    settings: dict[str, Any]
    name: str
    log: Path


@dataclass
class Sweep:
    """A parsed sweep file."""

    path: Path
    out: Path
    models: list[str]
    datasets: list[str]
    settings: dict[str, list[Any]]
    limit: int | None = None
    workers: int = 4
    backend: str = "thread"
    address: str | None = None
    model_calls: int = 16
    rpm: float | None = None
    base_url: str | None = None
    data_dir: Path | None = None  # absolute: the folder the models' `file:` tables may come from
    cells: list[Cell] = field(default_factory=list)

    def relocate(self, out: Path) -> None:
        """Write into ``out`` instead (cell logs move with it)."""
        self.out = out
        for cell in self.cells:
            cell.log = out / "cells" / cell.log.name


@dataclass
class CellOutcome:
    """What happened to one cell in this invocation."""

    cell: Cell
    status: str  # skipped (complete) | ran | resumed | failed
    samples: int = 0
    new: int = 0
    error: str | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "-", text).strip("-")[:60] or "x"


def _resolve_model(value: str, base: Path) -> str:
    """A ``replay:`` file relative to the sweep file; other model specs stay as they are."""
    if value.startswith("replay:"):
        path = Path(value[len("replay:"):]).expanduser()
        return "replay:" + str(path if path.is_absolute() else (base / path))
    return value


def _resolve_dataset(value: str, base: Path) -> str:
    """A dataset file relative to the sweep file; registered names stay as they are."""
    from formulate.datasets import registry
    from formulate.datasets.registry import ALIASES

    if value in registry() or value in ALIASES:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path))


def _as_list(key: str, value: Any) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise FormulateError(f"sweep setting `{key}` has an empty list; give at least one value")
    return values


def _model_label(model: str) -> str:
    if model.startswith("replay:"):
        return "replay-" + Path(model[len("replay:"):]).stem
    return model.split("/")[-1]


def _dataset_label(dataset: str) -> str:
    return Path(dataset).stem if ("/" in dataset or dataset.endswith((".json", ".jsonl"))) else dataset


def data_folder(value: str | Path, base: Path, source: str) -> Path:
    """``value`` (relative to ``base``) as an absolute folder; FormulateError when it is not one."""
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_dir():
        raise FormulateError(f"{source} `{value}` is not a folder; give the folder the data files are in")
    return path.resolve()


def _check_setting(key: str, value: Any) -> None:
    """The same checks ``formulate eval`` makes on its options, up front rather than per sample."""
    from formulate.cli_args import check_gap, check_solver, check_time_limit

    number = isinstance(value, int | float) and not isinstance(value, bool)
    if key in ("rounds", "samples"):
        least = 0 if key == "rounds" else 1
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise FormulateError(f"setting `{key}` must be a whole number of at least {least}, not {value!r}")
    elif key in ("time_limit", "gap"):
        if not number:
            raise FormulateError(f"setting `{key}` must be a number, not {value!r}")
        if key == "time_limit":
            check_time_limit(float(value), "time_limit")
        else:
            check_gap(float(value))
    elif key == "solver":
        check_solver(str(value), installed=True)


def cell_name(model: str, dataset: str, settings: dict[str, Any]) -> str:
    """``<dataset>.<model>[.key=value...]``: stable, one file name per cell."""
    parts = [_slug(_dataset_label(dataset)), _slug(_model_label(model))]
    parts += [f"{_slug(k)}={_slug(str(v))}" for k, v in sorted(settings.items())]
    return ".".join(parts)


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file; FormulateError naming the bad key otherwise."""
    from formulate.eval.runner import BACKENDS, EvalConfig
    from formulate.eval.scoring import get_rule
    from formulate.ir.io import parse_yaml_text

    p = Path(path)
    try:
        data = parse_yaml_text(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FormulateError(f"cannot read sweep file {p}: {exc.strerror or exc}") from None
    except Exception as exc:
        raise FormulateError(f"sweep file {p} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise FormulateError(f"sweep file {p} must be a mapping with `models` and `datasets`")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise FormulateError(f"sweep file {p}: unknown key `{unknown[0]}`; use {', '.join(sorted(_TOP_KEYS))}")
    for key in ("models", "datasets"):
        if not data.get(key):
            raise FormulateError(f"sweep file {p} needs `{key}`: a list of at least one")
    base = p.parent  # relative paths stay relative (to the working directory, through the file's folder)
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise FormulateError(f"sweep file {p}: `settings` must be a mapping of name to value(s)")
    config_fields = {f.name for f in fields(EvalConfig)}
    grid: dict[str, list[Any]] = {}
    for key, value in settings.items():
        if key not in SETTINGS:
            raise FormulateError(f"sweep file {p}: unknown setting `{key}`; use {', '.join(SETTINGS)}")
        if SETTINGS[key] not in config_fields:
            raise FormulateError(f"sweep file {p}: setting `{key}` needs the verifier (formulate eval --{key}), "
                                 "which this version does not have")
        grid[key] = _as_list(key, value)
        for item in grid[key]:
            try:
                _check_setting(key, item)
            except FormulateError as exc:
                raise FormulateError(f"sweep file {p}: {exc}") from None
    for rule in grid.get("rule", []):
        get_rule(str(rule))
    for mode in grid.get("mode", []):
        if mode not in ("ir", "code"):
            raise FormulateError(f"sweep file {p}: unknown mode `{mode}`; use ir or code")
    backend = str(data.get("backend") or "thread")
    if backend not in BACKENDS:
        raise FormulateError(f"sweep file {p}: unknown backend `{backend}`; use {' or '.join(BACKENDS)}")
    out = Path(str(data.get("out") or Path("runs") / p.stem)).expanduser()
    for key in ("limit", "workers", "model_calls"):
        value = data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise FormulateError(f"sweep file {p}: `{key}` must be a positive whole number, not {value!r}")
    limit, rpm = data.get("limit"), data.get("rpm")
    if data.get("base_url") is not None:
        from formulate.cli_args import check_base_url

        try:
            check_base_url(str(data["base_url"]))
        except FormulateError as exc:
            raise FormulateError(f"sweep file {p}: {exc}") from None
    if rpm is not None and (not isinstance(rpm, int | float) or isinstance(rpm, bool) or not 0 < rpm < math.inf):
        raise FormulateError(f"sweep file {p}: `rpm` must be a positive number of calls a minute, not {rpm!r}")
    sweep = Sweep(path=p, out=out if out.is_absolute() else base / out,
                  models=[_resolve_model(str(m), base) for m in _as_list("models", data["models"])],
                  datasets=[_resolve_dataset(str(d), base) for d in _as_list("datasets", data["datasets"])],
                  settings=grid, limit=limit, workers=data.get("workers") or 4, backend=backend,
                  address=data.get("address"), model_calls=data.get("model_calls") or 16,
                  rpm=rpm, base_url=data.get("base_url"),
                  data_dir=data_folder(str(data["data_dir"]), base, f"sweep file {p}: `data_dir`")
                  if data.get("data_dir") is not None else None)
    keys = list(grid)
    for model, dataset, values in itertools.product(sweep.models, sweep.datasets,
                                                    itertools.product(*(grid[k] for k in keys))):
        chosen = dict(zip(keys, values, strict=True))
        name = cell_name(model, dataset, chosen)
        sweep.cells.append(Cell(model, dataset, chosen, name, sweep.out / "cells" / f"{name}.jsonl"))
    names = [c.name for c in sweep.cells]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise FormulateError(f"sweep file {p}: two cells would share the log name `{dup}`; rename a dataset or "
                             "replay file")
    return sweep


def run_cell(sweep: Sweep, cell: Cell, progress: bool | None = None) -> CellOutcome:
    """Run (or resume, or skip) one cell."""
    from formulate.datasets import load_dataset
    from formulate.eval.attempts import FormulatorSpec
    from formulate.eval.runner import check_resumable, config_for, rounds_setting, run_eval

    data = load_dataset(cell.dataset, limit=sweep.limit)
    ids = [s.id for s in data.samples]
    mode = str(cell.settings.get("mode", "ir"))
    config_settings = {SETTINGS[k]: v for k, v in cell.settings.items() if k != "mode"}
    config_settings["rounds"] = rounds_setting(cell.settings.get("rounds"))  # as `formulate eval` without --rounds
    config = config_for(data, cell.model, mode=mode, workers=sweep.workers, backend=sweep.backend,
                        address=sweep.address, model_calls=sweep.model_calls, calls_per_minute=sweep.rpm,
                        data_dir=str(sweep.data_dir) if sweep.data_dir is not None else None, **config_settings)
    if cell.log.is_file() and set(ids) <= check_resumable(cell.log, config, resume=True)[0]:
        return CellOutcome(cell, "skipped", samples=len(ids))  # complete, and run with these settings
    resumed = cell.log.is_file() and cell.log.stat().st_size > 0
    formulator = FormulatorSpec.of(cell.model, mode, base_url=sweep.base_url)
    result = run_eval(data.samples, formulator, cell.log, config, resume=True, progress=progress)
    return CellOutcome(cell, "resumed" if resumed else "ran", samples=len(ids), new=len(result.records))


def run_sweep(sweep: Sweep, progress: bool | None = None,
              on_cell: Callable[[CellOutcome], None] | None = None) -> list[CellOutcome]:
    """Every cell in order (a failing cell is reported and the others still run), then the report."""
    outcomes = []
    for cell in sweep.cells:
        try:
            outcome = run_cell(sweep, cell, progress)
        except FormulateError as exc:
            outcome = CellOutcome(cell, "failed", error=str(exc))
        outcomes.append(outcome)
        if on_cell:
            on_cell(outcome)
    write_report(sweep)
    return outcomes


def write_report(sweep: Sweep) -> tuple[Path, Path] | None:
    """``report.md``, ``report.html`` and ``figures/*.svg`` over every cell log present (None: no log yet)."""
    from formulate.eval.plots import figures
    from formulate.eval.report import summarize, to_html, to_markdown

    logs = [c for c in sweep.cells if c.log.is_file()]
    if not logs:
        return None
    summaries = [summarize(c.log, name=c.name) for c in logs]
    md, page = sweep.out / "report.md", sweep.out / "report.html"
    md.write_text(to_markdown(summaries), encoding="utf-8")
    try:
        drawn = figures(summaries)
    except FormulateError as exc:  # no matplotlib: the Markdown report still stands
        log.warning("no HTML report: %s", exc)
        return md, md
    page.write_text(to_html(summaries, drawn), encoding="utf-8")
    folder = sweep.out / "figures"
    folder.mkdir(exist_ok=True)
    for title, svg in drawn:
        (folder / f"{_slug(title.split(' (')[0].lower())}.svg").write_text(svg, encoding="utf-8")
    return md, page


__all__ = ["Cell", "CellOutcome", "SETTINGS", "Sweep", "cell_name", "data_folder", "load_sweep", "run_cell", "run_sweep",
           "write_report"]
