"""The joint intent + slot head: a transformers ``AutoModel`` encoder and two linear layers.

One encoder pass serves both outputs: the pooled utterance goes to the intent classifier,
each word's first token to the slot tagger. The loss is the intent cross-entropy plus
``slot_loss_weight`` times the slot cross-entropy.

Export: glmtasks saves the encoder and tokenizer as plain transformers files
(``AutoModel.from_pretrained(export)`` and ``AutoTokenizer.from_pretrained(export)`` load them);
:meth:`IntentSlotsHead.save_extras` adds ``intent_slots_head.safetensors`` (the two linear
layers) and ``intent_slots.json`` (intents, slot tags, head options). Transformers has no class
for the joint head; load the whole model with :class:`glmtasks_intent.inference.IntentSlotsPredictor`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch

from glmtasks.api import ConfigError, HeadOutput, load_model
from glmtasks_intent.config import IntentSlotsHeadConfig
from glmtasks_intent.tags import spans

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
HEAD_WEIGHTS = "intent_slots_head.safetensors"
HEAD_CONFIG = "intent_slots.json"


def pool(hidden: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    """Utterance vectors from token states: ``(B, T, H), (B, T) -> (B, H)``."""
    mask = mask.to(hidden.dtype)
    if how == "first":
        return hidden[:, 0]
    if how == "last":
        last = mask.sum(-1).long().clamp(min=1) - 1  # (B,) position of the last real token (right padding)
        return hidden[torch.arange(hidden.size(0), device=hidden.device), last]
    return (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)  # (B, T, H) -> (B, H)


class IntentSlotsHead(torch.nn.Module):
    """Encoder + intent classifier + slot tagger (a ``glmtasks.api.TaskHead``).

    Args:
        model: a transformers base model (``AutoModel``) returning ``last_hidden_state``.
        tokenizer: its tokenizer (exported with it).
        intents: intent names, in label-id order.
        slot_tags: BIO tag names, in label-id order (``O`` first).
        config: pooling, dropout and loss weight.
    """

    def __init__(self, model: torch.nn.Module, tokenizer: Any, intents: list[str], slot_tags: list[str], config: IntentSlotsHeadConfig):
        super().__init__()
        hidden = model.config.hidden_size
        self.model = model
        self.tokenizer = tokenizer
        self.intents = list(intents)
        self.slot_tags = list(slot_tags)
        self.config = config
        self.dropout = torch.nn.Dropout(config.dropout)
        self.layers = torch.nn.ModuleDict({"intent": torch.nn.Linear(hidden, len(self.intents)), "slot": torch.nn.Linear(hidden, len(self.slot_tags))})

    def logits(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Intent logits ``(B, intents)`` and slot logits ``(B, T, tags)``."""
        inputs = {k: batch[k] for k in MODEL_INPUTS if k in batch}
        hidden = self.dropout(self.model(**inputs).last_hidden_state)  # (B, T, H)
        pooled = pool(hidden, batch["attention_mask"], self.config.pooling)  # (B, H)
        return self.layers["intent"](pooled).float(), self.layers["slot"](hidden).float()

    def forward(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        """Joint loss; metric inputs ``(intent_pred, intent_gold, slot_pred, slot_gold)``.

        ``intent_*`` are ``(B,)`` ids; ``slot_*`` are ``(B, T)`` tag ids, ``slot_gold`` is -100
        where no word starts.
        """
        intent_logits, slot_logits = self.logits(batch)
        # In evaluation, the records predict() would write, from this same forward: a training
        # run then writes the test predictions during its test pass instead of a second pass.
        predictions = None if self.training else (lambda: self._records(batch, intent_logits, slot_logits))
        if "intent_label" not in batch:
            return HeadOutput(loss=None, predictions=predictions)
        intent_loss = torch.nn.functional.cross_entropy(intent_logits, batch["intent_label"])
        slot_loss = torch.nn.functional.cross_entropy(slot_logits.flatten(0, 1), batch["labels"].flatten(), ignore_index=-100)
        loss = intent_loss + self.config.slot_loss_weight * slot_loss
        inputs = (intent_logits.argmax(-1), batch["intent_label"], slot_logits.argmax(-1), batch["labels"])
        return HeadOutput(loss=loss, metric_inputs=inputs, predictions=predictions)

    @torch.inference_mode()
    def predict(self, batch: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        """Per example: predicted intent and its probability, a tag per word, and slot spans."""
        return self._records(batch, *self.logits(batch))

    def _records(self, batch: dict[str, torch.Tensor], intent_logits: torch.Tensor, slot_logits: torch.Tensor) -> list[dict[str, Any]]:
        scores, intent_ids = intent_logits.softmax(-1).max(-1)  # (B,)
        tag_ids = slot_logits.argmax(-1)  # (B, T)
        records = []
        for row in range(len(batch["index"])):
            positions = batch["word_mask"][row].nonzero().flatten()
            tags = [self.slot_tags[int(t)] for t in tag_ids[row, positions]]
            tags += ["O"] * (int(batch["num_words"][row]) - len(tags))  # words cut off by max_length
            records.append({
                "index": int(batch["index"][row]),
                "predicted_intent": self.intents[int(intent_ids[row])],
                "intent_score": round(float(scores[row]), 6),
                "predicted_tags": tags,
                "predicted_slots": [{"slot": s, "start": b, "end": e} for s, b, e in spans(tags)],
            })
        return records

    def save_extras(self, directory: Path) -> None:
        """What the export needs beyond the encoder and tokenizer (which glmtasks saves): the two layers and the labels."""
        from safetensors.torch import save_file

        save_file({k: v.detach().cpu().contiguous() for k, v in self.layers.state_dict().items()}, str(Path(directory) / HEAD_WEIGHTS))
        meta = {"intents": self.intents, "slot_tags": self.slot_tags, **dataclasses.asdict(self.config)}
        (Path(directory) / HEAD_CONFIG).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    def load_extras(self, directory: Path) -> None:
        """Load the two layers :meth:`save_extras` wrote, after checking they were trained for these labels."""
        from safetensors.torch import load_file

        saved = json.loads((Path(directory) / HEAD_CONFIG).read_text(encoding="utf-8"))
        if saved["intents"] != self.intents or saved["slot_tags"] != self.slot_tags:
            raise ConfigError(
                f"{directory} was exported for other intents or slot tags than this data's; "
                "evaluate it with the labels it was trained on (mode=evaluate checkpoint=<export>)"
            )
        self.layers.load_state_dict(load_file(str(Path(directory) / HEAD_WEIGHTS)))


def make_intent_slots_head(backbone, tokenizer, task_info: dict, head_config: IntentSlotsHeadConfig) -> IntentSlotsHead:
    """Build the head for ``task_info["intents"]`` and ``task_info["slot_tags"]``.

    When ``backbone.name_or_path`` is an export of this head, its two layers are loaded too
    (so ``mode=evaluate checkpoint=<run>/export`` scores the exported model).
    """
    model = load_model(backbone, "AutoModel", tokenizer)
    head = IntentSlotsHead(model, tokenizer, task_info["intents"], task_info["slot_tags"], head_config)
    if backbone.name_or_path and (Path(backbone.name_or_path) / HEAD_WEIGHTS).is_file():
        head.load_extras(Path(backbone.name_or_path))
    return head
