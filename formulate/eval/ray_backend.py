"""The Ray backend of ``formulate eval``/``sweep``: one Ray task per sample, the driver alone writes the log.

Each task formulates, solves (in process, HiGHS with one thread) and scores its sample in a Ray worker;
the formulator is built once per worker process from a :class:`FormulatorSpec` (or unpickled from a
callable). Results stream back in completion order and the driver writes each as one flushed line, so
killing the driver loses only samples in flight and ``--resume`` reruns exactly those.

Model calls go through one limiter actor per endpoint (a named Ray actor, shared by every worker of
the job): at most ``model_calls`` in flight, and at most ``calls_per_minute`` started per minute.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from formulate.datasets.loaders import Sample
from formulate.errors import FormulateError
from formulate.eval.attempts import FormulatorSpec, as_callable

log = logging.getLogger(__name__)

NAMESPACE = "formulate"
LIMITER_PREFIX = "formulate-model-calls:"
_LOCAL_OBJECT_STORE = 128 * 1024 * 1024  # a local Ray only moves small records


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise FormulateError("the ray backend needs Ray: pip install 'formulate-opt[ray]' (or pip install ray), "
                             "or use --backend thread") from None
    return ray


def package_root() -> str:
    """The folder that holds the ``formulate`` package this driver runs (put on the workers' path)."""
    return str(Path(__file__).resolve().parents[2])


def init_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Connect to the cluster at ``address`` (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``), or start a local one.

    Workers get this driver's package folder on PYTHONPATH, so a local cluster runs the same formulate.
    Does nothing when Ray is already initialised in this process.
    """
    ray = _ray()
    if ray.is_initialized():
        return
    path = os.pathsep.join(p for p in (package_root(), os.environ.get("PYTHONPATH", "")) if p)
    kwargs: dict[str, Any] = {"namespace": NAMESPACE, "log_to_driver": False, "logging_level": logging.WARNING,
                              "runtime_env": {"env_vars": {"PYTHONPATH": path}}}
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False,  # a new one, never another's
                     object_store_memory=_LOCAL_OBJECT_STORE, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FormulateError(f"cannot start {where}: {first}; check `ray status`, or use --backend thread") from None


# ------------------------------------------------------------------------------------------ rate limiting


def limiter_class() -> Any:
    """The limiter actor class (defined on first use so importing this module does not import Ray)."""
    ray = _ray()
    if "_LIMITER" in globals():
        return globals()["_LIMITER"]

    @ray.remote(num_cpus=0, max_concurrency=1000)
    class CallLimiter:
        """At most ``max_in_flight`` calls at once; starts spaced by ``60 / per_minute`` seconds."""

        def __init__(self, max_in_flight: int, per_minute: float | None) -> None:
            import asyncio

            self.slots = asyncio.Semaphore(max(1, int(max_in_flight)))
            self.spacing = 60.0 / per_minute if per_minute else 0.0
            self.next_start = 0.0
            self.in_flight = 0
            self.calls = 0
            self.peak = 0

        async def acquire(self) -> None:
            import asyncio
            import time

            await self.slots.acquire()
            if self.spacing:
                now = time.monotonic()
                start = max(now, self.next_start)
                self.next_start = start + self.spacing
                if start > now:
                    await asyncio.sleep(start - now)
            self.in_flight += 1
            self.calls += 1
            self.peak = max(self.peak, self.in_flight)

        async def configure(self, max_in_flight: int, per_minute: float | None) -> None:
            """New limits for the next run (applied only while no call is in flight)."""
            import asyncio

            if self.in_flight == 0:
                self.slots = asyncio.Semaphore(max(1, int(max_in_flight)))
                self.spacing = 60.0 / per_minute if per_minute else 0.0

        async def release(self) -> None:
            self.in_flight -= 1
            self.slots.release()

        async def stats(self) -> dict[str, int]:
            return {"calls": self.calls, "peak_in_flight": self.peak, "in_flight": self.in_flight}

    globals()["_LIMITER"] = CallLimiter
    return CallLimiter


_LIMITERS: dict[tuple[str, str, str], Any] = {}


def limiter_for(endpoint: str, max_in_flight: int, per_minute: float | None) -> Any:
    """The job's limiter actor for ``endpoint`` (created by the first caller, found by name after).

    The driver keeps every handle it got for as long as its Ray session lives: a named actor is still
    collected when its last handle goes, and the next run's ``get_if_exists`` could be handed the dying
    actor (its calls then fail with ActorDiedError, as a sweep's second cell on one endpoint did).
    """
    ray = _ray()
    context = ray.get_runtime_context()
    key = (str(context.gcs_address), str(context.get_job_id()), endpoint)
    handle = _LIMITERS.get(key)
    if handle is None:
        handle = limiter_class().options(name=LIMITER_PREFIX + endpoint, namespace=NAMESPACE, get_if_exists=True,
                                         lifetime=None).remote(max_in_flight, per_minute)
        _LIMITERS[key] = handle
    else:
        ray.get(handle.configure.remote(max_in_flight, per_minute))
    return handle


def _limited_model(inner: Any, limiter: Any) -> Any:
    """``inner`` (a ChatModel) with every call holding a slot of ``limiter``."""
    from formulate.llm.base import ChatModel

    ray = _ray()

    class LimitedModel(ChatModel):
        spec = getattr(inner, "spec", "")

        def chat(self, request: Any) -> Any:
            ray.get(limiter.acquire.remote())
            try:
                return inner.chat(request)
            finally:
                limiter.release.remote()

        def cache_identity(self) -> str:
            return inner.cache_identity()

        def close(self) -> None:
            inner.close()

        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

    return LimitedModel()


def limit_model_calls(formulator: Any, limiter: Any) -> int:
    """Route the chat models a formulator holds (``.model``, ``.inner.model``) through ``limiter``."""
    from formulate.llm.base import ChatModel

    wrapped = 0
    for owner in (formulator, getattr(formulator, "inner", None)):
        model = getattr(owner, "model", None)
        if isinstance(model, ChatModel):
            owner.model = _limited_model(model, limiter)
            wrapped += 1
    return wrapped


# ------------------------------------------------------------------------------------------ the task

_WORKER_EVALUATORS: dict[tuple[int, str], Any] = {}


def _highs_threads(threads: int) -> None:
    """Restart this process's HiGHS thread pool with ``threads`` threads (HiGHS's pool is process-wide, so
    one call covers every later solve here; per-solve options that disagree with the pool fail)."""
    try:
        import highspy

        from formulate.solvers.highs import _set_threads
    except ImportError:
        return
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    _set_threads(h, int(threads))


def _worker_evaluator(formulator: Any, config: Any, key: str, limiter: Any) -> Any:
    """The SampleEvaluator of this worker process for one run (built on the run's first task here).

    The formulator is built afresh for every run, as the thread backend does: models count repeated
    requests (replay order, cache slots), so a formulator reused across runs would answer differently.
    """
    from formulate.eval.runner import SampleEvaluator

    cache_key = (os.getpid(), key)
    evaluator = _WORKER_EVALUATORS.get(cache_key)
    if evaluator is None:
        if config.threads:
            _highs_threads(config.threads)
        built = formulator.build() if isinstance(formulator, FormulatorSpec) else formulator
        if limiter is not None:
            limit_model_calls(built, limiter)
        evaluator = SampleEvaluator(as_callable(built), config, formulator=built if config.rounds is not None else None)
        _WORKER_EVALUATORS.clear()  # one run at a time per worker process
        _WORKER_EVALUATORS[cache_key] = evaluator
    return evaluator


def evaluate_in_worker(formulator: Any, config: Any, key: str, limiter: Any, sample: Sample) -> dict[str, Any]:
    """Formulate, solve and score ``sample`` in a Ray worker; returns the log record.

    The run's data folder (``config.data_dir``, the driver's ``--data-dir``) holds here around the sample:
    the driver's own scope is process-global and does not reach this process. On a cluster the folder
    must exist at the same path on every node.
    """
    from formulate.ir.io import data_dir_scope

    with data_dir_scope(config.data_dir):
        return _worker_evaluator(formulator, config, key, limiter)(sample)[0]


class RayExecutor:
    """Runs samples as Ray tasks and hands each record to ``emit`` in completion order."""

    def __init__(self, formulator: Any, config: Any) -> None:
        if isinstance(formulator, FormulatorSpec):
            formulator.validate()  # a bad spec fails here, in the driver, with its own message
        self.formulator = formulator
        self.config = replace(config, threads=config.threads or 1)

    def __call__(self, todo: Sequence[Sample], emit: Callable[[dict[str, Any]], None]) -> None:
        if not todo:
            return
        ray = _ray()
        init_ray(self.config.address)
        limiter = None
        if isinstance(self.formulator, FormulatorSpec) and self.formulator.model != "rules":
            limiter = limiter_for(self.formulator.endpoint, self.config.model_calls, self.config.calls_per_minute)
        task = ray.remote(num_cpus=1, max_retries=2)(evaluate_in_worker)
        key = f"{os.getpid()}-{id(self)}"
        shared = [ray.put(self.formulator), ray.put(self.config)]
        in_flight = max(2, 2 * max(int(self.config.workers), int(ray.cluster_resources().get("CPU", 1))))
        queue = iter(todo)
        pending: dict[Any, str] = {}
        lost: list[str] = []
        first_error = ""

        def submit() -> bool:
            sample = next(queue, None)
            if sample is None:
                return False
            pending[task.remote(*shared, key, limiter, sample)] = sample.id
            return True

        try:
            while len(pending) < in_flight and submit():
                pass
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    sid = pending.pop(ref)
                    try:
                        record = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        lines = [line for line in str(exc).splitlines() if line.strip()]
                        reason = lines[-1].strip() if lines else type(exc).__name__
                        log.warning("%s: the Ray task failed: %s", sid, reason)
                        lost.append(sid)
                        first_error = first_error or reason
                    else:
                        emit(record)
                    submit()
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        if lost:
            raise FormulateError(f"{len(lost)} samples failed in Ray workers ({', '.join(lost[:5])}"
                                 f"{', ...' if len(lost) > 5 else ''}: {first_error}); every other record is in "
                                 "the log; rerun with --resume to retry them")


__all__ = ["LIMITER_PREFIX", "NAMESPACE", "RayExecutor", "evaluate_in_worker", "init_ray", "limit_model_calls",
           "limiter_for", "package_root"]
