"""Configuration of the classification tasks: the ``data:`` section and the head's options.

The CLI imports this module to declare every ``data.*`` and ``task.head_config.*`` key with its
default (the ``config_class`` of the plugin's specs), so it imports only the standard library
and light names of ``glmtasks.api``: never torch, Lightning, transformers or the heavy modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from glmtasks.api import DataConfig


@dataclass
class ClassificationDataConfig(DataConfig):
    """The ``data:`` section of classification tasks."""

    text_column: str = "text"
    """Column of the text."""
    text_pair_column: Optional[str] = None
    """Column of the second text of sentence-pair tasks (NLI, paraphrase)."""
    label_column: str = "label"
    """Column of the label."""
    labels: Optional[list] = None
    """Label names; integer labels in the data index this list. Default: sorted labels of the training data."""
    demo_label_noise: float = 0.05
    """Share of demo training labels flipped at random (validation and test stay clean)."""
    language: str = "en"
    """Language of the text: ``en`` or ``zh``; picks the generated demo set (``data.source=demo``): English or Chinese reviews."""


@dataclass
class SequenceClassificationConfig:
    """``task.head_config`` of the ``sequence_classification`` head."""

    classifier_dropout: Optional[float] = None
    """Dropout before the classification layer; default: the model's own."""


@dataclass
class VerbalizerConfig:
    """``task.head_config`` of the ``verbalizer`` head (``task.head=verbalizer``): classification as filling in a blank."""

    verbalizers: Optional[dict] = None
    """Label name -> the word that stands for it (``{negative: bad, positive: good}``); every word must be one token.
    Default: each label's own name."""
    prompt: str = " It was [MASK] ."
    """Appended to the text; ``[MASK]`` marks the blank (a space before it belongs to the word, as in running text)."""
    attention: str = "auto"
    """``prefix``: GLM's pattern (text and prompt read bidirectionally, ``[S]`` at the blank predicts the word);
    ``causal``: a plain causal LM predicting the word after the prompt's text up to the blank;
    ``auto``: ``prefix`` for a backbone exported by blank-infilling pre-training (it has a block-position table), else ``causal``."""
