"""``hf:PATH_OR_ID``: a local transformers causal LM with its chat template.

torch and transformers are imported when a model is loaded, never at import time. Sampling at
temperature 0 is greedy (and ``n`` greedy samples are one generation repeated); :meth:`chat_many`
batches prompts with the same sampling settings (left padding). Usage is counted from token lengths;
``finish_reason`` is ``"stop"`` when an end-of-sequence token was produced, ``"length"`` when
``max_new_tokens`` ran out.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from formulate.errors import ModelError
from formulate.llm.base import ChatModel, ChatRequest, ChatResponse, Completion, Message, Usage

log = logging.getLogger(__name__)

DEFAULT_MAX_NEW_TOKENS = 1024


def fallback_chat_prompt(messages: list[Message]) -> str:
    """A plain template for tokenizers without one: ``<|role|>`` headers, then an open assistant turn."""
    parts = [f"<|{m['role']}|>\n{m['content']}\n" for m in messages]
    return "".join(parts) + "<|assistant|>\n"


def _merge_system(messages: list[Message]) -> list[Message]:
    """Fold system messages into the first user turn (for templates that reject the system role)."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system:
        if rest and rest[0]["role"] == "user":
            rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
        else:
            rest.insert(0, {"role": "user", "content": system})
    return rest


class HFModel(ChatModel):
    """A transformers ``AutoModelForCausalLM`` answering chat requests locally (CPU or CUDA)."""

    def __init__(
        self,
        path: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 8,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        trust_remote_code: bool = False,
    ) -> None:
        if not path:
            raise ModelError("model spec `hf:` names no model; use hf:PATH or hf:ORG/NAME")
        try:
            import torch
            import transformers
        except ImportError:
            raise ModelError(
                "hf: models need torch and transformers; pip install 'formulate-opt[hf]'"
            ) from None
        self._torch = torch
        self.path = path
        local = Path(path).expanduser()
        self.source = str(local.resolve()) if local.exists() else path
        self.spec = f"hf:{path}"
        self.batch_size = max(1, int(batch_size))
        self.max_new_tokens = int(max_new_tokens)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self._lock = threading.Lock()
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                self.source, trust_remote_code=trust_remote_code
            )
            model = transformers.AutoModelForCausalLM.from_pretrained(
                self.source, trust_remote_code=trust_remote_code, **self._dtype_kwargs(transformers, dtype)
            )
        except Exception as exc:  # noqa: BLE001 - transformers raises many kinds; report them as one
            msg = " ".join(str(exc).split())[:300]
            raise ModelError(f"could not load hf model `{path}`: {type(exc).__name__}: {msg}") from None
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            if tokenizer.eos_token is not None:
                tokenizer.pad_token = tokenizer.eos_token
            else:
                tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
                model.resize_token_embeddings(len(tokenizer))
        self._tokenizer = tokenizer
        self._model = model.to(self.device).eval()
        self._has_template = bool(getattr(tokenizer, "chat_template", None))
        self._stop_ids = self._eos_ids()
        self._max_positions = getattr(model.config, "max_position_embeddings", None)
        log.info("loaded %s on %s (%s)", self.spec, self.device, next(model.parameters()).dtype)

    def _dtype_kwargs(self, transformers: Any, dtype: str) -> dict[str, Any]:
        torch = self._torch
        if dtype == "auto":
            value: Any = "auto" if self.device.type == "cuda" else torch.float32
        else:
            value = getattr(torch, dtype, None)
            if not isinstance(value, torch.dtype):
                raise ModelError(f"unknown dtype `{dtype}`; use auto, float32, bfloat16 or float16")
        major, minor = (int(p) for p in transformers.__version__.split(".")[:2])
        return {"dtype" if (major, minor) >= (4, 56) else "torch_dtype": value}

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        for value in (self._model.generation_config.eos_token_id, self._tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, list | tuple):
                ids.update(int(v) for v in value)
        return ids

    def cache_identity(self) -> str:
        return f"hf:{self.source}"

    # -- prompts ---------------------------------------------------------------------------

    def prompt(self, messages: list[Message]) -> str:
        """The text the model sees: the tokenizer's chat template with an open assistant turn."""
        if not self._has_template:
            return fallback_chat_prompt(messages)
        try:
            return self._render(messages)
        except Exception as exc:  # noqa: BLE001 - jinja raises TemplateError and friends
            if any(m["role"] == "system" for m in messages):
                log.debug("%s: chat template failed (%s); folding the system message in", self.spec, exc)
                return self._render(_merge_system(messages))
            raise ModelError(f"{self.spec}: the chat template failed: {exc}") from None

    def _render(self, messages: list[Message]) -> str:
        text = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return text if isinstance(text, str) else str(text)

    # -- generation ------------------------------------------------------------------------

    def chat(self, request: ChatRequest) -> ChatResponse:
        return self.chat_many([request])[0]

    def chat_many(self, requests: list[ChatRequest]) -> list[ChatResponse]:
        """Batch requests that share sampling settings, shortest prompts together."""
        prompts = [self.prompt(r.messages) for r in requests]
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, r in enumerate(requests):
            sampled = r.temperature > 0
            key = (
                max(1, r.n) if sampled else 1,
                r.temperature if sampled else 0.0,
                r.max_tokens or self.max_new_tokens,
                r.seed if sampled else None,
            )
            groups.setdefault(key, []).append(i)
        results: list[ChatResponse | None] = [None] * len(requests)
        for (n, temperature, max_new, seed), members in groups.items():
            members.sort(key=lambda i: len(prompts[i]))
            size = max(1, self.batch_size // n)
            for start in range(0, len(members), size):
                chunk = members[start : start + size]
                out = self._generate([prompts[i] for i in chunk], n, temperature, max_new, seed)
                for i, response in zip(chunk, out, strict=True):
                    want = max(1, requests[i].n)
                    if len(response.completions) < want:  # greedy: one generation stands for n samples
                        response.completions = response.completions * want
                        response.usage.completion_tokens *= want
                    results[i] = response
        return [r for r in results if r is not None]

    def _generate(
        self, prompts: list[str], n: int, temperature: float, max_new: int, seed: int | None
    ) -> list[ChatResponse]:
        torch = self._torch
        tok = self._tokenizer
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=not self._has_template)
        enc = {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        prompt_len = enc["input_ids"].shape[1]
        if self._max_positions:
            room = int(self._max_positions) - prompt_len
            if room <= 0:
                raise ModelError(
                    f"{self.spec}: the prompt has {prompt_len} tokens, the model takes at most {self._max_positions}"
                )
            max_new = min(max_new, room)
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new,
            "pad_token_id": tok.pad_token_id,
            "eos_token_id": sorted(self._stop_ids) or None,
        }
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, num_return_sequences=n)
        else:
            kwargs.update(do_sample=False, num_beams=1)
        start = time.perf_counter()
        with self._lock, torch.inference_mode():
            rng = nullcontext()
            if seed is not None:
                devices = [self.device.index or 0] if self.device.type == "cuda" else []
                rng = torch.random.fork_rng(devices=devices)
            with rng:
                if seed is not None:
                    torch.manual_seed(seed)
                try:
                    out = self._model.generate(**enc, **kwargs)
                except torch.cuda.OutOfMemoryError:
                    raise ModelError(
                        f"{self.spec}: out of GPU memory for a batch of {len(prompts)}; lower the batch size"
                    ) from None
        latency = time.perf_counter() - start
        new_tokens = out[:, prompt_len:].tolist()
        prompt_counts = enc["attention_mask"].sum(dim=1).tolist()
        responses = []
        for i in range(len(prompts)):
            completions, generated = [], 0
            for row in new_tokens[i * n : (i + 1) * n]:
                completion, count = self._decode(row, max_new)
                completions.append(completion)
                generated += count
            responses.append(
                ChatResponse(
                    completions=completions,
                    usage=Usage(int(prompt_counts[i]), generated),
                    latency_s=latency,
                    model=self.spec,
                )
            )
        return responses

    def _decode(self, row: list[int], max_new: int) -> tuple[Completion, int]:
        """Text up to the first stop token, the number of tokens generated and why it ended."""
        end = next((j for j, t in enumerate(row) if t in self._stop_ids), None)
        if end is not None:
            text = self._tokenizer.decode(row[:end], skip_special_tokens=True)
            return Completion(text, "stop"), end + 1
        reason = "length" if len(row) >= max_new else "stop"
        return Completion(self._tokenizer.decode(row, skip_special_tokens=True), reason), len(row)

    def close(self) -> None:
        model = getattr(self, "_model", None)
        if model is not None:
            self._model = None
            del model
            if self.device.type == "cuda":
                self._torch.cuda.empty_cache()
