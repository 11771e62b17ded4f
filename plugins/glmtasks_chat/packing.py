"""Packing short training sequences into full rows, each conversation attending only to itself.

A packed row is the concatenation of several encoded conversations with ``position_ids`` that
restart at 0 for each one. Given position ids and no attention mask, transformers' mask builder
(``masking_utils.find_packed_sequence_indices``) makes attention block-diagonal and causal, for
eager, SDPA and flash attention alike, so a packed row computes exactly what the separate
conversations would, without the padding.
"""

from __future__ import annotations

import bisect
from typing import Any, Sequence


def pack_features(features: Sequence[dict[str, Any]], capacity: int) -> list[dict[str, Any]]:
    """Best-fit-decreasing packing of ``features`` (``input_ids``, ``labels``) into rows of at most ``capacity`` tokens.

    Returns rows ``{"input_ids", "labels", "position_ids", "conversations"}``; the order of
    conversations inside a row follows their length, and rows are as full as best-fit makes them.
    A feature longer than ``capacity`` gets a row of its own (the datamodule cuts features to
    ``max_length`` first, so this does not happen when ``capacity == max_length``).
    """
    order = sorted(range(len(features)), key=lambda i: -len(features[i]["input_ids"]))
    bins: list[list[int]] = []
    free: list[tuple[int, int]] = []  # (free tokens, bin number), sorted
    for i in order:
        size = len(features[i]["input_ids"])
        slot = bisect.bisect_left(free, (size, -1))
        if slot < len(free):
            room, number = free.pop(slot)
            bins[number].append(i)
            bisect.insort(free, (room - size, number))
        else:
            bins.append([i])
            bisect.insort(free, (max(capacity - size, 0), len(bins) - 1))
    return [_concatenate([features[i] for i in members]) for members in bins]


def _concatenate(members: Sequence[dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {"input_ids": [], "labels": [], "position_ids": [], "conversations": len(members)}
    for feature in members:
        row["input_ids"] += feature["input_ids"]
        row["labels"] += feature["labels"]
        row["position_ids"] += list(range(len(feature["input_ids"])))
    return row
