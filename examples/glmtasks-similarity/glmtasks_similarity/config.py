"""The data keys of the similarity task (a light module: composing a config imports it)."""

from dataclasses import dataclass

from glmtasks.api import DataConfig


@dataclass
class SentencePairsConfig(DataConfig):
    """The ``data:`` keys of the similarity task (the base declares files, sizes and batching)."""

    sentence1_column: str = "sentence1"
    """Column of the first sentence."""
    sentence2_column: str = "sentence2"
    """Column of the second sentence."""
    score_column: str = "score"
    """Column of the gold similarity (any real scale; STS-B uses 0-5)."""
