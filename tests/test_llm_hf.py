"""hf: backend on a tiny random Llama-style model built offline in a temp dir."""

from __future__ import annotations

import subprocess
import sys

import pytest

from formulate.errors import ModelError
from formulate.llm import ChatRequest, HFModel, load_model

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

SENTENCES = [
    "maximize profit subject to wood and labor limits",
    "a factory makes chairs and tables",
    "minimize cost of shipping from plants to markets",
    "each truck carries at most ten tons",
    "system user assistant : the answer is x = 3",
]
TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}assistant : {% endif %}"
)
EOS, BOS, PAD, UNK = "</s>", "<s>", "<pad>", "<unk>"  # ids 0, 1, 2, 3


def build(path, *, chat_template: str | None, silent_norm: bool = False) -> None:
    """Train a word-level tokenizer on a few sentences and save it with a random 2-layer Llama."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    raw = Tokenizer(models.WordLevel(unk_token=UNK))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    raw.train_from_iterator(SENTENCES, trainers.WordLevelTrainer(special_tokens=[EOS, BOS, PAD, UNK]))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, bos_token=BOS, eos_token=EOS, pad_token=PAD, unk_token=UNK
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(path)
    config = LlamaConfig(
        vocab_size=raw.get_vocab_size(),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        eos_token_id=0,
        bos_token_id=1,
        pad_token_id=2,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    if silent_norm:  # zero hidden state -> all logits 0 -> greedy picks id 0, the end-of-sequence token
        with torch.no_grad():
            model.model.norm.weight.zero_()
    else:  # end-of-sequence logit 0 while ~40 random others compete: greedy runs to the token limit
        with torch.no_grad():
            model.lm_head.weight[0].zero_()
    model.save_pretrained(path)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("tiny-hf")
    paths = {name: str(root / name) for name in ("chat", "plain", "eos")}
    build(paths["chat"], chat_template=TEMPLATE)
    build(paths["plain"], chat_template=None)
    build(paths["eos"], chat_template=TEMPLATE, silent_norm=True)
    return paths


@pytest.fixture(scope="module")
def model(tiny) -> HFModel:
    m = load_model("hf:" + tiny["chat"], use_cache=False, device="cpu")
    assert isinstance(m, HFModel)
    return m


MESSAGES = [
    {"role": "system", "content": "a factory makes chairs"},
    {"role": "user", "content": "maximize profit"},
]


def test_greedy_generation_fields(model):
    response = model.chat(ChatRequest(MESSAGES, max_tokens=6))
    assert len(response.completions) == 1 and response.completions[0].finish_reason == "length"
    assert response.usage.prompt_tokens == len(
        model._tokenizer(model.prompt(MESSAGES), add_special_tokens=False)["input_ids"]
    )
    assert response.usage.completion_tokens == 6 and response.latency_s > 0
    assert response.text and not response.cached and response.model == model.spec


def test_chat_template_is_used(model):
    assert model.prompt(MESSAGES) == "<s>system : a factory makes chairs user : maximize profit assistant : "


def test_temperature_zero_is_deterministic_and_n_copies(model):
    a = model.chat(ChatRequest(MESSAGES, max_tokens=5))
    b = model.chat(ChatRequest(MESSAGES, max_tokens=5, n=3))
    assert [c.text for c in b.completions] == [a.text] * 3
    assert b.usage.completion_tokens == 15 and b.usage.prompt_tokens == a.usage.prompt_tokens


def test_sampling_n_and_seed(model):
    request = ChatRequest(MESSAGES, max_tokens=8, n=4, temperature=1.5, seed=3)
    first = model.chat(request)
    assert len(first.completions) == 4 and first.usage.completion_tokens > 0
    assert len({c.text for c in first.completions}) > 1  # samples differ
    assert [c.text for c in model.chat(request).completions] == [c.text for c in first.completions]


def test_batch_of_two_prompts_matches_one_by_one(model):
    short = [{"role": "user", "content": "minimize cost"}]
    requests = [ChatRequest(MESSAGES, max_tokens=5), ChatRequest(short, max_tokens=5)]
    batched = model.chat_many(requests)
    single = [model.chat(r) for r in requests]
    assert [r.text for r in batched] == [r.text for r in single]
    assert batched[0].usage.prompt_tokens > batched[1].usage.prompt_tokens
    assert [r.usage.completion_tokens for r in batched] == [5, 5]


def test_stop_finish_reason(tiny):
    m = load_model("hf:" + tiny["eos"], use_cache=False, device="cpu")
    response = m.chat(ChatRequest(MESSAGES, max_tokens=6))
    assert response.completions[0].finish_reason == "stop" and response.text == ""
    assert response.usage.completion_tokens == 1


def test_fallback_template_without_chat_template(tiny):
    m = load_model("hf:" + tiny["plain"], use_cache=False, device="cpu")
    assert m.prompt(MESSAGES).startswith("<|system|>\na factory makes chairs\n<|user|>\n")
    response = m.chat(ChatRequest(MESSAGES, max_tokens=3))
    assert response.usage.completion_tokens == 3 and response.usage.prompt_tokens > 0


def test_cached_hf_model(tiny, tmp_path):
    m = load_model("hf:" + tiny["chat"], cache_dir=tmp_path, device="cpu")
    first = m.chat(ChatRequest(MESSAGES, max_tokens=4))
    again = load_model("hf:" + tiny["chat"], cache_dir=tmp_path, device="cpu").chat(
        ChatRequest(MESSAGES, max_tokens=4)
    )
    assert not first.cached and again.cached and again.text == first.text


def test_missing_path_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="could not load hf model"):
        load_model(f"hf:{tmp_path / 'nothing-here'}", use_cache=False)


def test_import_does_not_load_torch():
    code = (
        "import sys, formulate.llm; assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
