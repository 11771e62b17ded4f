"""BIO slot tags: validation, the tag vocabulary, and decoding tags into slot spans."""

from __future__ import annotations

from typing import Iterable, Optional, Sequence


def tag_problem(tag: str) -> Optional[str]:
    """None if ``tag`` is ``O``, ``B-<slot>`` or ``I-<slot>``; else what is wrong with it."""
    if tag == "O":
        return None
    prefix, dash, slot = tag.partition("-")
    if prefix not in ("B", "I") or not dash or not slot:
        return f"tag {tag!r} is not BIO (use O, B-<slot> or I-<slot>)"
    return None


def tag_vocabulary(slot_types: Iterable[str]) -> list[str]:
    """``O`` first, then ``B-`` and ``I-`` of every slot type, sorted: the head's label set."""
    return ["O"] + [f"{prefix}-{slot}" for slot in sorted(set(slot_types)) for prefix in ("B", "I")]


def slot_type(tag: str) -> Optional[str]:
    """The slot of a ``B-``/``I-`` tag, None for ``O``."""
    return None if tag == "O" else tag[2:]


def spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Slot spans ``(slot, start, end)`` (``end`` exclusive, in words) of a BIO tag sequence.

    An ``I-x`` that does not continue an ``x`` span starts a new one (as conlleval does).
    """
    found: list[tuple[str, int, int]] = []
    current: Optional[str] = None
    start = 0
    for i, tag in enumerate(list(tags) + ["O"]):
        slot = slot_type(tag)
        continues = tag.startswith("I-") and slot == current
        if current is not None and not continues:
            found.append((current, start, i))
            current = None
        if slot is not None and not continues:
            current, start = slot, i
    return found
