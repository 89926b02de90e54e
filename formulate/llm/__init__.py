"""Chat-model backends selected by a spec string: ``openai:MODEL``, ``hf:PATH_OR_ID``, ``replay:FILE``.

Importing this package never imports torch or transformers (the ``hf:`` backend loads them on use).
"""

from formulate.llm.base import ChatModel, ChatRequest, ChatResponse, Completion, Message, Usage
from formulate.llm.cache import CachedModel, default_cache_dir
from formulate.llm.hf import HFModel
from formulate.llm.openai_compat import OpenAICompatModel
from formulate.llm.registry import load_model, parse_spec
from formulate.llm.replay import ReplayModel, problem_key, record_replay

__all__ = [
    "CachedModel",
    "ChatModel",
    "ChatRequest",
    "ChatResponse",
    "Completion",
    "HFModel",
    "Message",
    "OpenAICompatModel",
    "ReplayModel",
    "Usage",
    "default_cache_dir",
    "load_model",
    "parse_spec",
    "problem_key",
    "record_replay",
]
