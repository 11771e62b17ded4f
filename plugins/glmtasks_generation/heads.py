"""The conditional-generation head: prefix-LM training of decoder-only models, labels of encoder-decoders,
batched greedy or beam-search generation (see the package docstring for the layouts).

Register it for a task with::

    HeadSpec(name="my_task_lm", factory="glmtasks_generation.heads:make_generation_head",
             config_class="glmtasks_generation.config:GenerationHeadConfig")
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from glmtasks.api import ConfigError, HeadOutput, is_encoder_decoder, load_model
from glmtasks_generation.config import GenerationHeadConfig

IGNORE_INDEX = -100
"""Label of positions the loss ignores (target padding, and the prompt of a prefix LM)."""


# ---------------------------------------------------------------------------------------
# Layout helpers (no model involved; unit-tested on their own).


def move_padding(ids: torch.Tensor, mask: torch.Tensor, side: str, *others: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Move every row's padding (``mask == 0``) to ``side``, keeping token order; trim empty columns.

    Returns ``(ids, mask, *others)`` rearranged the same way. Used to turn right-padded prompts
    into left-padded ones for generation, and ``prompt | pad | target | pad`` into one
    right-padded sequence for training.
    """
    key = mask if side == "left" else 1 - mask  # argsort puts zeros first, stably
    order = key.long().argsort(dim=1, stable=True)  # (B, T)
    width = int(mask.sum(1).max())
    cols = slice(ids.shape[1] - width, None) if side == "left" else slice(0, width)
    return tuple(t.gather(1, order)[:, cols] for t in (ids, mask, *others))


def prefix_lm_batch(input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor, pad_id: int) -> dict[str, torch.Tensor]:
    """One right-padded causal-LM batch ``prompt + target`` whose labels cover the target only.

    Args:
        input_ids, attention_mask: right-padded prompts, (B, P).
        labels: right-padded target ids, -100 as padding, (B, T).

    Returns:
        ``input_ids``, ``attention_mask`` and ``labels`` of shape (B, L), L <= P + T, where
        ``labels`` is -100 on prompt and padding positions (unshifted: position t holds token t).
    """
    target_mask = (labels != IGNORE_INDEX).long()
    ids = torch.cat([input_ids, labels.masked_fill(labels == IGNORE_INDEX, pad_id)], dim=1)  # (B, P+T)
    mask = torch.cat([attention_mask.long(), target_mask], dim=1)  # (B, P+T)
    full_labels = torch.cat([torch.full_like(input_ids, IGNORE_INDEX), labels], dim=1)  # (B, P+T)
    ids, mask, full_labels = move_padding(ids, mask, "right", full_labels)  # (B, L)
    return {"input_ids": ids, "attention_mask": mask, "labels": full_labels}


# ---------------------------------------------------------------------------------------
# The head.


class ConditionalGenerationHead(torch.nn.Module):
    """Loss on target tokens; greedy or beam-search generation for metrics and predictions.

    Works for decoder-only models (``*ForCausalLM``, trained as a prefix LM) and
    encoder-decoder models (``*ForConditionalGeneration``); see the package docstring for the
    layout. In evaluation, a batch with ``references`` is also decoded, and the metrics get
    ``(hypotheses, references)``: lists of strings and of lists of strings. The decoding
    settings live in the model's ``generation_config``, which the export saves.
    """

    def __init__(self, model: torch.nn.Module, tokenizer: Any, config: GenerationHeadConfig):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.encoder_decoder = bool(getattr(model.config, "is_encoder_decoder", False))

    # -- training -------------------------------------------------------------------------
    def _logits_and_labels(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, L, V) and the labels they predict (B, L), already aligned."""
        if self.encoder_decoder:
            labels = batch["labels"]
            if hasattr(self.model, "prepare_decoder_input_ids_from_labels"):
                decoder_input_ids = self.model.prepare_decoder_input_ids_from_labels(labels=labels)  # shifted right
                out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], decoder_input_ids=decoder_input_ids)
            else:
                out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels)
            return out.logits, labels
        seq = prefix_lm_batch(batch["input_ids"], batch["attention_mask"], batch["labels"], self.tokenizer.pad_token_id)
        logits = self.model(input_ids=seq["input_ids"], attention_mask=seq["attention_mask"]).logits  # (B, L, V)
        return logits[:, :-1], seq["labels"][:, 1:]  # token t+1 is predicted at position t

    def forward(self, batch: dict[str, Any]) -> HeadOutput:
        """Target-token cross-entropy; in evaluation also ``(hypotheses, references)`` for the metrics."""
        logits, labels = self._logits_and_labels(batch)
        loss = torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]),  # (B*L, V)
            labels.reshape(-1),  # (B*L,)
            ignore_index=IGNORE_INDEX,
            label_smoothing=self.config.label_smoothing,
        )
        if self.training or "references" not in batch:
            return HeadOutput(loss=loss)
        hypotheses = self.generate(batch)
        return HeadOutput(loss=loss, metric_inputs=(hypotheses, batch["references"]), predictions=lambda: self._records(batch, hypotheses))

    # -- generation -----------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, batch: dict[str, Any]) -> list[str]:
        """Decoded outputs for the batch's prompts, with the model's ``generation_config``."""
        ids, mask = batch["input_ids"], batch["attention_mask"]
        if not self.encoder_decoder:
            ids, mask = move_padding(ids, mask, "left")  # (B, P): next token of every row in the last column
        out = self.model.generate(input_ids=ids, attention_mask=mask, use_cache=True)
        new_tokens = out if self.encoder_decoder else out[:, ids.shape[1] :]  # (B, N)
        return [text.strip() for text in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]

    def predict(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        """``{"index", "hypothesis"}`` per example (the writer adds source and references)."""
        return self._records(batch, self.generate(batch))

    @staticmethod
    def _records(batch: dict[str, Any], hypotheses: list[str]) -> list[dict[str, Any]]:
        return [{"index": int(i), "hypothesis": text} for i, text in zip(batch["index"], hypotheses)]


def generation_config_for(model: Any, tokenizer: Any, config: GenerationHeadConfig, max_new_tokens: int, from_scratch: bool):
    """The model's ``GenerationConfig`` with the head's settings applied (deterministic decoding)."""
    generation = copy.deepcopy(model.generation_config)
    generation._from_model_config = False
    generation.do_sample = False
    generation.max_new_tokens = max_new_tokens
    generation.num_beams = config.num_beams
    if config.num_beams > 1:
        generation.length_penalty = config.length_penalty
        generation.early_stopping = config.early_stopping
    if config.no_repeat_ngram_size:
        generation.no_repeat_ngram_size = config.no_repeat_ngram_size
    if config.repetition_penalty != 1.0:
        generation.repetition_penalty = config.repetition_penalty
    generation.pad_token_id = tokenizer.pad_token_id
    if from_scratch:
        # Ids of the tokenizer trained here, not the architecture's defaults (BART's forced ids).
        generation.eos_token_id = tokenizer.eos_token_id
        generation.bos_token_id = tokenizer.bos_token_id
        generation.forced_bos_token_id = None
        generation.forced_eos_token_id = None
    return generation


def make_generation_head(backbone: Any, tokenizer: Any, task_info: dict, head_config: GenerationHeadConfig) -> ConditionalGenerationHead:
    """Build the model (``AutoModelForCausalLM`` or ``AutoModelForSeq2SeqLM``) and its head.

    The decoding settings become the model's ``generation_config``; the tokenizer pads on the
    left for decoder-only models (saved with it), so the export generates as the run did.
    """
    if head_config.num_beams < 1:
        raise ConfigError("task.head_config.num_beams must be >= 1")
    encoder_decoder = is_encoder_decoder(backbone)
    from_scratch = not backbone.name_or_path
    extra: dict[str, Any] = {}
    if from_scratch and encoder_decoder:
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.pad_token_id
        extra["decoder_start_token_id"] = start
    model = load_model(backbone, "AutoModelForSeq2SeqLM" if encoder_decoder else "AutoModelForCausalLM", tokenizer, **extra)
    max_new_tokens = head_config.max_new_tokens or int(task_info.get("max_target_length", 64))
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # under LoRA adapters
    base.generation_config = generation_config_for(base, tokenizer, head_config, max_new_tokens, from_scratch)
    tokenizer.padding_side = "right" if encoder_decoder else "left"
    tokenizer.init_kwargs["padding_side"] = tokenizer.padding_side  # saved with the tokenizer (export/)
    return ConditionalGenerationHead(model, tokenizer, head_config)
