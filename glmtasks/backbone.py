"""Models and tokenizers from the ``backbone`` config: pretrained (hub id or directory) or built from a config.

GLM models go through transformers' native ``Glm*`` classes; any other model type works
the same way through the ``Auto*`` classes. A from-scratch model gets a byte-level BPE
tokenizer trained on the task's training text: it needs no downloaded files, handles any
Unicode (Chinese included), is a fast tokenizer (character offsets for QA and NER), and is
saved with the run's export.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Optional

from glmtasks.config import BackboneConfig
from glmtasks.errors import ConfigError

log = logging.getLogger(__name__)

SPECIAL_TOKENS = {
    "pad_token": "<pad>",
    "eos_token": "<eos>",
    "bos_token": "<bos>",
    "unk_token": "<unk>",
    "sep_token": "<sep>",
    "mask_token": "<mask>",
}


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int, whole_cjk_characters: bool = True):
    """Train a byte-level BPE tokenizer on ``texts``; returns a ``PreTrainedTokenizerFast``.

    Single texts are encoded as ``text <eos>`` and pairs as ``a <sep> b <eos>``, so that a
    decoder-only classifier pooling the last token always pools the same token.

    With ``whole_cjk_characters`` every CJK character of the training text (after NFKC) is one
    token (:func:`glmtasks.cjk.whole_character_merges`) instead of 2-3 byte pieces; learned merges
    of characters into words still apply. The vocabulary then holds ``vocab_size`` learned
    tokens plus the characters that were not among them (none for text without CJK).
    """
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    from glmtasks.cjk import counting_cjk, whole_character_merges

    specials = list(SPECIAL_TOKENS.values())
    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    cjk_counts: Counter = Counter()
    tokenizer.train_from_iterator(counting_cjk(texts, cjk_counts), trainer=trainer)
    if whole_cjk_characters and cjk_counts:
        tokenizer = Tokenizer.from_str(whole_character_merges(tokenizer.to_str(), cjk_counts))
    eos, sep = SPECIAL_TOKENS["eos_token"], SPECIAL_TOKENS["sep_token"]
    tokenizer.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=True),
            processors.TemplateProcessing(
                single=f"$A {eos}",
                pair=f"$A {sep} $B {eos}",
                special_tokens=[(eos, tokenizer.token_to_id(eos)), (sep, tokenizer.token_to_id(sep))],
            ),
        ]
    )
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, **SPECIAL_TOKENS)


def load_tokenizer(config: BackboneConfig, training_texts: Optional[Callable[[], Iterable[str]]] = None):
    """The tokenizer of ``config``: loaded from ``tokenizer``/``name_or_path``, or trained.

    Built-in padding and truncation of a fast tokenizer's backend are switched off: the
    datamodules truncate explicitly and the collators pad each batch dynamically.
    """
    from transformers import AutoTokenizer

    source = config.tokenizer or config.name_or_path
    if source is None:
        if training_texts is None:
            raise ConfigError(
                "backbone has neither name_or_path nor tokenizer, and the data gives no text to "
                "train one; set backbone.tokenizer=<hub id or directory>"
            )
        tokenizer = train_bpe_tokenizer(training_texts(), config.tokenizer_vocab_size)
        log.info("trained a byte-level BPE tokenizer with %d tokens", len(tokenizer))
        return tokenizer
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            source, trust_remote_code=config.trust_remote_code, revision=config.revision
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot load tokenizer '{source}': {_first_line(exc)}; give a local directory or a hub "
            "id reachable from here (backbone.name_or_path=... or backbone.tokenizer=...)"
        ) from exc
    if getattr(tokenizer, "is_fast", False):
        tokenizer.backend_tokenizer.no_padding()
        tokenizer.backend_tokenizer.no_truncation()
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ConfigError(f"tokenizer '{source}' has no pad or eos token; use a tokenizer with a pad token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(config: BackboneConfig, auto_class: str, tokenizer: Any, **task_kwargs: Any):
    """Build the transformers model of ``config`` with the head class ``auto_class``.

    Args:
        config: the backbone config.
        auto_class: name of a ``transformers`` auto class, e.g.
            ``"AutoModelForSequenceClassification"``.
        tokenizer: the run's tokenizer; gives vocabulary size and special-token ids to
            models built from a config, and the pad id to models that have none.
        task_kwargs: config fields the task sets (``num_labels``, ``id2label``, ...).

    The model is returned in train mode (``from_pretrained`` returns eval mode, and
    Lightning keeps the mode it finds, which would silently disable dropout).
    """
    import torch
    import transformers

    auto = getattr(transformers, auto_class)
    if config.name_or_path:
        kwargs: dict[str, Any] = dict(
            trust_remote_code=config.trust_remote_code,
            revision=config.revision,
            **task_kwargs,
            **config.model_config,
        )
        if config.dtype:
            kwargs["dtype"] = config.dtype if config.dtype == "auto" else getattr(torch, config.dtype)
        if config.attn_implementation:
            kwargs["attn_implementation"] = config.attn_implementation
        try:
            model = auto.from_pretrained(config.name_or_path, **kwargs)
        except OSError as exc:
            raise ConfigError(
                f"cannot load model '{config.name_or_path}': {_first_line(exc)}; give a local "
                "directory or a hub id reachable from here (backbone.name_or_path=...)"
            ) from exc
        except ValueError as exc:
            raise ConfigError(f"model '{config.name_or_path}' cannot be used as {auto_class}: {_first_line(exc)}") from exc
    else:
        special_ids = {
            f"{name}_id": getattr(tokenizer, f"{name}_id")
            for name in ("pad_token", "bos_token", "eos_token")
            if getattr(tokenizer, f"{name}_id", None) is not None
        }
        fields = {"vocab_size": len(tokenizer), **special_ids, **config.model_config, **task_kwargs}
        try:
            model_config = transformers.AutoConfig.for_model(config.model_type, **fields)
        except ValueError as exc:
            raise ConfigError(f"unknown backbone.model_type '{config.model_type}': {_first_line(exc)}") from exc
        if config.attn_implementation:
            model_config._attn_implementation = config.attn_implementation
        model = auto.from_config(model_config)
    if getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    if config.peft is not None:
        model = apply_peft(model, config.peft, auto_class)
    model.train()
    return model


# peft task types of the auto classes; they decide which head modules stay fully trainable.
PEFT_TASK_TYPES = {
    "AutoModelForSequenceClassification": "SEQ_CLS",
    "AutoModelForTokenClassification": "TOKEN_CLS",
    "AutoModelForQuestionAnswering": "QUESTION_ANS",
    "AutoModelForCausalLM": "CAUSAL_LM",
    "AutoModelForSeq2SeqLM": "SEQ_2_SEQ_LM",
}
GLM_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_up_proj", "down_proj"]


def apply_peft(model: Any, config: Any, auto_class: str):
    """Wrap ``model`` with LoRA adapters; only adapters and the task head stay trainable."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as exc:
        raise ConfigError("peft=lora needs the peft package; install it with pip install 'glmtasks[peft]'") from exc
    if config.name != "lora":
        raise ConfigError(f"unknown peft method '{config.name}'; use peft=lora")
    targets = config.target_modules
    if targets is None and getattr(model.config, "model_type", "").startswith("glm"):
        targets = GLM_LORA_TARGETS
    lora = LoraConfig(
        r=config.r,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=targets,
        task_type=PEFT_TASK_TYPES.get(auto_class),
    )
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:
        raise ConfigError(f"cannot apply LoRA: {_first_line(exc)}; set backbone.peft.target_modules=[...]") from exc


def is_encoder_decoder(backbone: BackboneConfig) -> bool:
    """Whether the backbone's architecture is encoder-decoder (T5, BART) rather than decoder-only."""
    import transformers

    try:
        if backbone.name_or_path:
            config = transformers.AutoConfig.from_pretrained(
                backbone.name_or_path, trust_remote_code=backbone.trust_remote_code, revision=backbone.revision
            )
        else:
            config = transformers.AutoConfig.for_model(backbone.model_type)
    except (OSError, ValueError) as exc:
        source = backbone.name_or_path or backbone.model_type
        raise ConfigError(f"cannot read the model config of '{source}': {_first_line(exc)}; check backbone.name_or_path / backbone.model_type") from exc
    return bool(getattr(config, "is_encoder_decoder", False))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
