"""Entity-level precision, recall and F1: an entity counts only with exact span and type (as conlleval).

The head passes predicted and gold entity spans per sentence; the metric keeps, per
entity type, true positives, predicted and gold counts in summed tensor states (exact
under DDP). Values are fractions in [0, 1].
"""

from __future__ import annotations

from typing import Sequence

import torch
from torchmetrics import Metric

Span = tuple[str, int, int]


def prf(true_positives: float, predicted: float, gold: float) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts (0 where a denominator is 0)."""
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


class EntityScores(Metric):
    """Micro-averaged and per-type entity precision/recall/F1.

    ``update(predicted, gold)`` takes, per sentence, lists of ``(type, start, end)`` spans.
    ``compute()`` returns ``entity_f1``, ``entity_precision``, ``entity_recall`` and, for each
    type ``T``, ``T_f1``, ``T_precision``, ``T_recall``.
    """

    full_state_update = False

    def __init__(self, entity_types: Sequence[str], **kwargs):
        super().__init__(**kwargs)
        self.entity_types = list(entity_types)
        self._type_index = {t: i for i, t in enumerate(self.entity_types)}
        n = len(self.entity_types)
        for name in ("true_positives", "predicted", "gold"):
            self.add_state(name, default=torch.zeros(n, dtype=torch.long), dist_reduce_fx="sum")

    def _count(self, spans: Sequence[Span]) -> torch.Tensor:
        counts = torch.zeros(len(self.entity_types), dtype=torch.long)
        for entity_type, _, _ in spans:
            counts[self._type_index[entity_type]] += 1
        return counts

    def update(self, predicted: Sequence[Sequence[Span]], gold: Sequence[Sequence[Span]]) -> None:
        """Count exact matches (same start, end and type) sentence by sentence."""
        for pred_spans, gold_spans in zip(predicted, gold):
            pred_set, gold_set = set(map(tuple, pred_spans)), set(map(tuple, gold_spans))
            self.true_positives += self._count(pred_set & gold_set).to(self.device)
            self.predicted += self._count(pred_set).to(self.device)
            self.gold += self._count(gold_set).to(self.device)

    def compute(self) -> dict[str, torch.Tensor]:
        """Overall (micro) and per-type scores."""
        tp, predicted, gold = self.true_positives.tolist(), self.predicted.tolist(), self.gold.tolist()
        precision, recall, f1 = prf(sum(tp), sum(predicted), sum(gold))
        result = {"entity_f1": f1, "entity_precision": precision, "entity_recall": recall}
        for i, entity_type in enumerate(self.entity_types):
            p, r, f = prf(tp[i], predicted[i], gold[i])
            result.update({f"{entity_type}_f1": f, f"{entity_type}_precision": p, f"{entity_type}_recall": r})
        return {k: torch.tensor(v, dtype=torch.float, device=self.device) for k, v in result.items()}


def entity_f1(task_info: dict) -> EntityScores:
    """Entity-level scores over ``task_info["entity_types"]``."""
    return EntityScores(task_info["entity_types"])
