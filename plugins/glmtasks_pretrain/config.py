"""Configuration of ``task=pretrain``: the ``data:`` section and the head's options.

The CLI imports this module to declare every ``data.*`` and ``task.head_config.*`` key with its
default (the ``config_class`` of the plugin's specs), so it imports only the standard library
and light names of ``glmtasks.api``: never torch, Lightning, transformers or the heavy modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from glmtasks.api import DataConfig


@dataclass
class PretrainDataConfig(DataConfig):
    """The ``data:`` section of ``task=pretrain`` (``max_length`` is unused: blocks are ``block_size`` long).

    ``train_file``/``validation_file``/``test_file`` (one file each) may be used as well as the lists.
    """

    train_files: Optional[list] = None
    """Plain text files (any suffix but the table ones) and/or jsonl/json/csv/parquet files."""
    validation_files: Optional[list] = None
    """Validation text; when unset, the last ``validation_fraction`` of each training file's blocks."""
    validation_fraction: float = 0.05
    """Share of each training file's blocks held out for validation when there are no validation_files."""
    text_column: str = "text"
    """Column (field) of the text in table and jsonl files."""
    document_split: str = "blank_line"
    """How a plain text file becomes documents: ``blank_line`` (paragraphs), ``line`` or ``file`` (one document)."""
    block_size: int = 128
    """Tokens of original text per example (a blank-infilling example adds 2 tokens per span)."""
    objective: str = "blank_infilling"
    """``blank_infilling`` (GLM) or ``causal_lm`` (next-token prediction)."""
    mask_ratio: float = 0.15
    """Blank infilling: spans are drawn until at least this share of the block is masked."""
    poisson_lambda: float = 3.0
    """Blank infilling: mean of the Poisson distribution of span lengths."""
    max_span_length: int = 16
    """Blank infilling: longest span (longer draws are cut); sizes the block-position table."""
    demo_documents: int = 400
    """Generated documents (``source=demo``); ``validation_fraction`` of the blocks are held out for validation."""


@dataclass
class PretrainHeadConfig:
    """``task.head_config`` of the ``pretrain_lm`` head: fields of the causal LM's model config."""

    tie_word_embeddings: Optional[bool] = None
    """Share the output projection with the input embeddings; default: the model's own setting."""
    model_config: dict = field(default_factory=dict)
    """Any other model config field of the causal LM (as ``backbone.model_config``, for this task only)."""
