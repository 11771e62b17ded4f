"""Configuration of conditional generation: the shared ``data:`` section of text pairs and the generation head's options.

The CLI imports this module to declare every ``data.*`` and ``task.head_config.*`` key with its
default (the ``config_class`` of the plugin's specs), so it imports only the standard library
and light names of ``glmtasks.api``: never torch, Lightning, transformers or the heavy modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from glmtasks.api import DataConfig


@dataclass
class ScoringConfig:
    """How references are scored (``data.scoring``): a property of the dataset and its language."""

    rouge_stemmer: bool = True
    """Porter-stem English words before ROUGE (as most summarization papers do)."""
    rouge_tokenizer: str = "auto"
    """``words`` (rouge-score's own: lowercase a-z0-9 words, for comparable English numbers),
    ``unicode`` (any script's words; Chinese/Japanese characters one by one), ``zh_words``
    (Chinese segmented into words by jieba, ``pip install 'glmtasks[zh]'``) or ``auto``
    (``words`` for English, ``unicode`` otherwise). metrics.json records the one used."""
    bleu_tokenize: str = "auto"
    """sacreBLEU tokenizer (``13a``, ``intl``, ``zh``, ``char``, ``none``, ...); ``auto``:
    ``zh`` for Chinese, ``char`` for Japanese, else ``13a``. For Chinese and Japanese, full-width
    forms and CJK punctuation are normalized to ASCII on both sides before BLEU/chrF."""
    lowercase: bool = False
    """Case-insensitive BLEU/chrF."""


@dataclass
class TextPairDataConfig(DataConfig):
    """The ``data:`` section of generation tasks (``max_length`` caps the prompt's tokens)."""

    source_column: Optional[str] = "source"
    """Column of the source text; a list of strings (sentences) is joined with ``source_join``.
    A dotted name reads a nested field (``translation.de``)."""
    target_column: Optional[str] = "target"
    """Column of the reference; a list of strings is several references of one example."""
    column_names: Optional[list] = None
    """Names of the columns of a csv/tsv file without a header row."""
    prompt: str = "{source}"
    """Prompt template; ``{source}`` is replaced by the source text (e.g. ``"summarize: {source}"``)."""
    source_join: str = " "
    """Separator of list-valued sources (sentences)."""
    max_target_length: int = 64
    """Target tokens kept for training (references are never truncated for scoring); also
    the default ``max_new_tokens`` of generation."""
    train_on_all_references: bool = True
    """With several references, train on each of them (one example per reference)."""
    language: Optional[str] = None
    """Language of the targets (``en``, ``de``, ``zh``, ...): picks the scoring tokenizers (default ``en``)."""
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    """How hypotheses are scored against the references (see :class:`ScoringConfig`)."""


@dataclass
class GenerationHeadConfig:
    """``task.head_config`` of generation heads: decoding (saved as the export's generation_config) and the loss."""

    max_new_tokens: Optional[int] = None
    """Tokens generated at most; default: ``data.max_target_length``."""
    num_beams: int = 1
    """1: greedy search; more: beam search."""
    length_penalty: float = 1.0
    """Beam search: scores are divided by length**length_penalty (> 1 favours longer outputs)."""
    early_stopping: bool = True
    """Beam search: stop when ``num_beams`` finished candidates exist."""
    no_repeat_ngram_size: int = 0
    """Forbid repeating any n-gram of this size (0: off)."""
    repetition_penalty: float = 1.0
    """Penalize tokens already generated (1.0: off)."""
    label_smoothing: float = 0.0
    """Label smoothing of the training loss."""
