"""Configuration of ``task=ner``: the ``data:`` section and the head's options.

The CLI imports this module to declare every ``data.*`` and ``task.head_config.*`` key with its
default (the ``config_class`` of the plugin's specs), so it imports only the standard library
and light names of ``glmtasks.api``: never torch, Lightning, transformers or the heavy modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from glmtasks.api import DataConfig


@dataclass
class NERDataConfig(DataConfig):
    """The ``data:`` section of ``task=ner``.

    ``data.format`` is ``conll`` or ``jsonl`` (default: ``jsonl`` for .jsonl/.json files, else
    ``conll``); ``data.source`` is ``files`` or ``demo`` (not ``hub``).
    """

    token_column: int = 0
    """CoNLL column of the word (0-based; negative counts from the end)."""
    tag_column: int = -1
    """CoNLL column of the tag (``-1``: the last column)."""
    column_separator: Optional[str] = None
    """CoNLL column separator; default: any run of white space."""
    doc_start: str = "-DOCSTART-"
    """First word of document-separator lines, which are skipped."""
    tokens_field: str = "tokens"
    """jsonl field holding the list of words."""
    tags_field: str = "tags"
    """jsonl field holding the list of tags."""
    tag_scheme: str = "iob2"
    """Scheme of the tags in the files: ``iob1``, ``iob2`` or ``bioes`` (predictions are written in it too).

    An ``I-`` tag that begins an entity (IOB1-style data read as ``iob2``) is read as IOB1 reads
    it, with a warning; any tag outside the scheme is an error naming its line."""
    label_scheme: str = "iob2"
    """Scheme the model learns to predict: ``iob1``, ``iob2`` or ``bioes``."""
    entity_types: Optional[list] = None
    """Entity types (``[PER, ORG, LOC, MISC]``); default: the types of the training data, sorted."""
    language: str = "en"
    """Language of the text: ``en`` or ``zh`` (Chinese is tagged per character: each character is a word);
    picks the generated demo set (``data.source=demo``)."""


@dataclass
class TokenClassificationConfig:
    """``task.head_config`` of the ``token_classification`` head."""

    classifier_dropout: Optional[float] = None
    """Dropout before the classification layer; default: the model's own."""
