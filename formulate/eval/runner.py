"""Batch evaluation: formulate, solve and score every sample, concurrently, into a resumable JSONL log.

Each sample ends in one failure stage: ``formulate`` (no formulation: model error or refusal),
``parse`` (the reply held no readable formulation or script), ``check`` (the formulation failed its
checks), ``solve`` (no solution: solver error, infeasible/unbounded against a numeric label, script
error or timeout), ``wrong_answer``, ``no_label`` (the label could not be read) or ``ok``.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from formulate.datasets.loaders import Sample
from formulate.errors import FormulateError, FormulationError
from formulate.eval.attempts import (
    AttemptView,
    FormulateFn,
    Formulator,
    FormulatorSpec,
    as_callable,
    close_formulator,
    view_attempt,
)
from formulate.eval.runlog import DRAWS_KEY, LogWriter, read_log
from formulate.eval.scoring import get_rule

log = logging.getLogger(__name__)

STAGES = ("ok", "wrong_answer", "solve", "check", "parse", "formulate", "no_label")
LOG_VERSION = 1
_IR_STAGE = {"parse_error": "parse", "schema_error": "parse", "check_error": "check"}
_CODE_STATUS = {"optimal": "optimal", "feasible": "optimal", "infeasible": "infeasible", "unbounded": "unbounded",
                "infeasible_or_unbounded": "infeasible_or_unbounded"}


@dataclass
class EvalConfig:
    """Settings of one evaluation run (written as the log's ``run`` header)."""

    dataset: str
    model: str
    mode: str = "ir"
    rule: str | None = None
    solver: str | None = None
    time_limit: float | None = None
    mip_gap: float | None = None
    workers: int = 4
    source: str | None = None
    benchmark: str | None = None  # the benchmark and label version (scores compare only within one)
    label_version: str | None = None
    group_keys: list[str] = field(default_factory=list)  # sample fields kept as ``groups`` (C3: class, size)
    also_rules: list[str] = field(default_factory=list)  # rules scored beside ``rule`` (``scores`` in records)
    backend: str = "thread"  # thread | ray
    address: str | None = None  # ray: an existing cluster (None starts a local one)
    threads: int | None = None  # HiGHS threads of each Ray worker process (the ray backend sets 1)
    model_calls: int = 16  # ray: model calls in flight at once per endpoint, across the cluster
    calls_per_minute: float | None = None  # ray: model calls started per minute per endpoint
    rounds: int | None = None  # verifier rounds per sample (None: formulate and solve once, no verifier)
    samples: int = 1  # formulations drawn and voted on (with the verifier); the header's DRAWS_KEY
    data_dir: str | None = None  # the folder a model's `file:` tables may come from (absolute; None: none)


BACKENDS = ("thread", "ray")
#: model calls per sample when ``formulate eval`` has no ``--rounds`` and a sweep cell no ``rounds``
DEFAULT_ROUNDS = 3


def rounds_setting(rounds: int | None) -> int | None:
    """``EvalConfig.rounds`` for a ``--rounds`` value (a sweep's ``rounds``): unset is the default of
    :data:`DEFAULT_ROUNDS`, 0 turns the verifier off (None)."""
    rounds = DEFAULT_ROUNDS if rounds is None else int(rounds)
    return rounds if rounds > 0 else None


def config_for(dataset: Any, model: str, **settings: Any) -> EvalConfig:
    """The run settings for a loaded dataset: its benchmark, label version, groups and own scoring rule.

    A dataset with its own rule (C3-Bench: rel2e-3) is scored under it unless ``rule`` is given, and
    the project's strict rule is scored beside it.
    """
    from formulate.eval.scoring import STRICT_RULE

    spec = getattr(dataset, "spec", None)
    settings = {k: v for k, v in settings.items() if v is not None}
    if spec is not None:
        settings.setdefault("rule", spec.rule)
        settings.setdefault("benchmark", spec.benchmark or spec.name)
        settings.setdefault("label_version", spec.label_version)
        settings.setdefault("group_keys", list(spec.group_keys))
    rule = get_rule(settings.get("rule")).name
    if rule != STRICT_RULE:
        settings.setdefault("also_rules", [STRICT_RULE])
    return EvalConfig(dataset=dataset.name, model=model, source=dataset.source, **settings)


@dataclass
class RunResult:
    """What a run did: the records written now, and how many samples were skipped as already logged."""

    out: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0
    wall_s: float = 0.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _question_hash(text: str) -> str:
    from formulate.llm.replay import problem_key

    return problem_key(text)


def _yaml(formulation: Any) -> str | None:
    """The formulation as YAML for the log, without the problem text (the dataset holds it)."""
    if formulation is None:
        return None
    from formulate.eval.yamltext import dump_yaml

    try:
        data = formulation.to_dict()
        data.pop("problem", None)
        meta = {k: v for k, v in (data.get("meta") or {}).items() if not str(k).startswith("_")}
        if meta:
            data["meta"] = meta
        else:
            data.pop("meta", None)
        return dump_yaml(data)
    except Exception as exc:  # logging must not lose the sample
        log.warning("could not render a formulation as YAML: %s", exc)
        return None


class SampleEvaluator:
    """Formulate, solve and score one sample (thread-safe; holds no per-sample state)."""

    def __init__(self, formulate: FormulateFn, config: EvalConfig, formulator: Any = None) -> None:
        self.formulate = formulate
        self.config = config
        self.rule = get_rule(config.rule)
        self.also = [get_rule(name) for name in config.also_rules if get_rule(name).name != self.rule.name]
        self.formulator = formulator  # the object itself: the verifier's loop drives its conversation

    @property
    def verified(self) -> bool:
        return self.config.rounds is not None and self.formulator is not None

    def __call__(self, sample: Sample) -> tuple[dict[str, Any], AttemptView | None]:
        """The sample's record; whatever goes wrong inside fails this sample only, never the run."""
        try:
            return self._evaluate(sample)
        except Exception as exc:
            log.warning("%s: evaluating the sample crashed: %s: %s", sample.id, type(exc).__name__, exc)
            log.debug("sample traceback", exc_info=True)
            error = f"internal error: {type(exc).__name__}: {exc}"
            return self._record(sample, None, None, None, None, False, "formulate", error, {"total": 0.0}), None

    def _evaluate(self, sample: Sample) -> tuple[dict[str, Any], AttemptView | None]:
        started = time.perf_counter()
        times = {"formulate": 0.0, "solve": 0.0, "total": 0.0}
        solution: dict[str, Any] | None = None
        pred_obj: float | None = None
        pred_status: str | None = None
        stage: str | None = None
        error: str | None = None
        view: AttemptView | None = None
        run: Any = None
        try:
            if self.verified:
                run = self._run_verified(sample)
                attempt = run.best
            else:
                attempt = self.formulate(sample.question, sample.id)
            try:
                view = view_attempt(attempt)
            except FormulationError as exc:  # a formulation handed over as text that does not load
                stage, error = "parse", str(exc)
        except FormulateError as exc:
            stage, error = "formulate", str(exc)
        except Exception as exc:
            log.warning("%s: the formulator crashed: %s: %s", sample.id, type(exc).__name__, exc)
            log.debug("formulator traceback", exc_info=True)
            stage, error = "formulate", f"internal error: {type(exc).__name__}: {exc}"
        times["formulate"] = time.perf_counter() - started
        if view is not None:
            error = view.error
            if self.config.mode == "code":
                stage, pred_obj, pred_status = self._code_outcome(view)
            elif view.formulation is None:
                stage = _IR_STAGE.get(view.status, "formulate")
            elif run is not None and run.solution is not None:
                solution = _solution_dict(run.solution)
                pred_status = solution["status"]
                pred_obj = solution["objective"] if solution["has_solution"] else None
            else:
                t0 = time.perf_counter()
                solution, stage, solve_error = self._solve(view.formulation)
                times["solve"] = time.perf_counter() - t0
                error = solve_error or (None if solution else error)
                if solution is not None:
                    pred_status = solution["status"]
                    pred_obj = solution["objective"] if solution["has_solution"] else None
        correct = self.rule.correct(pred_obj, pred_status, sample.answer, sample.expected_status, sample.answer_raw)
        if correct:
            stage = "ok"
        elif stage is None:
            if sample.answer is None and sample.expected_status is None:
                stage, error = "no_label", f"the label could not be read: {sample.meta.get('answer_note', '')}"
            elif pred_obj is None:
                stage = "solve"
                error = error or f"no objective value: the solve ended {pred_status or 'without a status'}"
            else:
                stage = "wrong_answer"
                error = f"objective {pred_obj:.10g}, label {sample.answer_raw!r}"
        times["total"] = time.perf_counter() - started
        record = self._record(sample, view, solution, pred_obj, pred_status, correct, stage, error, times)
        if run is not None:
            record.update(_verified_fields(run, sample, self.rule))
        return record, view

    def _run_verified(self, sample: Sample) -> Any:
        from formulate.verify.loop import run_verified

        cfg = self.config
        return run_verified(sample.question, self.formulator, rounds=cfg.rounds or 1, samples=cfg.samples,
                            solver=cfg.solver, time_limit=cfg.time_limit, mip_gap=cfg.mip_gap, problem_id=sample.id,
                            rule=cfg.rule)

    def _solve(self, formulation: Any) -> tuple[dict[str, Any] | None, str | None, str | None]:
        """(solution dict, failure stage or None, error) for a formulation."""
        from formulate.api import solve

        cfg = self.config
        try:
            sol = solve(formulation, solver=cfg.solver, time_limit=cfg.time_limit, mip_gap=cfg.mip_gap)
        except FormulationError as exc:
            return None, "check", str(exc)
        except FormulateError as exc:
            return None, "solve", str(exc)
        except Exception as exc:
            log.warning("the solve crashed: %s: %s", type(exc).__name__, exc)
            log.debug("solve traceback", exc_info=True)
            return None, "solve", f"internal error: {type(exc).__name__}: {exc}"
        return _solution_dict(sol), None, None

    @staticmethod
    def _code_outcome(view: AttemptView) -> tuple[str | None, float | None, str | None]:
        """(failure stage or None, objective, status) of a code-mode attempt."""
        if view.code is None:
            return ("formulate" if view.status == "model_error" or not view.replies else "parse"), None, None
        status = _CODE_STATUS.get(view.code_status or "")
        if status is None:
            return "solve", None, None
        return None, (view.objective if status == "optimal" else None), status

    def _record(self, sample: Sample, view: AttemptView | None, solution: dict[str, Any] | None,
                pred_obj: float | None, pred_status: str | None, correct: bool, stage: str, error: str | None,
                times: dict[str, float]) -> dict[str, Any]:
        cfg = self.config
        groups = {k: sample.meta[k] for k in cfg.group_keys if sample.meta.get(k) not in (None, "")}
        extra: dict[str, Any] = {"groups": groups} if groups else {}
        if self.also:
            extra["scores"] = {r.name: r.correct(pred_obj, pred_status, sample.answer, sample.expected_status,
                                                 sample.answer_raw) for r in self.also}
        return {
            "type": "sample", "id": sample.id, "question_sha256": _question_hash(sample.question),
            "dataset": cfg.dataset, "model": cfg.model, "mode": cfg.mode, "class": sample.problem_class,
            "expected": {"answer": sample.answer, "raw": sample.answer_raw, "status": sample.expected_status},
            "attempt": {"status": view.status, **view.info} if view else None,
            "prompt": view.messages if view else [],
            "replies": view.replies if view else [],
            "formulation": _yaml(view.formulation) if view else None,
            "code": view.code if view else None,
            "solution": solution,
            "predicted": {"objective": pred_obj, "status": pred_status},
            "rule": self.rule.name, "correct": correct, "stage": stage,
            "error": error.splitlines()[0][:500] if error else None,
            "tokens": {"prompt": view.prompt_tokens if view else 0,
                       "completion": view.completion_tokens if view else 0},
            "times": {k: round(v, 6) for k, v in times.items()},
            **extra,
            "finished": _now(),
        }


def _solution_dict(sol: Any) -> dict[str, Any]:
    out = {"status": sol.status, "has_solution": bool(sol.has_solution), "objective": sol.objective,
           "bound": sol.bound, "solver": sol.solver, "problem_class": sol.problem_class,
           "times": {k: round(v, 6) for k, v in sol.times.items()}}
    if sol.message and not sol.has_solution:
        out["message"] = sol.message
    return out


def _verified_fields(run: Any, sample: Sample, rule: Any) -> dict[str, Any]:
    """What the verifier adds to a log record: every round (without the reply, logged apart), the best
    round's findings and readings, the vote, and whether the label is among the readings."""
    rounds = []
    for r in run.rounds:
        item = r.to_dict()
        item.pop("reply", None)
        rounds.append(item)
    readings = [r.to_dict() for r in run.readings]
    in_readings = any(r.solved and rule.correct(r.objective, r.status, sample.answer, sample.expected_status,
                                                 sample.answer_raw) for r in run.readings)
    return {"rounds": rounds, "findings": [f.to_dict() for f in run.findings], "readings": readings,
            "vote": run.vote, "label_in_readings": in_readings}


def check_resumable(out: Path, config: EvalConfig, resume: bool) -> tuple[set[str], set[str]]:
    """Ids already logged and blob hashes; errors when the log belongs to another run or resume is off."""
    if not out.exists() or out.stat().st_size == 0:
        return set(), set()
    existing = read_log(out)
    if not resume:
        if existing.samples or existing.headers:
            raise FormulateError(f"{out} already holds {len(existing.samples)} samples; pass --resume to continue "
                                 "it, or choose another --out")
        return set(), set()
    header = existing.header
    for key in ("dataset", "model", "mode", "rounds", DRAWS_KEY):
        old, new = header.get(key), config.samples if key == DRAWS_KEY else getattr(config, key)
        if key in ("rounds", DRAWS_KEY):  # older logs lack them; None (no verifier) is --rounds 0
            if key not in header:
                continue
            old, new = old or 0, new or 0
        if old is not None and old != new:
            raise FormulateError(f"{out} was run with {key} `{old}`, not `{new}`; resume it with the same "
                                 f"{key} or choose another --out")
    return set(existing.samples), set(existing.blobs)


def _progress(enabled: bool | None):
    """A rich progress bar on stderr when it is a terminal (or forced)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    on = console.is_terminal if enabled is None else enabled
    return Progress(TextColumn("[bold]eval"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[score]}"),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console, disable=not on)


def run_eval(samples: Sequence[Sample], formulator: Formulator | FormulateFn | FormulatorSpec, out: str | Path,
             config: EvalConfig, *, resume: bool = False, progress: bool | None = None,
             on_record: Callable[[dict[str, Any]], None] | None = None) -> RunResult:
    """Evaluate ``samples`` into the JSONL log ``out``; with ``resume``, skip ids already logged.

    Records are written by this thread as workers (threads, or Ray tasks with ``config.backend ==
    "ray"``) finish, one flushed line each, so an interruption loses only samples in flight.
    ``formulator`` may be a :class:`FormulatorSpec` (built here, or once per Ray worker).
    ``progress`` None shows a bar only when stderr is a terminal.
    """
    from formulate.ir.io import data_dir_scope, session_data_dir

    out = Path(out)
    if config.backend not in BACKENDS:
        raise FormulateError(f"unknown backend `{config.backend}`; use {' or '.join(BACKENDS)}")
    folder = config.data_dir or session_data_dir()  # the config's, else the caller's data_dir_scope
    config = replace(config, data_dir=str(Path(folder).resolve()) if folder else None)
    done, blobs = check_resumable(out, config, resume)
    todo = [s for s in samples if s.id not in done]
    result = RunResult(out, skipped=len(samples) - len(todo))
    if config.backend == "ray":
        from formulate.eval.ray_backend import RayExecutor

        config = replace(config, threads=config.threads or 1)  # one HiGHS thread per task
        executor: Callable[..., None] = RayExecutor(formulator, config)
    else:
        built = formulator.build() if isinstance(formulator, FormulatorSpec) else formulator
        evaluator = SampleEvaluator(as_callable(built), config,
                                    formulator=built if config.rounds is not None else None)
        executor = partial(_run_threads, evaluator=evaluator, workers=max(1, int(config.workers)))
    try:
        with data_dir_scope(config.data_dir):  # the threads' (each Ray worker enters it around its samples)
            _run(todo, len(samples), out, blobs, config, executor, result, progress, on_record)
    finally:
        if isinstance(formulator, FormulatorSpec) and config.backend != "ray":
            close_formulator(built)
    return result


def _run(todo: Sequence[Sample], total: int, out: Path, blobs: set[str], config: EvalConfig,
         executor: Callable[..., None], result: RunResult, progress: bool | None,
         on_record: Callable[[dict[str, Any]], None] | None) -> None:
    """Write the header, every record as it arrives, and an ``end`` record with the wall time."""
    started = time.perf_counter()
    rule = get_rule(config.rule)
    settings = asdict(config)
    settings[DRAWS_KEY] = settings.pop("samples")  # "samples" is the dataset's count, as it always was
    header = {"type": "run", "version": LOG_VERSION, **settings, "rule": rule.name,
              "rule_statement": rule.statement, "started": _now(), "samples": total,
              "skipped": result.skipped, "argv": sys.argv[1:]}
    bar = _progress(progress)
    correct = 0
    with LogWriter(out, blobs) as writer, bar:
        writer.write(header)
        task = bar.add_task("eval", total=len(todo), score="")

        def emit(record: dict[str, Any]) -> None:
            nonlocal correct
            record["prompt"] = writer.compact_prompt(record.get("prompt") or [])
            writer.write(record)
            result.records.append(record)
            correct += bool(record["correct"])
            n = len(result.records)
            bar.update(task, advance=1, score=f"{correct}/{n} correct")
            if on_record:
                on_record(record)

        try:
            executor(todo, emit)
        finally:
            result.wall_s = time.perf_counter() - started
            writer.write({"type": "end", "wall_s": round(result.wall_s, 6), "records": len(result.records),
                          "finished": _now()})


def _run_threads(todo: Sequence[Sample], emit: Callable[[dict[str, Any]], None], *, evaluator: SampleEvaluator,
                 workers: int) -> None:
    if workers == 1:
        for sample in todo:
            emit(evaluator(sample)[0])
    else:
        _run_pool(todo, evaluator, workers, emit)


def _run_pool(todo: Sequence[Sample], evaluator: SampleEvaluator, workers: int,
              emit: Callable[[dict[str, Any]], None]) -> None:
    """Keep ``2 * workers`` samples in flight; write each record as it finishes."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eval")
    pending: set[Future] = set()
    queue = iter(todo)
    try:
        for sample in queue:
            pending.add(pool.submit(evaluator, sample))
            if len(pending) >= 2 * workers:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    emit(future.result()[0])
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                emit(future.result()[0])
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for future in pending:  # keep what already finished
            if future.done() and not future.cancelled() and future.exception() is None:
                emit(future.result()[0])
        raise
    pool.shutdown(wait=True)


__all__ = ["BACKENDS", "DEFAULT_ROUNDS", "EvalConfig", "config_for", "LOG_VERSION", "RunResult", "STAGES",
           "SampleEvaluator", "check_resumable", "rounds_setting", "run_eval"]
