"""Training-example construction for the pre-training objectives: pure functions of (tokens, rng).

GLM's autoregressive blank infilling (Du et al., 2022, "GLM: General Language Model
Pretraining with Autoregressive Blank Infilling", section 2.1):

* Span lengths are drawn from a Poisson distribution (lambda 3) until at least 15% of the
  original tokens are covered; the spans are placed at random, never overlapping or touching.
* Part A is the text with every span replaced by one ``[MASK]`` token.
* Part B holds the spans in a random order, each as ``[S] x1 ... xl`` (input) predicting
  ``x1 ... xl [E]`` (targets); the loss covers part B only.
* Two position indices per token: ``position_ids`` is the position in the corrupted text
  (part-B tokens take the position of their span's ``[MASK]``), ``block_position_ids`` the
  position inside the span (0 for part A, 1 ... l+1 for a span of length l).
* Attention: part A attends to all of part A (bidirectional); part B attends to part A
  and causally to part B. Both patterns follow from one number per example, the length of
  part A (:func:`attention_allowed`).

The causal-LM objective is the special case "part A is empty": every token is a target.

Labels are *aligned*, not shifted: ``labels[t]`` is the token the model must predict at
position ``t`` (``-100`` where nothing is predicted), for both objectives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

# The attention mask is shared with the classification plugin's verbalizer head, so it lives in the core.
from glmtasks.api import additive_mask, attention_allowed  # noqa: F401 - re-exported for this plugin's users

IGNORE_INDEX = -100


@dataclass
class PretrainSample:
    """One training example of either objective (all lists have the same length).

    Attributes:
        input_ids: part A then part B.
        position_ids: position in the corrupted text (part B: the position of its ``[MASK]``).
        block_position_ids: position inside the span (0 in part A).
        labels: the token predicted at each position; -100 in part A.
        prefix_length: length of part A (the bidirectional prefix); 0 for the causal LM.
    """

    input_ids: list[int]
    position_ids: list[int]
    block_position_ids: list[int]
    labels: list[int]
    prefix_length: int


def sample_span_lengths(
    num_tokens: int, rng: np.random.Generator, mask_ratio: float = 0.15, poisson_lambda: float = 3.0, max_span_length: int = 16
) -> list[int]:
    """Span lengths drawn from Poisson(``poisson_lambda``) until at least ``mask_ratio`` of ``num_tokens`` is covered.

    A draw of 0 counts as 1 (every span must hold a token to predict), a draw above
    ``max_span_length`` counts as ``max_span_length`` (the block-position table is finite).
    Spans are drawn while enough unmasked tokens remain to keep them apart; a text of fewer
    than 2 tokens gets no span.
    """
    target = max(1, int(np.ceil(mask_ratio * num_tokens)))
    lengths: list[int] = []
    covered = 0
    while covered < target:
        length = int(min(max(1, rng.poisson(poisson_lambda)), max_span_length))
        # k spans need at least k - 1 unmasked tokens between them and one more to leave
        # something unmasked: stop before a span would not fit.
        if covered + length + len(lengths) >= num_tokens:
            length = num_tokens - covered - len(lengths) - 1
            if length < 1:
                break
        lengths.append(length)
        covered += length
    return lengths


def blank_infilling_sample(
    tokens: Sequence[int],
    rng: np.random.Generator,
    mask_id: int,
    start_id: int,
    end_id: int,
    mask_ratio: float = 0.15,
    poisson_lambda: float = 3.0,
    max_span_length: int = 16,
) -> PretrainSample:
    """GLM's blank-infilling example for ``tokens`` (see the module docstring).

    ``rng`` draws the span lengths, their places in the text and the order of part B, in
    that order, so a seeded generator gives a reproducible example.
    """
    tokens = list(tokens)
    n = len(tokens)
    lengths = sample_span_lengths(n, rng, mask_ratio, poisson_lambda, max_span_length)
    k = len(lengths)
    free = n - sum(lengths)
    # Span j goes after slots[j] unmasked tokens; distinct slots keep spans apart.
    slots = np.sort(rng.choice(free + 1, size=k, replace=False)) if k else np.array([], dtype=int)

    part_a: list[int] = []
    spans: list[tuple[int, list[int]]] = []  # ([MASK] position in part A, span tokens)
    cursor = copied = 0
    for slot, length in zip(slots.tolist(), lengths):
        while copied < slot:
            part_a.append(tokens[cursor])
            cursor += 1
            copied += 1
        spans.append((len(part_a), tokens[cursor : cursor + length]))
        part_a.append(mask_id)
        cursor += length
    part_a.extend(tokens[cursor:])

    input_ids = list(part_a)
    position_ids = list(range(len(part_a)))
    block_position_ids = [0] * len(part_a)
    labels = [IGNORE_INDEX] * len(part_a)
    for j in rng.permutation(k).tolist():
        mask_position, span = spans[j]
        input_ids += [start_id, *span]
        labels += [*span, end_id]
        position_ids += [mask_position] * (len(span) + 1)
        block_position_ids += list(range(1, len(span) + 2))
    return PretrainSample(input_ids, position_ids, block_position_ids, labels, prefix_length=len(part_a))


def causal_lm_sample(tokens: Sequence[int]) -> PretrainSample:
    """The causal-LM example: every token predicts the next one (the last predicts nothing)."""
    tokens = list(tokens)
    n = len(tokens)
    return PretrainSample(
        input_ids=tokens,
        position_ids=list(range(n)),
        block_position_ids=[0] * n,
        labels=tokens[1:] + [IGNORE_INDEX],
        prefix_length=0,
    )
