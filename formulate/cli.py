"""The `formulate` command line (typer): solve, formulate, check, show, export, schema, solvers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from formulate.errors import FormulateError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Natural language -> checked formulation -> solver -> standalone scripts.")

EXIT_USER_ERROR = 2


def fail(message: str, code: int = EXIT_USER_ERROR) -> None:
    """Print one clear line to stderr and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _console():
    from rich.console import Console

    return Console()


def is_formulation_path(arg: str) -> bool:
    """An existing .yaml/.yml/.json path is a formulation; anything else is problem text."""
    if "\n" in arg or len(arg) > 1024:
        return False
    return arg.lower().endswith((".yaml", ".yml", ".json")) and Path(arg).is_file()


def _load(path: str):
    from formulate.ir.io import load

    return load(path)


def _read_text(text: str | None, file: Path | None) -> str:
    if file is not None:
        if str(file) == "-":
            return sys.stdin.read()
        if not file.is_file():
            fail(f"file `{file}` does not exist; give a text file with the problem")
        return file.read_text(encoding="utf-8")
    if text is None:
        fail("give the problem text as an argument or with -f FILE")
    return text  # type: ignore[return-value]


def _formulate_text(text: str, model: str | None, mode: str, base_url: str | None, api_key: str | None,
                    no_cache: bool, quiet: bool = False):
    """Text -> FormulateAttempt through the configured formulator (rules when none is configured)."""
    from formulate.formulators.dispatch import formulator_for

    spec = model or os.environ.get("FORMULATE_MODEL")
    if not spec and not quiet:
        typer.echo("note: no model configured; using the offline rules formulator "
                   "(set --model openai:MODEL or FORMULATE_MODEL for anything beyond short linear problems)", err=True)
    formulator = formulator_for(spec or "rules", mode=mode, base_url=base_url, api_key=api_key, use_cache=not no_cache)
    return formulator.formulate(text)


ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="rules | openai:MODEL | hf:PATH | replay:FILE")]
ModeOpt = Annotated[str, typer.Option("--mode", help="ir (structured formulation) or code (model writes a script)")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server (or OPENAI_BASE_URL)")]
ApiKeyOpt = Annotated[str | None, typer.Option("--api-key", help="API key (or OPENAI_API_KEY)")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="do not read or write the response cache")]
SolverOpt = Annotated[str | None, typer.Option("--solver", "-s", help="highs | cbc | scip | pyomo[:NAME] (default: by problem class)")]
TimeOpt = Annotated[float | None, typer.Option("--time-limit", help="seconds")]
GapOpt = Annotated[float | None, typer.Option("--gap", help="relative MIP gap")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]


@app.command()
def solve(
    arg: Annotated[str, typer.Argument(help="a formulation file (.yaml/.yml/.json) or the problem text")],
    solver: SolverOpt = None, time_limit: TimeOpt = None, gap: GapOpt = None, as_json: JsonOpt = False,
    model: ModelOpt = None, mode: ModeOpt = "ir", base_url: BaseUrlOpt = None, api_key: ApiKeyOpt = None,
    no_cache: NoCacheOpt = False,
    show_model: Annotated[bool, typer.Option("--show-model", help="print the formulation before the result")] = False,
) -> None:
    """Solve a formulation file, or formulate problem text with a model and solve it."""
    from formulate.api import solve as solve_formulation

    attempt = None
    if is_formulation_path(arg):
        formulation = _load(arg)
    else:
        if arg.lower().endswith((".yaml", ".yml", ".json")) and "\n" not in arg and " " not in arg.strip():
            fail(f"file `{arg}` does not exist; check the path (or pass problem text in quotes)")
        attempt = _formulate_text(arg, model, mode, base_url, api_key, no_cache, quiet=as_json)
        if attempt.formulation is None:
            if attempt.formulator == "code" and attempt.status == "ok":
                _print_code_attempt(attempt, as_json)
                return
            fail(error_line(attempt))
        formulation = attempt.formulation
    solution = solve_formulation(formulation, solver=solver, time_limit=time_limit, mip_gap=gap)
    if as_json:
        from formulate.service import solve_json

        typer.echo(json.dumps(solve_json(solution, formulation, attempt), indent=2, default=str))
        return
    if show_model or attempt is not None:
        from formulate.ir.io import to_yaml

        typer.echo(to_yaml(formulation))
    _print_solution(solution)


def error_line(attempt) -> str:
    from formulate.formulators.dispatch import error_line as line

    return line(attempt)


def _print_code_attempt(attempt, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"formulator": attempt.to_dict()}, indent=2, default=str))
        return
    typer.echo(attempt.extra.get("code") or "", nl=True)
    typer.echo(f"status: {attempt.extra.get('code_status')}")
    typer.echo(f"objective: {attempt.extra.get('objective')}")


def _print_solution(solution) -> None:
    from rich.table import Table

    console = _console()
    console.print(f"status: [bold]{solution.status}[/bold]  solver: {solution.solver}  class: "
                  f"{solution.problem_class}  time: {solution.times.get('total', 0):.3f}s", highlight=False)
    if solution.objective is not None and solution.has_solution:
        console.print(f"objective: [bold]{_fmt(solution.objective)}[/bold]", highlight=False)
    rows = solution.nonzero()
    if rows:
        table = Table("variable", "value", show_edge=False, box=None)
        from rich.markup import escape

        for name, value in rows[:200]:
            table.add_row(escape(name), _fmt(value))
        console.print(table)
        if len(rows) > 200:
            console.print(f"... {len(rows) - 200} more nonzero values (use --json for all)")
    from rich.markup import escape

    for warning in solution.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    if solution.iis:
        console.print("irreducible infeasible set: " + ", ".join(solution.iis), highlight=False)


def _fmt(value: float) -> str:
    return f"{value:.10g}"


@app.command()
def check(path: Annotated[str, typer.Argument(help="formulation file")], as_json: JsonOpt = False) -> None:
    """Check a formulation: names, indices, data, classification; every error found."""
    from formulate.api import check as check_formulation

    if not Path(path).is_file():
        fail(f"file `{path}` does not exist; check the path")
    report = check_formulation(Path(path))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for error in report.errors:
            typer.echo(f"error: {error}", err=True)
        for warning in report.warnings:
            typer.echo(f"warning: {warning}")
        if report.ok:
            typer.echo(f"ok: {report.problem_class}, {report.num_variables} variables, {report.num_constraints} "
                       f"constraints, {report.num_nonzeros} nonzeros")
    if not report.ok:
        raise typer.Exit(EXIT_USER_ERROR)


@app.command()
def show(
    path: Annotated[str, typer.Argument(help="formulation file")],
    latex: Annotated[bool, typer.Option("--latex", help="LaTeX")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Markdown (default)")] = False,
) -> None:
    """Render the model as math (Markdown or LaTeX)."""
    from formulate.ir.render import render

    if not Path(path).is_file():
        fail(f"file `{path}` does not exist; check the path")
    typer.echo(render(_load(path), "latex" if latex else "markdown"))


@app.command()
def export(
    path: Annotated[str, typer.Argument(help="formulation file")],
    to: Annotated[str, typer.Option("--to", "-t", help="pyomo | pulp | highspy | gurobipy | lp | mps")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here instead of stdout")] = None,
) -> None:
    """Export a standalone solver script (or an LP/MPS file)."""
    from formulate.codegen import EXPORT_TARGETS, export_to_file
    from formulate.codegen import export as export_formulation
    from formulate.errors import did_you_mean

    if to not in EXPORT_TARGETS:
        hint = did_you_mean(to, EXPORT_TARGETS)
        fail(f"unknown export target `{to}`; {hint + ' ' if hint else ''}choose one of {', '.join(EXPORT_TARGETS)}")
    if not Path(path).is_file():
        fail(f"file `{path}` does not exist; check the path")
    formulation = _load(path)
    if output is not None:
        export_to_file(formulation, to, output)
        typer.echo(f"wrote {output}", err=True)
    else:
        if to in ("lp", "mps"):
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                target = Path(tmp) / f"model.{to}"
                export_to_file(formulation, to, target)
                typer.echo(target.read_text(), nl=False)
        else:
            typer.echo(export_formulation(formulation, to), nl=False)


@app.command("formulate")
def formulate_cmd(
    text: Annotated[str | None, typer.Argument(help="problem text")] = None,
    file: Annotated[Path | None, typer.Option("-f", "--file", help="read the problem text from a file (- = stdin)")] = None,
    model: ModelOpt = None, mode: ModeOpt = "ir", base_url: BaseUrlOpt = None, api_key: ApiKeyOpt = None,
    no_cache: NoCacheOpt = False, as_json: JsonOpt = False,
) -> None:
    """Turn problem text into a formulation (printed as YAML)."""
    problem = _read_text(text, file)
    attempt = _formulate_text(problem, model, mode, base_url, api_key, no_cache, quiet=as_json)
    if as_json:
        typer.echo(json.dumps(attempt.to_dict(), indent=2, default=str))
        if attempt.formulation is None:
            raise typer.Exit(1)
        return
    if attempt.formulation is None:
        if attempt.extra.get("code"):
            typer.echo(attempt.extra["code"])
            return
        fail(error_line(attempt))
    from formulate.ir.io import to_yaml

    typer.echo(to_yaml(attempt.formulation), nl=False)


@app.command()
def schema(
    reference: Annotated[bool, typer.Option("--reference", help="the condensed language reference of the prompt")] = False,
) -> None:
    """Print the JSON Schema of a formulation (or the language reference models are given)."""
    if reference:
        from formulate.formulators.prompt import language_reference

        typer.echo(language_reference())
        return
    from formulate.ir.model import Formulation

    typer.echo(json.dumps(Formulation.model_json_schema(), indent=2))


@app.command()
def solvers() -> None:
    """List solver backends, what they solve and whether they are installed."""
    from formulate.solvers.registry import all_backends

    for backend in all_backends():
        state = "installed" if backend.available() else f"missing: {backend.install_hint}"
        typer.echo(f"{backend.name:8} {', '.join(sorted(backend.capabilities)):45} {state}")


def _mount_eval() -> None:
    from formulate.eval.cli import eval_app

    app.add_typer(eval_app)


_mount_eval()


def _mount_doors() -> None:
    from formulate.web.cli import doors_app

    app.add_typer(doors_app)


_mount_doors()


def _configure_logging() -> None:
    """Library logs stay quiet on the command line unless FORMULATE_LOG names a level (e.g. INFO)."""
    import logging

    level = os.environ.get("FORMULATE_LOG")
    logger = logging.getLogger("formulate")
    if level:
        logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s")
    else:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def main() -> None:
    """Console entry point: user mistakes print one line and exit 2."""
    _configure_logging()
    try:
        app()
    except FormulateError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
