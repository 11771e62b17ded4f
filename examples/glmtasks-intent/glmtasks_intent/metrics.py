"""Metrics of joint intent + slot tagging (torchmetrics), computed over words.

Every metric's ``update`` takes the head's metric inputs
``(intent_pred, intent_gold, slot_pred, slot_gold)``: ``(B,)`` intent ids and ``(B, T)`` tag
ids, where ``slot_gold`` is -100 at tokens that start no word (those are skipped).
"""

from __future__ import annotations

import torch
from torchmetrics import Metric

from glmtasks_intent.tags import spans


def word_tags(slot_pred: torch.Tensor, slot_gold: torch.Tensor, names: list[str]) -> list[tuple[list[str], list[str]]]:
    """Per example, the predicted and gold tag names of its words (positions where gold != -100)."""
    rows = []
    for pred, gold in zip(slot_pred.tolist(), slot_gold.tolist()):
        kept = [(p, g) for p, g in zip(pred, gold) if g != -100]
        rows.append(([names[p] for p, _ in kept], [names[g] for _, g in kept]))
    return rows


class IntentAccuracy(Metric):
    """Share of utterances whose predicted intent is the gold intent."""

    def __init__(self):
        super().__init__()
        self.add_state("correct", default=torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, intent_pred: torch.Tensor, intent_gold: torch.Tensor, slot_pred: torch.Tensor, slot_gold: torch.Tensor) -> None:
        self.correct += (intent_pred == intent_gold).sum()
        self.total += intent_gold.numel()

    def compute(self) -> torch.Tensor:
        return self.correct.float() / self.total.clamp(min=1)


class SlotF1(Metric):
    """Micro-averaged F1 of slot spans (slot type and exact word span must both match).

    ``compute`` returns ``slot_f1``, ``slot_precision`` and ``slot_recall``.
    """

    def __init__(self, slot_tags: list[str]):
        super().__init__()
        self.slot_tags = list(slot_tags)
        for name in ("true_positives", "predicted", "gold"):
            self.add_state(name, default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, intent_pred: torch.Tensor, intent_gold: torch.Tensor, slot_pred: torch.Tensor, slot_gold: torch.Tensor) -> None:
        for predicted, gold in word_tags(slot_pred, slot_gold, self.slot_tags):
            predicted_spans, gold_spans = set(spans(predicted)), set(spans(gold))
            self.true_positives += len(predicted_spans & gold_spans)
            self.predicted += len(predicted_spans)
            self.gold += len(gold_spans)

    def compute(self) -> dict[str, torch.Tensor]:
        precision = self.true_positives.float() / self.predicted.clamp(min=1)
        recall = self.true_positives.float() / self.gold.clamp(min=1)
        f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
        return {"slot_f1": f1, "slot_precision": precision, "slot_recall": recall}


class FrameAccuracy(Metric):
    """Share of utterances with the right intent *and* every word's tag right (sentence accuracy)."""

    def __init__(self, slot_tags: list[str]):
        super().__init__()
        self.slot_tags = list(slot_tags)
        self.add_state("correct", default=torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, intent_pred: torch.Tensor, intent_gold: torch.Tensor, slot_pred: torch.Tensor, slot_gold: torch.Tensor) -> None:
        rows = word_tags(slot_pred, slot_gold, self.slot_tags)
        for intent_ok, (predicted, gold) in zip((intent_pred == intent_gold).tolist(), rows):
            self.correct += int(intent_ok and predicted == gold)
        self.total += intent_gold.numel()

    def compute(self) -> torch.Tensor:
        return self.correct.float() / self.total.clamp(min=1)


def intent_accuracy(task_info: dict) -> IntentAccuracy:
    """Factory registered as ``intent_accuracy``."""
    return IntentAccuracy()


def slot_f1(task_info: dict) -> SlotF1:
    """Factory registered as ``slot_f1`` (logs slot_f1, slot_precision, slot_recall)."""
    return SlotF1(task_info["slot_tags"])


def frame_accuracy(task_info: dict) -> FrameAccuracy:
    """Factory registered as ``frame_accuracy``."""
    return FrameAccuracy(task_info["slot_tags"])
