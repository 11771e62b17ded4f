"""The verbalizer head (``task.head=verbalizer``): classification as filling in a blank, with the LM head.

GLM fine-tunes classification as blank infilling (Du et al., 2022, section 2.3): the text
gets a cloze prompt, ``"<text> It was [MASK] ."``, each label a word (its *verbalizer*:
``positive -> good``), and the class scores are the language model's logits of those words
at the blank. No layer is added: the output projection the model was pre-trained with scores
the labels, trained with cross-entropy over the verbalizers' logits.

Two attention patterns (``task.head_config.attention``):

* ``prefix`` (GLM's): part A = text + prompt, read bidirectionally; part B = ``[S]`` (the
  tokenizer's bos token) at the blank's position, block position 1, whose logits score the
  labels. The pattern, positions and block-position table are those of blank-infilling
  pre-training (:mod:`glmtasks.prefix_lm`, shared with ``task=pretrain``); the table is
  loaded from the export when it has one.
* ``causal``: any causal LM: the text and the prompt up to the blank, causally; the logits at
  the last token (the next-word prediction) score the labels.

``auto`` picks ``prefix`` when the backbone folder holds a block-position table (an export of
blank-infilling pre-training), else ``causal``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from glmtasks.api import (
    BlockPositionEmbedding,
    ConfigError,
    is_encoder_decoder,
    load_block_position_weight,
    load_model,
    pad_rows,
    prefix_lm_hidden_states,
    save_block_position_weight,
)
from glmtasks_classification.config import VerbalizerConfig
from glmtasks_classification.heads import SequenceClassificationHead

BLANK = "[MASK]"
ATTENTIONS = ("auto", "prefix", "causal")


class VerbalizerHead(SequenceClassificationHead):
    """Scores each label by the LM logit of its verbalizer's token at the blank; cross-entropy over labels.

    Args:
        model: a transformers ``*ForCausalLM``.
        word_ids: (num_labels,) token id of each label's word.
        before, after: prompt tokens before and after the blank (``after`` is unused by ``causal``).
        prefix: GLM's prefix pattern (else plain causal).
        block_positions: the block-position table of the pre-trained model (``prefix`` only), or None.
    """

    def __init__(self, model: torch.nn.Module, tokenizer: Any, labels: list[str], word_ids: list[int], before: list[int],
                 after: list[int], prefix: bool, block_positions: BlockPositionEmbedding | None):
        super().__init__(model, tokenizer, labels)
        self.register_buffer("word_ids", torch.tensor(word_ids, dtype=torch.long), persistent=False)
        self.before, self.after, self.prefix = before, after, prefix
        self.block_positions = block_positions

    def _base(self) -> torch.nn.Module:
        return self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model

    def cloze_inputs(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The model inputs of the cloze (right-padded) and ``read_at``, the position scored, per example.

        The text is the example's tokens without a trailing eos (the tokenizer's end of input:
        the prompt continues the text).
        """
        eos = self.tokenizer.eos_token_id
        rows: dict[str, list[list[int]]] = {"input_ids": [], "position_ids": [], "block_position_ids": []}
        prefix_length, read_at = [], []
        for ids, mask in zip(batch["input_ids"].tolist(), batch["attention_mask"].tolist()):
            text = ids[: sum(mask)]
            if text and text[-1] == eos:
                text = text[:-1]
            if self.prefix:
                part_a = text + self.before + [self.tokenizer.mask_token_id] + self.after
                blank = len(text) + len(self.before)
                tokens = part_a + [self.tokenizer.bos_token_id]
                positions = list(range(len(part_a))) + [blank]
                blocks = [0] * len(part_a) + [1]
                prefix_length.append(len(part_a))
            else:
                tokens = text + self.before
                positions, blocks = list(range(len(tokens))), [0] * len(tokens)
                prefix_length.append(0)
            rows["input_ids"].append(tokens)
            rows["position_ids"].append(positions)
            rows["block_position_ids"].append(blocks)
            read_at.append(len(tokens) - 1)
        device = batch["input_ids"].device
        inputs = {key: pad_rows(values, 0, "right").to(device) for key, values in rows.items()}
        inputs["input_ids"] = pad_rows(rows["input_ids"], self.tokenizer.pad_token_id or 0, "right").to(device)
        inputs["attention_mask"] = pad_rows([[1] * len(r) for r in rows["input_ids"]], 0, "right").to(device)
        inputs["prefix_length"] = torch.tensor(prefix_length, device=device)
        inputs["read_at"] = torch.tensor(read_at, device=device)
        return inputs

    def save_extras(self, directory: Path) -> None:
        """The block-position table (prefix pattern), so that the export is scored with the same pattern again."""
        save_block_position_weight(self.block_positions, directory)

    def _logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, num_labels): the LM logits of the verbalizer tokens at the scored position."""
        inputs = self.cloze_inputs(batch)
        base = self._base()
        decoder = base.get_decoder()
        if self.prefix:
            hidden = prefix_lm_hidden_states(
                decoder, inputs["input_ids"], inputs["attention_mask"], inputs["prefix_length"], inputs["position_ids"],
                inputs["block_position_ids"], self.block_positions,
            )  # (B, T, H)
        else:
            hidden = decoder(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state  # (B, T, H)
        scored = hidden[torch.arange(hidden.shape[0], device=hidden.device), inputs["read_at"]]  # (B, H)
        return base.get_output_embeddings()(scored)[:, self.word_ids]  # (B, num_labels)


def verbalizer_token(tokenizer: Any, label: str, word: str, spaced: bool) -> int:
    """The one token of ``word`` (with a leading space when the prompt has one before the blank), or a one-line error."""
    ids = tokenizer((" " if spaced else "") + str(word), add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        pieces = tokenizer.convert_ids_to_tokens(ids)
        raise ConfigError(
            f"the verbalizer '{word}' of label '{label}' is {len(ids)} tokens ({' '.join(map(str, pieces))}) for this tokenizer; "
            "choose a word that is one token in task.head_config.verbalizers"
        )
    return ids[0]


def resolve_words(labels: list[str], verbalizers: dict | None) -> list[str]:
    """Each label's word: from ``verbalizers`` (every label, and only labels, must be named), else the label itself."""
    if not verbalizers:
        return list(labels)
    given = {str(k): str(v) for k, v in verbalizers.items()}
    unknown = sorted(set(given) - set(labels))
    if unknown:
        raise ConfigError(f"task.head_config.verbalizers names '{unknown[0]}', which is not a label (the labels are {', '.join(labels)})")
    missing = [label for label in labels if label not in given]
    if missing:
        raise ConfigError(f"task.head_config.verbalizers gives no word for label '{missing[0]}'; give one for each of {', '.join(labels)}")
    words = [given[label] for label in labels]
    if len(set(words)) < len(words):
        raise ConfigError("task.head_config.verbalizers gives two labels the same word; give each label its own word")
    return words


def make_verbalizer_head(backbone, tokenizer, task_info: dict, head_config: VerbalizerConfig) -> VerbalizerHead:
    """Build the head: the backbone as ``AutoModelForCausalLM``, the verbalizer tokens, the prompt and the attention pattern."""
    labels = list(task_info["labels"])
    if head_config.attention not in ATTENTIONS:
        raise ConfigError(f"unknown task.head_config.attention '{head_config.attention}'; use {', '.join(ATTENTIONS)}")
    if head_config.prompt.count(BLANK) != 1:
        raise ConfigError(f"task.head_config.prompt must hold {BLANK} once (the blank), got {head_config.prompt!r}")
    if is_encoder_decoder(backbone):
        raise ConfigError(f"task.head=verbalizer needs a decoder-only causal LM; backbone '{backbone.name}' is an encoder-decoder")
    saved_table = load_block_position_weight(backbone.name_or_path)
    prefix = head_config.attention == "prefix" or (head_config.attention == "auto" and saved_table is not None)
    if prefix and (tokenizer.mask_token_id is None or tokenizer.bos_token_id is None):
        raise ConfigError("task.head_config.attention=prefix needs the tokenizer's mask and bos tokens ([MASK], [S]); use attention=causal")
    text_before, text_after = head_config.prompt.split(BLANK)
    spaced = text_before.endswith(" ")
    encode = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"] if text else []  # noqa: E731
    words = resolve_words(labels, head_config.verbalizers)
    word_ids = [verbalizer_token(tokenizer, label, word, spaced) for label, word in zip(labels, words)]
    try:
        model = load_model(backbone, "AutoModelForCausalLM", tokenizer)
    except ValueError as exc:  # a model type with no causal-LM class, built from its config
        raise ConfigError(f"backbone '{backbone.name}' has no language-model head to score verbalizers (no AutoModelForCausalLM); "
                          "use task.head=sequence_classification") from exc
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if base.get_output_embeddings() is None:
        raise ConfigError(f"backbone '{backbone.name}' has no language-model head to score verbalizers; use task.head=sequence_classification")
    block_positions = None
    if prefix and saved_table is not None:
        block_positions = BlockPositionEmbedding(saved_table.shape[0], saved_table.shape[1])
        block_positions.weight.data.copy_(saved_table)
    return VerbalizerHead(model, tokenizer, labels, word_ids, encode(text_before.rstrip(" ")), encode(text_after), prefix, block_positions)
