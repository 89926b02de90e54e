"""`formulate eval`, `formulate report` and `formulate datasets` (a typer sub-app mounted by formulate.cli).

Mount with ``app.add_typer(eval_app)`` (no name: the commands join the top level).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated

import typer

from formulate.errors import FormulateError
from formulate.ir.datafiles import data_dir_command

eval_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                       help="Benchmark evaluation: eval, report, datasets.")
datasets_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                           help="Benchmark datasets: list, fetch, show.")
eval_app.add_typer(datasets_app, name="datasets")

EXIT_USER_ERROR = 2


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_USER_ERROR)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60] or "run"


def default_out(dataset: str, model: str, mode: str) -> Path:
    """``runs/<dataset>-<model>-<mode>.jsonl``."""
    name = Path(dataset).stem if ("/" in dataset or dataset.endswith((".json", ".jsonl"))) else dataset
    return Path("runs") / f"{_slug(name)}-{_slug(model.split('/')[-1])}-{mode}.jsonl"


@eval_app.command("eval")
@data_dir_command
def eval_command(
    dataset: Annotated[str, typer.Argument(help="registered name (`formulate datasets list`) or a .jsonl/.json file")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="rules | openai:MODEL | hf:PATH | replay:FILE "
                                              "(default: FORMULATE_MODEL, else rules)")] = None,
    mode: Annotated[str, typer.Option("--mode", help="ir (structured formulation) or code (model writes a script)")
                    ] = "ir",
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="first N samples only")] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", help="samples in parallel (threads)")] = 4,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="JSONL log (default runs/DATASET-MODEL-MODE.jsonl)")
                   ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue an existing log, skipping logged ids "
                                                  "(same dataset, model, mode, --rounds and --samples)")] = False,
    solver: Annotated[str | None, typer.Option("--solver", "-s", help="highs | cbc | scip | pyomo[:NAME]")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="seconds per solve")] = None,
    gap: Annotated[float | None, typer.Option("--gap", help="relative MIP gap")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="scoring rule: rel1e-4 (default), rel1e-6, "
                                                "abs_rel_1e-2, round_to_label")
                    ] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key (or OPENAI_API_KEY)")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="do not read or write the response cache")] = False,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="progress bar (default: on a "
                                                  "terminal)")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="seconds one model request may take in all "
                                                  "(default 180)")] = None,
    max_retries: Annotated[int | None, typer.Option("--max-retries", help="retries of a failed model request "
                                                    "(default 4)")] = None,
    unsafe_no_sandbox: Annotated[bool, typer.Option("--unsafe-no-sandbox", help="code mode: run model scripts even "
                                                    "where the sandbox is unavailable (uncontained!)")] = False,
    rounds: Annotated[int, typer.Option("--rounds", "-r", help="model calls per sample: repairs and verifier "
                                        "rounds together (0: formulate and solve once, no verifier)")] = 3,
    samples: Annotated[int, typer.Option("--samples", "-k", help="formulations drawn per problem and voted on")
                       ] = 1,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="folder the models' `file:` tables may be read "
                                                  "from (none without it); on a Ray cluster it must exist at the "
                                                  "same path on every node")] = None,
    backend: Annotated[str, typer.Option("--backend", help="thread (this machine) or ray (Ray tasks; local Ray "
                                         "unless --address)")] = "thread",
    address: Annotated[str | None, typer.Option("--address", help="ray: an existing cluster (auto, HOST:PORT or "
                                                "ray://HOST:PORT)")] = None,
    model_calls: Annotated[int, typer.Option("--model-calls", help="ray: model calls in flight per endpoint, "
                                             "across the cluster")] = 16,
    rpm: Annotated[float | None, typer.Option("--rpm", help="ray: model calls started per minute per endpoint")
                   ] = None,
) -> None:
    """Evaluate a model on a dataset: formulate, solve and score every sample into a resumable JSONL log."""
    from formulate.cli_args import (
        check_base_url,
        check_count,
        check_gap,
        check_output_file,
        check_solver,
        check_time_limit,
    )
    from formulate.datasets import load_dataset
    from formulate.eval.attempts import FormulatorSpec
    from formulate.eval.report import summarize
    from formulate.eval.runner import BACKENDS, config_for, rounds_setting, run_eval
    from formulate.eval.scoring import get_rule
    from formulate.formulators.dispatch import check_mode

    try:
        check_count(workers, "--workers", 1)
        check_count(limit, "--limit", 0)
        check_count(rounds, "--rounds", 0)
        check_count(samples, "--samples", 1)
        check_solver(solver, installed=True)
        check_time_limit(time_limit)
        check_gap(gap)
        check_base_url(base_url, model or os.environ.get("FORMULATE_MODEL"))
        if out is not None:
            check_output_file(out, "--out", "run.jsonl")
    except FormulateError as exc:
        _fail(str(exc))
    spec = model or os.environ.get("FORMULATE_MODEL")
    if not spec:
        typer.echo("note: no model configured; using the offline rules formulator", err=True)
        spec = "rules"
    try:
        check_mode(spec, mode)
        get_rule(rule)
        if backend not in BACKENDS:
            raise FormulateError(f"unknown backend `{backend}`; use {' or '.join(BACKENDS)}")
        if address and backend != "ray":
            raise FormulateError("--address names a Ray cluster; add --backend ray")
        data = load_dataset(dataset, limit=limit)
        target = out or default_out(dataset, spec, mode)
        if unsafe_no_sandbox and mode == "code":
            from formulate.cli import UNSAFE_WARNING

            typer.echo(UNSAFE_WARNING, err=True)
        formulator = FormulatorSpec.of(spec, mode, base_url=base_url, api_key=api_key,
                                       use_cache=None if not no_cache else False, timeout=timeout,
                                       max_retries=max_retries, unsafe_no_sandbox=unsafe_no_sandbox or None)
        config = config_for(data, spec, mode=mode, rule=rule, solver=solver, time_limit=time_limit, mip_gap=gap,
                            workers=workers, backend=backend, address=address, model_calls=model_calls,
                            calls_per_minute=rpm, rounds=rounds_setting(rounds), samples=max(1, samples),
                            data_dir=str(data_dir.resolve()) if data_dir is not None else None)
        try:
            result = run_eval(data.samples, formulator, target, config, resume=resume, progress=progress)
        except KeyboardInterrupt:
            typer.echo(f"interrupted; every finished sample is in {target}; rerun with --resume to continue", err=True)
            raise typer.Exit(130) from None
        if result.skipped:
            typer.echo(f"resumed: {result.skipped} samples already in {target}", err=True)
        summary = summarize(target, rule=rule)
    except FormulateError as exc:
        _fail(str(exc))
        return
    typer.echo(f"{summary.score_line()}; log {target}")


@eval_app.command("report")
def report_command(
    runs: Annotated[list[Path], typer.Argument(help="run logs (JSONL) to compare side by side")],
    html_out: Annotated[Path | None, typer.Option("--html", help="write an HTML report with SVG charts here")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="print the Markdown tables")] = False,
    rule: Annotated[str | None, typer.Option("--rule", help="re-score every run under this rule")] = None,
) -> None:
    """Summarise one or more run logs: accuracy, answered, executed, failure stages, tokens, times, classes."""
    from formulate.eval.report import summarize, to_html, to_markdown

    if html_out is not None:
        from formulate.cli_args import check_output_file

        try:
            check_output_file(html_out, "--html", "report.html")
        except FormulateError as exc:
            _fail(str(exc))
    try:
        names = [p.stem for p in runs]
        dup = {n for n in names if names.count(n) > 1}
        summaries = [summarize(p, rule=rule, name=f"{p.parent.name}/{p.stem}" if p.stem in dup else None)
                     for p in runs]
    except FormulateError as exc:
        _fail(str(exc))
        return
    if html_out is not None:
        from formulate.cli_args import write_output

        try:
            write_output(html_out, to_html(summaries), "--html", "report.html")
        except FormulateError as exc:
            _fail(str(exc))
    if markdown:
        typer.echo(to_markdown(summaries))
    else:
        for s in summaries:
            typer.echo(s.score_line())
    if html_out is not None:
        typer.echo(f"wrote {html_out}", err=True)


@datasets_app.command("list")
def datasets_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Every registered dataset: size, label version, license, whether it is cached (names are never cut)."""
    from formulate.datasets import cached_path, registry

    specs = list(registry().values())
    if as_json:
        typer.echo(json.dumps([{**s.summary(), "cached": cached_path(s).is_file()} for s in specs], indent=2))
        return
    from formulate.cli_args import columns

    rows = [("name", "records", "label version", "license", "cached", "description")]
    rows += [(s.name, str(s.records or "?"), s.label_version, s.license, "yes" if cached_path(s).is_file() else "no",
              s.description) for s in specs]
    typer.echo(columns(rows, indent=""))


@datasets_app.command("fetch")
def datasets_fetch(
    names: Annotated[list[str], typer.Argument(help="dataset names, or `all`")],
    force: Annotated[bool, typer.Option("--force", help="download again even when cached")] = False,
) -> None:
    """Download datasets into the cache (sha256-checked)."""
    from formulate.datasets import dataset_names, fetch, get_spec, load_spec

    try:
        chosen = dataset_names() if names == ["all"] else names
        for name in chosen:
            spec = get_spec(name)
            path = fetch(spec, force=force)
            count = len(load_spec(spec).samples)
            typer.echo(f"{spec.name}: {count} samples in {path}")
    except FormulateError as exc:
        _fail(str(exc))


@datasets_app.command("show")
def datasets_show(
    name: Annotated[str, typer.Argument(help="a registered name or a local file")],
    samples: Annotated[int, typer.Option("--samples", "-n", help="also print the first N samples (downloads)")] = 0,
) -> None:
    """Where a dataset comes from (source, commit, path, sha256), its license, label version and known label issues."""
    from formulate.datasets import cached_path, get_spec, load_dataset
    from formulate.datasets.loaders import looks_like_path

    try:
        if not looks_like_path(name):
            spec = get_spec(name)
            info = {**spec.summary(), "commit": spec.commit, "cache": str(cached_path(spec)),
                    "cached": cached_path(spec).is_file()}
            info["source"] = spec.repo
            issues = info.pop("label_issues") or ["none known"]
            order = ["name", "benchmark", "label_version", "source", "commit", "path", "sha256", "url", "license",
                     "records", "format", "question_key", "answer_key", "id_key", "group_keys", "rule",
                     "description", "cache", "cached"]
            for key in order:
                value = info.get(key)
                if key == "rule":
                    value = value or "rel1e-4 (the project default)"
                if key == "group_keys" and not value:
                    continue
                typer.echo(f"{key:14} {', '.join(value) if isinstance(value, list) else value}")
            for i, issue in enumerate(issues):
                typer.echo(f"{'label issues' if i == 0 else '':14} - {issue}")
        if samples or looks_like_path(name):
            data = load_dataset(name, limit=samples or 3)
            for s in data.samples:
                text = " ".join(s.question.split())
                typer.echo(f"\n[{s.id}] answer={s.answer!r} raw={s.answer_raw!r} status={s.expected_status}\n"
                           f"  {text[:300]}{'...' if len(text) > 300 else ''}")
    except FormulateError as exc:
        _fail(str(exc))

def _mount_sweep() -> None:
    from formulate.eval.sweep_cli import sweep_command

    eval_app.command("sweep")(sweep_command)


_mount_sweep()


__all__ = ["datasets_app", "default_out", "eval_app"]
