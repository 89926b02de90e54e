"""`formulate sweep`: run a sweep file's grid cell by cell, then write the comparison report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from formulate.errors import FormulateError

EXIT_USER_ERROR = 2


def sweep_command(
    sweep_file: Annotated[Path, typer.Argument(help="sweep YAML: models, datasets, settings (see the README)")],
    backend: Annotated[str | None, typer.Option("--backend", help="thread or ray (default: the file's, else "
                                                "thread)")] = None,
    address: Annotated[str | None, typer.Option("--address", help="ray: an existing cluster (auto, HOST:PORT)")
                       ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="the sweep folder (default: the file's `out`, "
                                             "else runs/<file stem>)")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="folder the models' `file:` tables may be "
                                                  "read from (default: the file's `data_dir`, else none); on a Ray "
                                                  "cluster it must exist at the same path on every node")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list the cells and their logs; run nothing")] = False,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="progress bar per cell "
                                                  "(default: on a terminal)")] = None,
) -> None:
    """Run a grid of models x datasets x settings: one resumable log per cell, then one comparison report."""
    from formulate.eval.runner import BACKENDS
    from formulate.eval.sweep import CellOutcome, data_folder, load_sweep, run_sweep

    try:
        sweep = load_sweep(sweep_file)
        if backend is not None:
            if backend not in BACKENDS:
                raise FormulateError(f"unknown backend `{backend}`; use {' or '.join(BACKENDS)}")
            sweep.backend = backend
        if out is not None:
            sweep.relocate(out)
        if data_dir is not None:
            sweep.data_dir = data_folder(data_dir, Path.cwd(), "--data-dir")
        if address is not None:
            if sweep.backend != "ray":
                raise FormulateError("--address names a Ray cluster; add --backend ray")
            sweep.address = address
    except FormulateError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USER_ERROR) from None
    if dry_run:
        for cell in sweep.cells:
            typer.echo(f"{cell.name}\t{cell.log}")
        return

    def show(outcome: CellOutcome) -> None:
        cell = outcome.cell
        if outcome.status == "failed":
            typer.echo(f"failed   {cell.name}: {outcome.error}", err=True)
        elif outcome.status == "skipped":
            typer.echo(f"skipped  {cell.name} (complete: {outcome.samples} samples)")
        else:
            typer.echo(f"{outcome.status:8} {cell.name} ({outcome.new} new of {outcome.samples} samples)")

    typer.echo(f"sweep {sweep_file}: {len(sweep.cells)} cells into {sweep.out} ({sweep.backend} backend)", err=True)
    try:
        outcomes = run_sweep(sweep, progress=progress, on_cell=show)
    except KeyboardInterrupt:
        typer.echo(f"interrupted; finished samples are in {sweep.out}/cells; rerun the same command to continue",
                   err=True)
        raise typer.Exit(130) from None
    except FormulateError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USER_ERROR) from None
    from formulate.eval.report import summarize

    for cell in sweep.cells:
        if cell.log.is_file():
            typer.echo(summarize(cell.log, name=cell.name).score_line())
    typer.echo(f"report: {sweep.out / 'report.md'} and {sweep.out / 'report.html'}")
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        typer.echo(f"error: {len(failed)} of {len(outcomes)} cells failed (see above); fix them and rerun the same "
                   "command: finished cells are skipped", err=True)
        raise typer.Exit(1)


__all__ = ["sweep_command"]
