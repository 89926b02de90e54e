"""Pick a chat-model backend from a spec string: ``openai:MODEL``, ``hf:PATH_OR_ID``, ``replay:FILE``.

The model is always named explicitly; nothing is guessed from API keys in the environment.
"""

from __future__ import annotations

from pathlib import Path

from formulate.errors import ModelError, did_you_mean
from formulate.llm.base import ChatModel
from formulate.llm.cache import CachedModel, cache_disabled
from formulate.llm.openai_compat import DEFAULT_CONCURRENCY, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S

PREFIXES = ("openai", "hf", "replay")
SPEC_FORMS = "openai:MODEL, hf:PATH_OR_ID or replay:FILE"
_SERVERS = (
    "vllm",
    "ollama",
    "llamacpp",
    "llama.cpp",
    "lmstudio",
    "sglang",
    "tgi",
    "azure",
    "together",
    "groq",
)


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``prefix:rest``; raise ModelError naming the spec and the allowed forms."""
    prefix, sep, rest = spec.strip().partition(":")
    prefix = prefix.strip().lower()
    if sep and prefix in PREFIXES:
        if not rest.strip():
            raise ModelError(f"model spec `{spec}` names no model; use {SPEC_FORMS}")
        return prefix, rest.strip()
    if not sep and prefix == "rules":
        hint = "`rules` is the offline formulator, not a chat model; leave --model out to use it"
    elif not sep:
        form = "hf" if Path(spec).expanduser().exists() else "openai"
        hint = f"did you mean `{form}:{spec.strip()}`?"
    elif prefix in _SERVERS:
        hint = f"{prefix} serves the OpenAI API: use `openai:{rest.strip()}` with --base-url"
    else:
        hint = did_you_mean(prefix, PREFIXES)
    tail = f"; {hint}" if hint else ""
    raise ModelError(f"unknown model spec `{spec}`; use {SPEC_FORMS}{tail}")


def load_model(
    spec: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_retries: int = DEFAULT_MAX_RETRIES,
    concurrency: int = DEFAULT_CONCURRENCY,
    backoff_base: float = 1.0,
    device: str = "auto",
    batch_size: int = 8,
) -> ChatModel:
    """Build the backend for ``spec``, wrapped in the on-disk response cache unless turned off.

    The cache is off with ``use_cache=False`` or ``FORMULATE_NO_CACHE=1``; replay is never cached.
    ``base_url``/``api_key``/``timeout``/``max_retries``/``concurrency``/``backoff_base`` apply to
    ``openai:``, ``device``/``batch_size`` to ``hf:``.
    """
    prefix, rest = parse_spec(spec)
    model: ChatModel
    if prefix == "replay":
        from formulate.llm.replay import ReplayModel

        return ReplayModel(rest)
    if prefix == "openai":
        from formulate.llm.openai_compat import OpenAICompatModel

        model = OpenAICompatModel(
            rest,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            concurrency=concurrency,
            backoff_base=backoff_base,
        )
    else:
        from formulate.llm.hf import HFModel

        model = HFModel(rest, device=device, batch_size=batch_size)
    if use_cache and not cache_disabled():
        return CachedModel(model, cache_dir)
    return model
