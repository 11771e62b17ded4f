"""Classification data: labelled texts (or text pairs) from files, the hub, or the demo generator."""

from __future__ import annotations

from typing import Any, Iterator, Optional

from glmtasks.api import DataError, TaskDataModule, encode_texts, label_id, label_names
from glmtasks_classification.config import ClassificationDataConfig


class ClassificationDataModule(TaskDataModule):
    """Texts (or text pairs) and their labels; the label set comes from ``data.labels`` or the training data."""

    config: ClassificationDataConfig

    def required_columns(self, labelled: bool) -> dict[str, str]:
        c = self.config
        columns = {"text_column": c.text_column}
        if c.text_pair_column:
            columns["text_pair_column"] = c.text_pair_column
        if labelled:
            columns["label_column"] = c.label_column
        return columns

    def record_problem(self, record: dict[str, Any], labelled: bool) -> Optional[str]:
        """Empty cells (the base), texts that are not strings, labels that are not names or integers."""
        problem = super().record_problem(record, labelled)
        if problem:
            return problem
        c = self.config
        for key, column in self.required_columns(labelled).items():
            if key != "label_column" and not isinstance(record[column], str):
                return f"{column} (data.{key}) is {record[column]!r}, not text"
        label = record.get(c.label_column)
        if label is not None and (isinstance(label, (bool, float, list, dict))):
            return (f"label {label!r} in {c.label_column} (data.label_column) is a {type(label).__name__}; labels must be names "
                    "or integers (a reader turns integer labels into floats when a cell is empty: fix the empty cell)")
        return None

    def demo_records(self, split: str, size: int, seed: int) -> list[dict[str, Any]]:
        from glmtasks_classification.demo import LANGUAGES, generate_sentiment

        c = self.config
        if c.text_pair_column:
            raise DataError("the demo set has single texts; unset data.text_pair_column or use data.source=files")
        if c.language not in LANGUAGES:
            raise DataError(f"the demo set has no language '{c.language}'; use data.language={' or data.language='.join(LANGUAGES)}, or data.source=files")
        noise = c.demo_label_noise if split == "train" else 0.0
        columns = generate_sentiment(size, seed=seed, label_noise=noise, language=c.language)
        return [{c.text_column: t, c.label_column: label} for t, label in zip(columns["text"], columns["label"])]

    def build_task_info(self) -> dict[str, Any]:
        c = self.config
        labelled = self.splits.get("train") or self.splits.get("validation")
        if not c.labels and not labelled:
            raise DataError("cannot tell the label set without labelled data; list the labels with data.labels=[...]")
        values = [r[c.label_column] for r in labelled or []]
        kinds = {type(v).__name__: v for v in values if isinstance(v, (int, str))}
        if not c.labels and len(kinds) > 1:
            raise DataError(
                f"the label column {c.label_column} mixes integers ({kinds['int']!r}) and names ({kinds['str']!r}); "
                "use one kind of label, or list the label names in data.labels=[...] (integers then index it)"
            )
        return {"labels": label_names(values, c.labels)}

    def check_records(self, split: str, records: list[dict[str, Any]]) -> None:
        labels = self.task_info["labels"]
        index = {name: i for i, name in enumerate(labels)}
        column = self.config.label_column
        for row, record in enumerate(records):
            if column in record and label_id(record[column], labels, index, bool(self.config.labels)) < 0:
                raise DataError(
                    f"label {record[column]} in row {row + 1} of the {split} data is not one of the labels "
                    f"[{', '.join(labels)}]; fix the data or list every label in data.labels=[...]"
                )

    def training_texts(self) -> Iterator[str]:
        c = self.config
        for column in (c.text_column, c.text_pair_column):
            if column:
                yield from (record[column] for record in self.split_records("train"))

    def encode_batch(self, records: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
        c = self.config
        pairs = [r[c.text_pair_column] for r in records] if c.text_pair_column else None
        features = encode_texts(self.tokenizer, [r[c.text_column] for r in records], pairs, c.max_length)
        labels = self.task_info["labels"]
        index = {name: i for i, name in enumerate(labels)}
        for feature, record in zip(features, records):
            if c.label_column in record:
                feature["labels"] = label_id(record[c.label_column], labels, index, bool(c.labels))
        return features

    def describe(self, record: dict[str, Any], split: str) -> dict[str, Any]:
        c = self.config
        described = {"text": record[c.text_column]}
        if c.text_pair_column:
            described["text_pair"] = record[c.text_pair_column]
        if c.label_column in record:
            labels = self.task_info["labels"]
            described["label"] = labels[label_id(record[c.label_column], labels, {n: i for i, n in enumerate(labels)}, bool(c.labels))]
        return described


class SentimentDataModule(ClassificationDataModule):
    """Classification data that must have exactly two labels (negative/positive)."""

    def build_task_info(self) -> dict[str, Any]:
        info = super().build_task_info()
        if len(info["labels"]) != 2:
            raise DataError(
                f"task=sentiment is binary but the data has {len(info['labels'])} labels "
                f"({', '.join(info['labels'][:10])}); use task=classification"
            )
        return info
