"""The pre-training head: a transformers ``*ForCausalLM`` trained as a causal LM or with GLM's blank infilling.

Positions under rotary embeddings (the adaptation of GLM's 2D positions)
------------------------------------------------------------------------
The GLM paper gives every token two position indices and adds two *learned* position
embeddings to the input: one for the position in the corrupted text, one for the position
inside the span. GLM-4 (and transformers' ``GlmModel``) has no learned absolute positions:
it rotates queries and keys by ``position_ids`` (RoPE). We keep that and adapt as little as
possible:

* **Index 1** (position in the corrupted text) goes to the model's own rotary embedding as
  ``position_ids``: part-A tokens count 0, 1, 2, ...; every token of a span in part B takes
  the position of that span's ``[MASK]`` in part A, exactly the paper's first index.
* **Index 2** (position inside the span) is the paper's mechanism unchanged: a learned
  embedding table (:class:`BlockPositionEmbedding`) added to the token embeddings.

Row 0 of that table (part A, and any ordinary text) is fixed at zero (``padding_idx=0``:
never updated). Hence on ordinary text the pre-trained network *is* the plain
``GlmForCausalLM``: the export drops nothing that ordinary text uses, and
``backbone.name_or_path=<export>`` fine-tunes exactly the weights that were pre-trained.
The table is saved next to the export as ``block_position_embeddings.safetensors``; plain
transformers ignores that file, and this head loads it again when pre-training continues
from the export.

Why not GLM-130B's 2D RoPE (half of the rotary dimensions for each index)? It changes the
attention of every token, so the export would no longer be a plain ``GlmForCausalLM``:
fine-tuning with transformers' classes would see positions it was not trained with. The
learned table keeps the rotary attention of the released architecture intact.

The attention pattern is given to the model as a 4D additive mask, which transformers 5
uses as it is (``masking_utils``: a 4D mask is "already prepared"): part A bidirectional,
part B causal over part B and seeing all of part A.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from glmtasks.api import (
    BLOCK_POSITION_FILE,
    BlockPositionEmbedding,
    ConfigError,
    HeadOutput,
    load_block_position_weight,
    load_model,
    prefix_lm_hidden_states,
    save_block_position_weight,
)
from glmtasks_pretrain.config import PretrainHeadConfig
from glmtasks_pretrain.masking import IGNORE_INDEX

log = logging.getLogger(__name__)

class PretrainHead(torch.nn.Module):
    """Token cross-entropy on the objective's targets; perplexity inputs for the metrics.

    Batches carry ``input_ids``, ``attention_mask``, aligned ``labels`` (the token predicted
    at each position, -100 elsewhere) and, for blank infilling, ``position_ids``,
    ``block_position_ids`` and ``prefix_length`` (see :mod:`glmtasks_pretrain.masking`).
    Only the positions with a label go through the output projection (for blank infilling
    about a fifth of the tokens; the projection is most of a small model's cost).
    """

    def __init__(self, model: torch.nn.Module, tokenizer: Any, block_positions: BlockPositionEmbedding | None):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.block_positions = block_positions

    def _parts(self) -> tuple[torch.nn.Module, torch.nn.Module]:
        """(the decoder that returns hidden states, the output projection), under LoRA adapters too."""
        model = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
        return model.get_decoder(), model.get_output_embeddings()

    def hidden_states(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Last hidden states (B, T, H): blank-infilling batches (with ``prefix_length``) get
        both position indices and the prefix attention mask; others are plain causal."""
        decoder, _ = self._parts()
        if "prefix_length" not in batch:
            return decoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        return prefix_lm_hidden_states(
            decoder, batch["input_ids"], batch["attention_mask"], batch["prefix_length"], batch["position_ids"],
            batch["block_position_ids"], self.block_positions,
        )  # (B, T, H)

    def logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits at every position (B, T, V)."""
        return self._parts()[1](self.hidden_states(batch))

    def _token_nll(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-target NLL (N,), the targets' row in the batch (N,), and the number of targets (scalar)."""
        labels = batch["labels"]  # (B, T)
        hidden = self.hidden_states(batch)  # (B, T, H)
        targets = labels != IGNORE_INDEX  # (B, T)
        logits = self._parts()[1](hidden[targets])  # (N, V): only positions with a target
        nll = torch.nn.functional.cross_entropy(logits.float(), labels[targets], reduction="none")  # (N,)
        rows = targets.nonzero()[:, 0]  # (N,)
        return nll, rows, targets.sum()

    def forward(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        """Mean NLL per target token; metrics get ``(nll_sum, token_count)``."""
        nll, rows, count = self._token_nll(batch)
        total = nll.sum()
        loss = total / count.clamp(min=1)
        predictions = None if self.training else (lambda: self._records(batch, nll.detach(), rows))
        return HeadOutput(loss=loss, metric_inputs=(total.detach(), count), predictions=predictions)

    @torch.inference_mode()
    def predict(self, batch: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        """Per example: summed NLL of its targets, their number, and its perplexity."""
        nll, rows, _ = self._token_nll(batch)
        return self._records(batch, nll, rows)

    @staticmethod
    def _records(batch: dict[str, torch.Tensor], nll: torch.Tensor, rows: torch.Tensor) -> list[dict[str, Any]]:
        size = batch["input_ids"].shape[0]
        sums = torch.zeros(size, dtype=torch.float64).index_add_(0, rows.cpu(), nll.double().cpu())  # (B,)
        counts = torch.bincount(rows.cpu(), minlength=size)  # (B,)
        return [
            {"index": int(i), "nll": round(float(s), 4), "tokens": int(c), "perplexity": round(float(torch.exp(s / max(int(c), 1))), 4)}
            for i, s, c in zip(batch["index"], sums, counts)
        ]

    def save_extras(self, directory: Path) -> None:
        """The block-position table, next to the causal LM and tokenizer the core exports."""
        save_block_position_weight(self.block_positions, directory)


def special_ids(tokenizer: Any) -> dict[str, int]:
    """The ``[MASK]``, start (``[S]``) and end (``[E]``) ids blank infilling uses: the tokenizer's mask, bos and eos tokens."""
    ids = {"mask_id": tokenizer.mask_token_id, "start_id": tokenizer.bos_token_id, "end_id": tokenizer.eos_token_id}
    missing = [name for name, value in (("mask_token", ids["mask_id"]), ("bos_token", ids["start_id"]), ("eos_token", ids["end_id"])) if value is None]
    if missing:
        raise ConfigError(
            f"blank infilling needs the tokenizer's {', '.join(missing)} (used as [MASK], [S] and [E]); "
            "train a tokenizer (backbone.tokenizer=null with no name_or_path) or use data.objective=causal_lm"
        )
    return ids


def make_pretrain_head(backbone, tokenizer, task_info: dict, head_config: PretrainHeadConfig) -> PretrainHead:
    """Build ``AutoModelForCausalLM`` and, for blank infilling, the block-position table.

    ``task_info`` (from the datamodule) gives ``objective`` and ``max_span_length``; a
    ``block_position_embeddings.safetensors`` next to ``backbone.name_or_path`` is loaded.
    ``head_config`` fields go to the model config.
    """
    fields = dict(head_config.model_config)
    if head_config.tie_word_embeddings is not None:
        fields["tie_word_embeddings"] = head_config.tie_word_embeddings
    model = load_model(backbone, "AutoModelForCausalLM", tokenizer, **fields)
    block_positions = None
    if task_info.get("objective") == "blank_infilling":
        special_ids(tokenizer)
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        hidden = base.get_input_embeddings().weight.shape[1]
        std = float(getattr(base.config, "initializer_range", 0.02))
        block_positions = BlockPositionEmbedding(int(task_info["max_span_length"]) + 2, hidden, std)
        weight = load_block_position_weight(backbone.name_or_path)
        if weight is not None:
            if weight.shape == block_positions.weight.shape:
                block_positions.weight.data.copy_(weight)
            else:
                log.warning("ignoring the %s of %s: shape %s, expected %s (data.max_span_length differs)", BLOCK_POSITION_FILE,
                            backbone.name_or_path, tuple(weight.shape), tuple(block_positions.weight.shape))
    return PretrainHead(model, tokenizer, block_positions)
