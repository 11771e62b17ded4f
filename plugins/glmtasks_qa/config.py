"""Configuration of ``task=qa``: the ``data:`` section and the head's options.

The CLI imports this module to declare every ``data.*`` and ``task.head_config.*`` key with its
default (the ``config_class`` of the plugin's specs), so it imports only the standard library
and light names of ``glmtasks.api``: never torch, Lightning, transformers or the heavy modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from glmtasks.api import DataConfig


@dataclass
class QADataConfig(DataConfig):
    """The ``data:`` section of ``task=qa``; ``demo_train_size``/``demo_eval_size`` count questions."""

    max_length: int = 384
    """Tokens per window (question, context part and special tokens)."""
    doc_stride: int = 128
    """Tokens shared by consecutive windows of a long context."""
    max_query_length: int = 64
    """Question tokens kept (longer questions are cut)."""
    train_articles: Optional[str] = None
    """Articles of ``train_file`` to use, as a Python slice of article positions (``"0:40"``); default all."""
    validation_articles: Optional[str] = None
    """Articles of ``validation_file`` to use (``"40:48"``); default all."""
    test_articles: Optional[str] = None
    """Articles of ``test_file`` to use; default all."""
    language: str = "en"
    """``en`` (official SQuAD answer normalization) or ``zh`` (CMRC 2018 normalization, character F1); also the demo's language."""


@dataclass
class SpanExtractionConfig:
    """``task.head_config`` of the ``span_extraction`` head."""

    max_answer_length: int = 30
    """Longest answer, in tokens, the n-best decoder considers."""
    n_best_size: int = 20
    """Candidate spans kept per window and per question (predictions list the best five)."""
