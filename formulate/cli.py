"""The `formulate` command line (typer): solve, formulate, check, show, export, schema, solvers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from formulate.cli_args import columns
from formulate.errors import FormulateError
from formulate.ir.datafiles import data_dir_command

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Natural language -> checked formulation -> solver -> standalone scripts.")

EXIT_USER_ERROR = 2


def fail(message: str, code: int = EXIT_USER_ERROR) -> None:
    """Print one clear line to stderr and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def is_formulation_path(arg: str) -> bool:
    """An existing .yaml/.yml/.json path is a formulation; anything else is problem text."""
    if "\n" in arg or len(arg) > 1024:
        return False
    return arg.lower().endswith((".yaml", ".yml", ".json")) and Path(arg).is_file()


def _require_formulation_file(path: str) -> None:
    """Fail in one line unless ``path`` is an existing regular file."""
    file = Path(path)
    if not file.is_file():
        what = "is a folder" if file.is_dir() else "is not a regular file" if file.exists() else "does not exist"
        fail(f"file `{path}` {what}; give a formulation file (.yaml, .yml or .json)")


def _load(path: str, data_dir: Path | None = None):
    from formulate.ir.io import load, with_data_dir

    formulation = load(path)
    return with_data_dir(formulation, data_dir) if data_dir is not None else formulation


def _read_text(text: str | None, file: Path | None, argument: str = "PROBLEM") -> str:
    """The problem text from the argument or from ``-f FILE`` (``-`` = stdin); empty text is refused."""
    from formulate.cli_args import decode_text, read_text_file

    if file is not None and text is not None:
        fail(f"give the problem either as {argument} or with -f FILE, not both")
    if file is not None:
        problem = decode_text(sys.stdin.buffer.read(), "<stdin>") if str(file) == "-" else read_text_file(file)
    elif text is None:
        fail(f"missing argument {argument}: give the problem text in quotes, or -f FILE")
    else:
        problem = text
    if not problem.strip():
        fail("the problem text is empty; write the problem in words" + (f" in {file}" if file else ""))
    return problem


def _formulate_text(text: str, model: str | None, mode: str, base_url: str | None, api_key: str | None,
                    no_cache: bool, quiet: bool = False, **client):
    """Text -> FormulateAttempt through the configured formulator (rules when none is configured).

    ``client``: ``timeout``, ``max_retries`` and ``unsafe_no_sandbox`` (see :func:`formulator_for`).
    """
    return _text_formulator(model, mode, base_url, api_key, no_cache, quiet, **client).formulate(text)


def _text_formulator(model: str | None, mode: str, base_url: str | None, api_key: str | None, no_cache: bool,
                     quiet: bool = False, **client):
    """The configured formulator (rules when none is configured), saying so, and warning on an unsafe sandbox."""
    from formulate.formulators.dispatch import formulator_for

    spec = model or os.environ.get("FORMULATE_MODEL")
    if not spec and not quiet:
        typer.echo("note: no model configured; using the offline rules formulator "
                   "(set --model openai:MODEL or FORMULATE_MODEL for anything beyond short linear problems)", err=True)
    if client.get("unsafe_no_sandbox") and mode == "code":
        typer.echo(UNSAFE_WARNING, err=True)
    return formulator_for(spec or "rules", mode=mode, base_url=base_url, api_key=api_key, use_cache=not no_cache,
                          **client)


UNSAFE_WARNING = ("warning: --unsafe-no-sandbox: where the sandbox is unavailable, model-written scripts run "
                  "UNCONTAINED with this user's files, network and privileges (resource limits only)")


ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="rules | openai:MODEL | hf:PATH | replay:FILE")]
ModeOpt = Annotated[str, typer.Option("--mode", help="ir (structured formulation) or code (model writes a script)")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server (or OPENAI_BASE_URL)")]
ApiKeyOpt = Annotated[str | None, typer.Option("--api-key", help="API key (or OPENAI_API_KEY)")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="do not read or write the response cache")]
SolverOpt = Annotated[str | None, typer.Option("--solver", "-s", help="highs | cbc | scip | pyomo[:NAME] (default: by problem class)")]
TimeOpt = Annotated[float | None, typer.Option("--time-limit", help="seconds")]
GapOpt = Annotated[float | None, typer.Option("--gap", help="relative MIP gap")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="folder `file:` tables may be read from (a model's "
                                                 "formulation may read none without it)")]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="seconds one model request may take in all "
                                                  "(default 180)")]
RetriesOpt = Annotated[int | None, typer.Option("--max-retries", help="retries of a failed model request (default 4)")]
UnsafeOpt = Annotated[bool, typer.Option("--unsafe-no-sandbox", help="code mode: run model scripts even where the "
                                         "sandbox is unavailable (uncontained!)")]
FileOpt = Annotated[Path | None, typer.Option("-f", "--file", help="read the problem text from a file (- = stdin)")]
RoundsOpt = Annotated[int, typer.Option("--rounds", "-r", help="model calls per sample: repairs and verifier rounds "
                                        "together")]
SamplesOpt = Annotated[int, typer.Option("--samples", "-k", help="formulations drawn and voted on (objective "
                                         "within the scoring tolerance)")]


def _check_options(solver: str | None = None, time_limit: float | None = None, gap: float | None = None,
                   base_url: str | None = None, model: str | None = None) -> None:
    """Refuse bad option values before any work starts (one line, exit 2)."""
    from formulate.cli_args import check_base_url, check_gap, check_solver, check_time_limit

    check_solver(solver)
    check_time_limit(time_limit)
    check_gap(gap)
    check_base_url(base_url, model or os.environ.get("FORMULATE_MODEL"))


@app.command()
@data_dir_command
def solve(
    problem_or_file: Annotated[str | None, typer.Argument(
        metavar="PROBLEM_OR_FILE", help="a formulation file (.yaml/.yml/.json), the problem text, or a text file "
        "holding it", show_default=False)] = None,
    file: FileOpt = None,
    solver: SolverOpt = None, time_limit: TimeOpt = None, gap: GapOpt = None, as_json: JsonOpt = False,
    model: ModelOpt = None, mode: ModeOpt = "ir", base_url: BaseUrlOpt = None, api_key: ApiKeyOpt = None,
    no_cache: NoCacheOpt = False,
    show_model: Annotated[bool, typer.Option("--show-model", help="print the formulation before the result")] = False,
    timeout: TimeoutOpt = None, max_retries: RetriesOpt = None, unsafe_no_sandbox: UnsafeOpt = False,
    rounds: RoundsOpt = 3, samples: SamplesOpt = 1, data_dir: DataDirOpt = None,
) -> None:
    """Solve a formulation file, or formulate problem text with a model, verify it (feeding findings back) and solve it."""
    from formulate.api import solve as solve_formulation

    _check_options(solver, time_limit, gap, base_url, model)
    if rounds < 1 or samples < 1:
        fail("--rounds and --samples must be at least 1")
    arg = problem_or_file
    if arg is not None and file is None and is_formulation_path(arg):
        formulation = _load(arg, data_dir)
        solution = solve_formulation(formulation, solver=solver, time_limit=time_limit, mip_gap=gap)
        from formulate.verify.readings import solve_readings

        readings = solve_readings(formulation, solution, solver=solver, time_limit=time_limit, mip_gap=gap)
        if as_json:
            from formulate.service import solution_json

            typer.echo(json.dumps(solution_json(solution, readings), indent=2, default=str))
            return
        if show_model:
            from formulate.ir.io import to_yaml

            typer.echo(to_yaml(formulation))
        _print_solution(solution)
        _print_readings(readings)
        return
    if arg is not None and file is None and _names_a_file(arg):
        if arg.lower().endswith((".yaml", ".yml", ".json")):
            fail(f"file `{arg}` does not exist; check the path (or pass problem text in quotes)")
        typer.echo(f"note: reading the problem text from the file {arg}", err=True)
        arg, file = None, Path(arg)
    text = _read_text(arg, file, "PROBLEM_OR_FILE")
    _solve_text(text, model=model, mode=mode, base_url=base_url, api_key=api_key, no_cache=no_cache, solver=solver,
                time_limit=time_limit, gap=gap, rounds=rounds, samples=samples, as_json=as_json,
                client={"timeout": timeout, "max_retries": max_retries, "unsafe_no_sandbox": unsafe_no_sandbox})


def _solve_text(text: str, *, model: str | None, mode: str, base_url: str | None, api_key: str | None,
                no_cache: bool, solver: str | None, time_limit: float | None, gap: float | None, rounds: int,
                samples: int, as_json: bool, client: dict) -> None:
    """Formulate, verify and feed back (``rounds``, ``samples``), printing each round as it finishes."""
    from rich.console import Console

    from formulate.verify.loop import run_verified
    from formulate.verify.show import print_findings, print_round, print_vote

    formulator = _text_formulator(model, mode, base_url, api_key, no_cache, quiet=as_json, **client)
    progress = Console(stderr=as_json, highlight=False, soft_wrap=True)
    run = run_verified(text, formulator, rounds=rounds, samples=samples, solver=solver, time_limit=time_limit,
                       mip_gap=gap, on_round=lambda r: print_round(progress, r, samples))
    attempt = run.best
    if as_json:
        from formulate.service import verified_json

        typer.echo(json.dumps(verified_json(run), indent=2, default=str))
        if run.formulation is None and not (attempt.formulator == "code" and attempt.status == "ok"):
            raise typer.Exit(1)
        return
    if run.formulation is None:
        if attempt.formulator == "code" and attempt.status == "ok":
            _print_code_attempt(attempt, as_json)
            print_vote(progress, run.vote)
            return
        fail(error_line(attempt))
    from formulate.ir.io import to_yaml

    typer.echo(to_yaml(run.formulation))
    _print_solution(run.solution)
    remaining = [f for f in run.findings if f.severity != "info"]
    if remaining:
        typer.echo("findings:")
        print_findings(progress, remaining, indent="  ")
    _print_readings(run.readings)
    print_vote(progress, run.vote)


def _print_readings(readings) -> None:
    from rich.console import Console

    from formulate.verify.show import print_readings

    print_readings(Console(highlight=False, soft_wrap=True), readings)


def _names_a_file(arg: str) -> bool:
    """A one-line argument that is an existing file (a text file with the problem), or a formulation path."""
    if "\n" in arg or len(arg) > 1024 or not arg.strip():
        return False
    if arg.lower().endswith((".yaml", ".yml", ".json")) and " " not in arg.strip():
        return True
    try:
        return Path(arg).is_file()
    except OSError:
        return False


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
    """Status, objective, the nonzero values (names never cut) and warnings, as plain aligned text."""
    typer.echo(f"status: {solution.status}  solver: {solution.solver}  class: {solution.problem_class}  "
               f"time: {solution.times.get('total', 0):.3f}s")
    if solution.objective is not None and solution.has_solution:
        typer.echo(f"objective: {_fmt(solution.objective)}")
    rows = solution.nonzero()
    if rows:
        shown = rows[:200]
        typer.echo(columns([("variable", "value"), *((name, _fmt(value)) for name, value in shown)]))
        if len(rows) > 200:
            typer.echo(f"... {len(rows) - 200} more nonzero values (use --json for all)")
    for warning in solution.warnings:
        typer.echo(f"{typer.style('warning:', fg='yellow')} {warning}")
    if solution.iis:
        typer.echo("irreducible infeasible set: " + ", ".join(solution.iis))


def _fmt(value: float) -> str:
    return f"{value:.10g}"


@app.command("verify")
def verify_cmd(
    path: Annotated[str, typer.Argument(help="formulation file (.yaml/.yml/.json)")],
    text: Annotated[Path | None, typer.Option("--text", "-t", help="the problem text (a file; default: the "
                                              "formulation's `problem`)")] = None,
    solver: SolverOpt = None, time_limit: TimeOpt = None, gap: GapOpt = None, as_json: JsonOpt = False,
    for_model: Annotated[bool, typer.Option("--for-model", help="print each finding as the model receives it")
                         ] = False,
) -> None:
    """Verify a formulation without a model: solve it and report findings and the readings (exit 1 on an error)."""
    from rich.console import Console

    from formulate.verify.report import verify
    from formulate.verify.show import print_findings, print_readings

    _check_options(solver, time_limit, gap)
    _require_formulation_file(path)
    problem = None
    if text is not None:
        if not text.is_file():
            fail(f"file `{text}` does not exist; give a text file with the problem")
        problem = _read_text(None, text, "--text")
    report = verify(_load(path), problem, solver=solver, time_limit=time_limit, mip_gap=gap)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        console = Console(highlight=False, soft_wrap=True)
        sol = report.solution
        if sol is not None:
            objective = f", objective {_fmt(sol.objective)}" if sol.has_solution and sol.objective is not None else ""
            typer.echo(f"status: {sol.status}{objective}")
        typer.echo(f"findings: {report.summary()}")
        print_findings(console, report.findings, indent="  ", for_model=for_model)
        print_readings(console, report.readings)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@data_dir_command
def check(path: Annotated[str, typer.Argument(help="formulation file")], as_json: JsonOpt = False,
          data_dir: DataDirOpt = None) -> None:
    """Check a formulation: names, indices, data, classification; every error found."""
    from formulate.api import check as check_formulation

    _require_formulation_file(path)
    report = check_formulation(Path(path), data_dir=data_dir)
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

    _require_formulation_file(path)
    typer.echo(render(_load(path), "latex" if latex else "markdown"))


@app.command()
@data_dir_command
def export(
    path: Annotated[str, typer.Argument(help="formulation file")],
    to: Annotated[str, typer.Option("--to", "-t", help="pyomo | pulp | highspy | gurobipy | lp | mps")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here instead of stdout")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Export a standalone solver script (or an LP/MPS file)."""
    from formulate.codegen import EXPORT_TARGETS, export_to_file
    from formulate.codegen import export as export_formulation
    from formulate.errors import did_you_mean

    if to not in EXPORT_TARGETS:
        hint = did_you_mean(to, EXPORT_TARGETS)
        fail(f"unknown export target `{to}`; {hint + ' ' if hint else ''}choose one of {', '.join(EXPORT_TARGETS)}")
    _require_formulation_file(path)
    if output is not None:
        from formulate.cli_args import check_output_file

        check_output_file(output, "-o", f"model.{to}" if to in ("lp", "mps") else "model.py")
    formulation = _load(path, data_dir)
    if output is not None:
        try:
            export_to_file(formulation, to, output)
        except OSError as exc:
            fail(f"cannot write -o {output}: {exc.strerror or exc}")
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
@data_dir_command
def formulate_cmd(
    text: Annotated[str | None, typer.Argument(metavar="PROBLEM", help="problem text", show_default=False)] = None,
    file: FileOpt = None,
    model: ModelOpt = None, mode: ModeOpt = "ir", base_url: BaseUrlOpt = None, api_key: ApiKeyOpt = None,
    no_cache: NoCacheOpt = False, as_json: JsonOpt = False,
    timeout: TimeoutOpt = None, max_retries: RetriesOpt = None, unsafe_no_sandbox: UnsafeOpt = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Turn problem text into a formulation (printed as YAML)."""
    _check_options(base_url=base_url, model=model)
    problem = _read_text(text, file)
    attempt = _formulate_text(problem, model, mode, base_url, api_key, no_cache, quiet=as_json, timeout=timeout,
                              max_retries=max_retries, unsafe_no_sandbox=unsafe_no_sandbox)
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

    rows = [("solver", "solves", "state")]
    for backend in all_backends():
        state = "installed" if backend.available() else f"missing: {backend.install_hint}"
        rows.append((backend.name, ", ".join(sorted(backend.capabilities)), state))
    typer.echo(columns(rows, indent=""))


@app.command()
def examples(
    name: Annotated[str | None, typer.Argument(help="print this example (YAML) to stdout", show_default=False)] = None,
    save: Annotated[Path | None, typer.Option("--save", help="copy every example (and its CSV data) into DIR",
                                              metavar="DIR")] = None,
) -> None:
    """List the example formulations shipped with formulate, print one, or copy them all into a folder."""
    from formulate import examples as shipped

    if save is not None:
        if save.exists() and not save.is_dir():
            fail(f"--save {save} is a file; give a folder")
        try:
            written = shipped.save(save)
        except OSError as exc:
            fail(f"cannot write into --save {save}: {exc.strerror or exc}")
        typer.echo(f"wrote {len(written)} files to {save}")
        return
    if name is not None:
        typer.echo(shipped.path(name).read_text(encoding="utf-8"), nl=False)
        return
    typer.echo(columns([(n, shipped.description(n)) for n in shipped.names()], indent=""))


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


def _usage_error(exc) -> str:
    """A click usage error as one line: what was wrong and which command's --help to read."""
    message = exc.format_message().rstrip(".")
    param = getattr(exc, "param", None)
    if type(exc).__name__ == "MissingParameter" and getattr(param, "param_type_name", "") == "argument":
        message = f"missing argument {(param.metavar or param.name or '').strip('[].').upper()}"
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "formulate"
    return f"{message[:1].lower()}{message[1:]}; see `{command} --help`"


def _print_error(exc: FormulateError) -> None:
    """One ``error:`` line per error (several when a file has several independent mistakes)."""
    for line in str(exc).splitlines() or [type(exc).__name__]:
        typer.echo(f"error: {line}", err=True)


def main() -> None:
    """Console entry point: user mistakes print one line (per error) on stderr and exit 2."""
    import importlib

    # click's exceptions, wherever this typer takes click from (its own copy in typer >= 0.20)
    clicks = importlib.import_module(typer.BadParameter.__module__)
    no_args = getattr(clicks, "NoArgsIsHelpError", ())
    _configure_logging()
    try:
        code = app(standalone_mode=False)
    except no_args as exc:
        typer.echo(exc.ctx.get_help() if exc.ctx is not None else str(exc))
        code = EXIT_USER_ERROR
    except clicks.UsageError as exc:
        typer.echo(f"error: {_usage_error(exc)}", err=True)
        code = EXIT_USER_ERROR
    except clicks.ClickException as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)
        code = exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        code = 1
    except FormulateError as exc:
        _print_error(exc)
        code = EXIT_USER_ERROR
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        code = 130
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
