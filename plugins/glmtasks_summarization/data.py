"""Summarization data: documents (or dialogues) and their summaries from files or the demo generator."""

from __future__ import annotations

from dataclasses import dataclass

from glmtasks.errors import DataError
from glmtasks.generation import (
    TextPair,
    TextPairDataConfig,
    TextPairDataModule,
    add_predict_split,
    finish_splits,
    read_pair_splits,
    read_pair_table,
)
from glmtasks.specs import TaskSpec


@dataclass
class SummarizationDataConfig(TextPairDataConfig):
    """The ``data:`` section of summarization: every key of :class:`TextPairDataConfig`.

    ``source_column`` holds the document (a list of sentences is joined), ``target_column``
    the summary (a list is several reference summaries).
    """

    max_length: int = 512
    max_target_length: int = 64


def make_datamodule(config: SummarizationDataConfig, task: TaskSpec) -> TextPairDataModule:
    """Read the configured files (or generate the demo reports) into a :class:`TextPairDataModule`."""
    if config.source == "demo":
        splits = finish_splits(_demo_splits(config), config)
    elif config.source == "files":
        splits = read_pair_splits(config)
    else:
        raise DataError(f"unknown data.source '{config.source}'; use files or demo")
    add_predict_split(splits, config, lambda path, key: read_pair_table(path, key, config, config.source_column, config.target_column, require_target=False))
    return TextPairDataModule(config, task, splits)


def _demo_splits(config: SummarizationDataConfig) -> dict[str, list[TextPair]]:
    from glmtasks_summarization.demo import generate_reports

    sizes = {"train": config.demo_train_size, "validation": config.demo_eval_size, "test": config.demo_eval_size}
    splits = {}
    for i, (split, size) in enumerate(sizes.items()):
        columns = generate_reports(size, seed=config.seed * 1000 + i)
        splits[split] = [TextPair(d, [s]) for d, s in zip(columns["document"], columns["summary"])]
    return splits
