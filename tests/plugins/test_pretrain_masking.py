"""Blank-infilling construction on known inputs, span statistics, attention pattern, packing and perplexity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from glmtasks_pretrain.data import pack_blocks, split_documents
from glmtasks_pretrain.masking import (
    IGNORE_INDEX,
    additive_mask,
    attention_allowed,
    blank_infilling_sample,
    causal_lm_sample,
    sample_span_lengths,
)
from glmtasks_pretrain.metrics import Perplexity

M, S, E = 1, 2, 3  # [MASK], [S], [E]


class ScriptedRng:
    """A generator whose draws are given in advance, so the expected example can be written by hand."""

    def __init__(self, poisson, slots, order):
        self.poisson_draws, self.slots, self.order = list(poisson), slots, order

    def poisson(self, lam):
        return self.poisson_draws.pop(0)

    def choice(self, n, size, replace):
        assert not replace and size == len(self.slots) and max(self.slots) < n
        return np.array(self.slots)

    def permutation(self, k):
        return np.array(self.order)


def test_known_example_matches_the_paper_layout():
    # x1..x6 = 11..16; spans [x1] and [x4 x5] (as in Figure 2 of the GLM paper), part B shuffled.
    rng = ScriptedRng(poisson=[1, 2], slots=[2, 0], order=[1, 0])
    s = blank_infilling_sample([11, 12, 13, 14, 15, 16], rng, mask_id=M, start_id=S, end_id=E, mask_ratio=0.5)
    assert s.input_ids == [M, 12, 13, M, 16, S, 14, 15, S, 11]
    assert s.position_ids == [0, 1, 2, 3, 4, 3, 3, 3, 0, 0]
    assert s.block_position_ids == [0, 0, 0, 0, 0, 1, 2, 3, 1, 2]
    assert s.labels == [IGNORE_INDEX] * 5 + [14, 15, E, 11, E]
    assert s.prefix_length == 5


def test_seeded_example_is_reproducible_and_consistent():
    tokens = list(range(100, 300))
    a = blank_infilling_sample(tokens, np.random.default_rng(7), mask_id=M, start_id=S, end_id=E)
    b = blank_infilling_sample(tokens, np.random.default_rng(7), mask_id=M, start_id=S, end_id=E)
    assert a == b
    n_a = a.prefix_length
    part_a = a.input_ids[:n_a]
    masks = [i for i, t in enumerate(part_a) if t == M]
    assert all(j - i >= 2 for i, j in zip(masks, masks[1:]))  # spans never touch
    # Labels: -100 exactly on part A; part B predicts its span then [E].
    assert all(label == IGNORE_INDEX for label in a.labels[:n_a])
    assert all(label != IGNORE_INDEX for label in a.labels[n_a:])
    # Walk part B: each span starts with [S] at block position 1 and sits at its [MASK]'s position.
    spans, i = {}, n_a
    while i < len(a.input_ids):
        assert a.input_ids[i] == S
        j = a.labels.index(E, i)
        span = a.labels[i:j]
        assert a.input_ids[i + 1 : j + 1] == span  # inputs are targets shifted right by [S]
        assert a.block_position_ids[i : j + 1] == list(range(1, len(span) + 2))
        assert set(a.position_ids[i : j + 1]) == {a.position_ids[i]}
        spans[a.position_ids[i]] = span
        i = j + 1
    assert sorted(spans) == masks
    # Putting the spans back into part A gives the original text.
    restored = [tok for p, t in enumerate(part_a) for tok in (spans[p] if t == M else [t])]
    assert restored == tokens
    masked = sum(len(span) for span in spans.values())
    assert masked >= math.ceil(0.15 * len(tokens))
    assert a.position_ids[:n_a] == list(range(n_a)) and a.block_position_ids[:n_a] == [0] * n_a


def test_span_lengths_poisson_until_fifteen_percent():
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(300):
        lengths = sample_span_lengths(512, rng, mask_ratio=0.15, poisson_lambda=3.0, max_span_length=16)
        covered = sum(lengths)
        assert covered >= math.ceil(0.15 * 512) and covered - lengths[-1] < math.ceil(0.15 * 512)  # stops once reached
        assert all(1 <= length <= 16 for length in lengths)
        draws += lengths
    # Poisson(3) with 0 counted as 1: mean 3 + P(0) = 3 + e^-3 ~ 3.05.
    assert abs(np.mean(draws) - (3 + math.exp(-3))) < 0.1


def test_short_texts_keep_an_unmasked_token():
    rng = np.random.default_rng(1)
    assert sample_span_lengths(1, rng) == []
    for n in range(2, 12):
        for _ in range(50):
            s = blank_infilling_sample(list(range(10, 10 + n)), rng, mask_id=M, start_id=S, end_id=E, mask_ratio=0.6)
            assert any(t != M for t in s.input_ids[: s.prefix_length])


def test_causal_sample_predicts_next_token():
    s = causal_lm_sample([5, 6, 7])
    assert s.labels == [6, 7, IGNORE_INDEX] and s.prefix_length == 0 and s.position_ids == [0, 1, 2]


def test_attention_pattern_prefix_bidirectional_rest_causal():
    allowed = attention_allowed(torch.tensor([3, 0]), torch.tensor([[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]]))
    assert allowed.shape == (2, 1, 6, 6)
    expected = torch.tensor([
        [1, 1, 1, 0, 0, 0],  # part A sees all of part A, nothing of part B
        [1, 1, 1, 0, 0, 0],
        [1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 0, 0],  # part B: all of part A, causal over part B
        [1, 1, 1, 1, 1, 0],
        [0, 0, 0, 0, 0, 1],  # padding query: itself only
    ], dtype=torch.bool)
    assert torch.equal(allowed[0, 0], expected)
    causal = torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=torch.bool)
    assert torch.equal(allowed[1, 0, :3, :3], causal) and not allowed[1, 0, :3, 3:].any()
    bias = additive_mask(allowed, torch.float32)
    assert bias[0, 0, 0, 0] == 0 and bias[0, 0, 0, 3] == torch.finfo(torch.float32).min


def test_packing_and_documents():
    assert pack_blocks([[1, 2, 3], [4, 5]], 3, eos_id=0) == [[1, 2, 3], [0, 4, 5]]  # tail [0] dropped
    assert pack_blocks([[1]], 8, eos_id=0) == [[1, 0]]  # no full block: the short one is kept
    assert split_documents("a\nb\n\n  \nc\n", "blank_line") == ["a\nb", "c"]
    assert split_documents("a\nb\n\nc", "line") == ["a", "b", "c"]


def test_perplexity_is_exp_of_mean_token_nll():
    metric = Perplexity()
    metric.update(torch.tensor(2.0), torch.tensor(1))
    metric.update(torch.tensor(4.0), torch.tensor(3))
    assert metric.compute().item() == pytest.approx(math.exp(6.0 / 4))
