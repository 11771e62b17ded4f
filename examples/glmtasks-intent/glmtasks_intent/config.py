"""The data keys and head options of ``task=intent_slots`` (a light module: composing a config imports it)."""

from dataclasses import dataclass
from typing import Optional

from glmtasks.api import ConfigError, DataConfig

POOLINGS = ("mean", "first", "last")


@dataclass
class IntentSlotsDataConfig(DataConfig):
    """The ``data:`` section of ``task=intent_slots``: the keys every task has, and these."""

    tokens_column: str = "tokens"
    """Column of the words: a list, or a string split on white space."""
    tags_column: str = "tags"
    """Column of the BIO slot tags, one per word: a list, or a string split on white space."""
    intent_column: str = "intent"
    """Column of the intent label."""
    intents: Optional[list] = None
    """Intent names; default: the sorted intents of the training data."""
    slot_types: Optional[list] = None
    """Slot types (``[date, city]``); default: the sorted slot types of the training data."""


@dataclass
class IntentSlotsHeadConfig:
    """``task.head_config`` of the ``intent_slots`` head (glmtasks declares each field and rejects other keys)."""

    pooling: str = "mean"
    """How the utterance vector is read: ``mean`` of the tokens, the ``first`` ([CLS]) or the ``last`` (decoder-only) token."""
    dropout: float = 0.1
    """Dropout on the encoder output before both classifiers."""
    slot_loss_weight: float = 1.0
    """Weight of the slot loss against the intent loss."""

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ConfigError(f"task.head_config.pooling must be one of {', '.join(POOLINGS)}, got '{self.pooling}'")
