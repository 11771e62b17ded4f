"""Tag schemes (IOB1, IOB2, BIOES): validation, tags -> entity spans, entity spans -> tags.

An entity span is ``(type, start, end)`` over word positions, ``end`` exclusive.

* IOB2: ``B-`` begins every entity, ``I-`` continues it.
* IOB1: ``I-`` is used throughout; ``B-`` only begins an entity that directly follows
  another entity of the same type (the original CoNLL-2003 files).
* BIOES: ``B-`` begin, ``I-`` inside, ``E-`` end, ``S-`` a one-word entity.

Decoding is lenient in the way conlleval is: an ``I-X`` (or ``E-X``) that does not continue
an open ``X`` entity begins a new one, so model output that breaks the scheme still yields
entities, and reading IOB1 and IOB2 uses the same rule.
"""

from __future__ import annotations

from typing import Optional, Sequence

SCHEMES = ("iob1", "iob2", "bioes")
PREFIXES = {"iob1": ("B", "I"), "iob2": ("B", "I"), "bioes": ("B", "I", "E", "S")}

Span = tuple[str, int, int]


def parse_tag(tag: str) -> tuple[str, Optional[str]]:
    """``"O"`` -> ``("O", None)``; ``"B-PER"`` -> ``("B", "PER")``; anything else raises ValueError."""
    if tag == "O":
        return "O", None
    prefix, dash, entity_type = tag.partition("-")
    if not dash or not entity_type or len(prefix) != 1:
        raise ValueError(f"malformed tag {tag!r}")
    return prefix, entity_type


def check_scheme(scheme: str, key: str = "tag_scheme") -> str:
    """``scheme`` lower-cased, or ValueError naming the known schemes."""
    name = scheme.lower()
    if name not in SCHEMES:
        raise ValueError(f"unknown tag scheme '{scheme}'; set data.{key}= one of {', '.join(SCHEMES)}")
    return name


def invalid_tag(tags: Sequence[str], scheme: str) -> Optional[str]:
    """The first tag that is not ``O`` or ``<prefix>-<TYPE>`` with a prefix of ``scheme``, else None."""
    allowed = PREFIXES[scheme]
    for tag in tags:
        try:
            prefix, _ = parse_tag(tag)
        except ValueError:
            return tag
        if prefix != "O" and prefix not in allowed:
            return tag
    return None


def stray_inside(tags: Sequence[str], scheme: str) -> Optional[int]:
    """Position of the first ``I-X`` (or BIOES ``E-X``) that does not continue an open ``X`` entity,
    which ``scheme`` does not allow (IOB2 after ``O``: IOB1-style data), else None.

    Such a tag is decoded leniently (it begins an entity); IOB1 allows it, so IOB1 tags give None.
    """
    if scheme == "iob1":
        return None
    current: Optional[str] = None
    for i, tag in enumerate(tags):
        prefix, entity_type = parse_tag(tag)
        if prefix in ("I", "E") and entity_type != current:
            return i
        current = None if prefix == "O" or (scheme == "bioes" and prefix in ("E", "S")) else entity_type
    return None


def tags_to_spans(tags: Sequence[str], scheme: str) -> list[Span]:
    """Entity spans of a tag sequence, decoded leniently (see the module docstring)."""
    spans: list[Span] = []
    current: Optional[str] = None
    start = 0
    for i, tag in enumerate(tags):
        prefix, entity_type = parse_tag(tag)
        if prefix == "O":
            if current is not None:
                spans.append((current, start, i))
            current = None
            continue
        begins = prefix in ("B", "S") or entity_type != current
        if begins:
            if current is not None:
                spans.append((current, start, i))
            current, start = entity_type, i
        if scheme == "bioes" and prefix in ("E", "S"):
            spans.append((current, start, i + 1))
            current = None
    if current is not None:
        spans.append((current, start, len(tags)))
    return spans


def spans_to_tags(spans: Sequence[Span], length: int, scheme: str) -> list[str]:
    """The tag sequence of ``length`` words that encodes ``spans`` (non-overlapping) in ``scheme``."""
    tags = ["O"] * length
    previous_end, previous_type = -1, None
    for entity_type, start, end in sorted(spans, key=lambda s: s[1]):
        if scheme == "iob2":
            tags[start : end] = [f"B-{entity_type}"] + [f"I-{entity_type}"] * (end - start - 1)
        elif scheme == "iob1":
            first = "B" if previous_end == start and previous_type == entity_type else "I"
            tags[start : end] = [f"{first}-{entity_type}"] + [f"I-{entity_type}"] * (end - start - 1)
        elif end - start == 1:
            tags[start] = f"S-{entity_type}"
        else:
            tags[start : end] = [f"B-{entity_type}"] + [f"I-{entity_type}"] * (end - start - 2) + [f"E-{entity_type}"]
        previous_end, previous_type = end, entity_type
    return tags


def label_names(entity_types: Sequence[str], scheme: str) -> list[str]:
    """The model's labels: ``O`` then each prefix of ``scheme`` for each type (``B-PER``, ``I-PER``, ...)."""
    return ["O"] + [f"{prefix}-{t}" for t in entity_types for prefix in PREFIXES[scheme]]


def mark_entities(words: Sequence[str], spans: Sequence[Span], separator: str = " ") -> str:
    """The sentence with each entity bracketed and typed: ``[EU|ORG] rejects [German|MISC] call``.

    ``separator`` joins the words (``""`` for Chinese tagged per character: ``[张伟|PER]在[南京|LOC]``)."""
    out: list[str] = []
    starts = {start: (entity_type, end) for entity_type, start, end in spans}
    i = 0
    while i < len(words):
        if i in starts:
            entity_type, end = starts[i]
            out.append(f"[{separator.join(words[i:end])}|{entity_type}]")
            i = end
        else:
            out.append(words[i])
            i += 1
    return separator.join(out)
