"""Slot spans and the three metrics on hand-made predictions."""

from __future__ import annotations

import pytest
import torch

from glmtasks_intent.metrics import FrameAccuracy, IntentAccuracy, SlotF1
from glmtasks_intent.tags import spans, tag_problem, tag_vocabulary

TAGS = tag_vocabulary(["city", "date"])  # O, B-city, I-city, B-date, I-date
IGNORE = -100


def ids(*names: str) -> list[int]:
    return [TAGS.index(name) for name in names]


def test_spans_follow_bio_and_treat_a_stray_inside_tag_as_a_start():
    assert spans(["O", "B-city", "I-city", "O", "B-date"]) == [("city", 1, 3), ("date", 4, 5)]
    assert spans(["I-city", "I-city", "B-city", "I-date"]) == [("city", 0, 2), ("city", 2, 3), ("date", 3, 4)]
    assert spans(["O", "O"]) == []


def test_tag_problem_and_vocabulary():
    assert tag_problem("O") is None and tag_problem("B-city") is None
    assert "not BIO" in tag_problem("city") and "not BIO" in tag_problem("X-city")
    assert TAGS == ["O", "B-city", "I-city", "B-date", "I-date"]


def test_metrics_score_words_only_and_need_exact_spans():
    # Two utterances; the -100 positions (sub-tokens, padding) are ignored.
    gold = torch.tensor([ids("O", "B-city", "I-city") + [IGNORE], ids("B-date", "O") + [IGNORE, IGNORE]])
    pred = torch.tensor([ids("O", "B-city", "O", "B-date"), ids("B-date", "O", "B-city", "B-city")])
    intent_pred, intent_gold = torch.tensor([0, 1]), torch.tensor([0, 1])
    inputs = (intent_pred, intent_gold, pred, gold)

    f1 = SlotF1(TAGS)
    f1.update(*inputs)
    result = f1.compute()
    # gold spans: city(1,3), date(0,1); predicted: city(1,2), date(0,1) -> 1 of 2 right each way
    assert result["slot_precision"] == pytest.approx(0.5) and result["slot_recall"] == pytest.approx(0.5)
    assert result["slot_f1"] == pytest.approx(0.5)

    frame = FrameAccuracy(TAGS)
    frame.update(*inputs)
    assert frame.compute() == pytest.approx(0.5)  # only the second utterance is entirely right

    accuracy = IntentAccuracy()
    accuracy.update(torch.tensor([0, 0]), intent_gold, pred, gold)
    assert accuracy.compute() == pytest.approx(0.5)
