"""Classification data: labelled texts (or text pairs) from files, the hub, or the demo generator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional

import lightning as L

from glmtasks.data import BatchingConfig, PadCollator, eval_loader, map_once, read_table, require_columns, train_loader
from glmtasks.errors import DataError
from glmtasks.specs import TaskSpec

SPLIT_KEYS = {"train": "train_file", "validation": "validation_file", "test": "test_file"}


@dataclass
class ClassificationDataConfig(BatchingConfig):
    """The ``data:`` section of classification tasks."""

    source: str = "files"
    """``files`` (``*_file`` keys), ``hub`` (``hub_dataset``) or ``demo`` (generated sentiment set)."""
    train_file: Optional[str] = None
    validation_file: Optional[str] = None
    test_file: Optional[str] = None
    """Test split file; when unset, the test metrics and predictions use the validation split."""
    format: Optional[str] = None
    """csv, tsv, json (also JSON lines), parquet; default: from the file suffix."""
    hub_dataset: Optional[str] = None
    """Dataset name on the hub (``source=hub``; needs network)."""
    hub_config: Optional[str] = None
    train_split: str = "train"
    validation_split: str = "validation"
    test_split: Optional[str] = None
    text_column: str = "text"
    text_pair_column: Optional[str] = None
    """Second text of sentence-pair tasks (NLI, paraphrase)."""
    label_column: str = "label"
    labels: Optional[list] = None
    """Label names; integer labels in the data index this list. Default: sorted labels of the training data."""
    demo_train_size: int = 4000
    demo_eval_size: int = 600
    demo_label_noise: float = 0.05
    """Share of demo training labels flipped at random (validation and test stay clean)."""


class ClassificationDataModule(L.LightningDataModule):
    """Reads the splits when constructed (so data errors surface before any model is built),
    tokenizes each split once in ``setup``, and batches with length grouping and dynamic padding."""

    def __init__(self, config: ClassificationDataConfig, task: TaskSpec):
        super().__init__()
        self.config = config
        self.task = task
        self.raw = self._load_raw()
        self.labels = self._label_names()
        if task.name == "sentiment" and len(self.labels) != 2:
            raise DataError(
                f"task=sentiment is binary but the data has {len(self.labels)} labels "
                f"({', '.join(self.labels[:10])}); use task=classification"
            )
        self.raw = {split: self._encode_labels(split, ds) for split, ds in self.raw.items()}
        self.task_info = {"labels": self.labels}
        self.tokenizer: Any = None
        self.tokenized: dict[str, Any] = {}

    # -- reading --------------------------------------------------------------------------
    def _load_raw(self) -> dict[str, Any]:
        c = self.config
        if c.source == "demo":
            import datasets

            from glmtasks_classification.demo import generate_sentiment

            c.text_column, c.label_column, c.text_pair_column = "text", "label", None
            sizes = {"train": c.demo_train_size, "validation": c.demo_eval_size, "test": c.demo_eval_size}
            return {
                split: datasets.Dataset.from_dict(
                    generate_sentiment(size, seed=c.seed * 1000 + i, label_noise=c.demo_label_noise if split == "train" else 0.0)
                )
                for i, (split, size) in enumerate(sizes.items())
            }
        if c.source == "hub":
            splits = self._load_hub()
        elif c.source == "files":
            splits = self._load_files()
        else:
            raise DataError(f"unknown data.source '{c.source}'; use files, hub or demo")
        columns = {"text_column": c.text_column, "label_column": c.label_column}
        if c.text_pair_column:
            columns["text_pair_column"] = c.text_pair_column
        for split, dataset in splits.items():
            where = getattr(c, SPLIT_KEYS[split], None) or f"hub split '{split}'"
            require_columns(dataset, columns, where)
        if c.max_train_samples:
            splits["train"] = splits["train"].shuffle(seed=c.seed).select(range(min(c.max_train_samples, len(splits["train"]))))
        if c.max_eval_samples:
            for split in ("validation", "test"):
                if split in splits:
                    splits[split] = splits[split].select(range(min(c.max_eval_samples, len(splits[split]))))
        splits.setdefault("test", splits["validation"])
        return splits

    def _load_files(self) -> dict[str, Any]:
        c = self.config
        for split in ("train", "validation"):
            if not getattr(c, SPLIT_KEYS[split]):
                raise DataError(f"data.{SPLIT_KEYS[split]} is not set; give your {split} file with data.{SPLIT_KEYS[split]}=<path>")
        return {
            split: read_table(getattr(c, key), key, c.format)
            for split, key in SPLIT_KEYS.items()
            if getattr(c, key)
        }

    def _load_hub(self) -> dict[str, Any]:
        import datasets

        c = self.config
        if not c.hub_dataset:
            raise DataError("data.source=hub needs data.hub_dataset=<name on the hub>")
        names = {"train": c.train_split, "validation": c.validation_split, "test": c.test_split}
        try:
            return {
                split: datasets.load_dataset(c.hub_dataset, c.hub_config, split=name)
                for split, name in names.items()
                if name
            }
        except Exception as exc:  # noqa: BLE001 - network, missing dataset, missing split
            raise DataError(f"cannot load hub dataset '{c.hub_dataset}': {str(exc).splitlines()[0]}") from exc

    def _label_names(self) -> list[str]:
        if self.config.labels:
            return [str(label) for label in self.config.labels]
        values = set(self.raw["train"][self.config.label_column])
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return [str(v) for v in sorted(values)]
        return sorted(str(v) for v in values)

    def _encode_labels(self, split: str, dataset) -> Any:
        """Replace the label column by ``label_id``; fail on the first label outside the set."""
        index = {name: i for i, name in enumerate(self.labels)}
        ids = []
        for row, value in enumerate(dataset[self.config.label_column]):
            if isinstance(value, int) and not isinstance(value, bool) and self.config.labels:
                ok = 0 <= value < len(self.labels)
                label_id = value
            else:
                ok = str(value) in index
                label_id = index.get(str(value), -1)
            if not ok:
                raise DataError(
                    f"label {value!r} in row {row + 1} of the {split} data is not one of the labels "
                    f"[{', '.join(self.labels)}]; fix the data or list every label in data.labels=[...]"
                )
            ids.append(label_id)
        return dataset.add_column("label_id", ids)

    # -- the protocol the core uses -------------------------------------------------------
    def training_texts(self) -> Iterator[str]:
        """Raw training texts (and second texts), for training a from-scratch tokenizer."""
        yield from self.raw["train"][self.config.text_column]
        if self.config.text_pair_column:
            yield from self.raw["train"][self.config.text_pair_column]

    def set_tokenizer(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def example_record(self, split: str, index: int) -> dict[str, Any]:
        row = self.raw[split][index]
        record = {"text": row[self.config.text_column]}
        if self.config.text_pair_column:
            record["text_pair"] = row[self.config.text_pair_column]
        record["label"] = self.labels[row["label_id"]]
        return record

    # -- Lightning ------------------------------------------------------------------------
    def setup(self, stage: Optional[str] = None) -> None:
        if self.tokenized:
            return
        c, tokenizer = self.config, self.tokenizer

        def tokenize(rows: dict[str, list]) -> dict[str, list]:
            pairs = rows[c.text_pair_column] if c.text_pair_column else None
            encoded = tokenizer(rows[c.text_column], pairs, truncation=True, max_length=c.max_length)
            encoded["labels"] = rows["label_id"]
            return encoded

        for split, dataset in self.raw.items():
            tokenized = map_once(
                dataset, tokenize, name=f"tokenized-{split}", trainer=self.trainer,
                batched=True, remove_columns=dataset.column_names, desc=f"tokenizing {split}",
            )
            self.tokenized[split] = tokenized.add_column("index", list(range(len(tokenized))))

    def _lengths(self, split: str) -> list[int]:
        return [len(ids) for ids in self.tokenized[split]["input_ids"]]

    def _collator(self) -> PadCollator:
        return PadCollator(pad_id=self.tokenizer.pad_token_id, padding_side="right")

    def train_dataloader(self):
        return train_loader(self.tokenized["train"], self._lengths("train"), self.config, self._collator(), self.trainer)

    def val_dataloader(self):
        return eval_loader(self.tokenized["validation"], self._lengths("validation"), self.config, self._collator(), self.trainer)

    def test_dataloader(self):
        return eval_loader(self.tokenized["test"], self._lengths("test"), self.config, self._collator(), self.trainer)

    def predict_dataloader(self):
        return self.test_dataloader()
