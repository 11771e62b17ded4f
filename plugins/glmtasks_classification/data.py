"""Classification data: labelled texts (or text pairs) from files, the hub, or the demo generator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional

import lightning as L

from glmtasks.data import BatchingConfig, PadCollator, eval_loader, map_once, read_table, require_columns, train_loader
from glmtasks.errors import DataError
from glmtasks.specs import TaskSpec

SPLIT_KEYS = {"train": "train_file", "validation": "validation_file", "test": "test_file", "predict": "predict_file"}


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
        self.adopt_task_info({"labels": self._label_names()})
        self.tokenizer: Any = None
        self.tokenized: dict[str, Any] = {}

    def adopt_task_info(self, task_info: dict[str, Any]) -> None:
        """Use ``task_info["labels"]`` (from the data, or from a trained model) and encode every split with it."""
        self.labels = list(task_info["labels"])
        if self.task.name == "sentiment" and len(self.labels) != 2:
            raise DataError(
                f"task=sentiment is binary but the data has {len(self.labels)} labels "
                f"({', '.join(self.labels[:10])}); use task=classification"
            )
        self.task_info = {"labels": self.labels}
        self.label_ids = {
            split: self._encode_labels(split, ds)
            for split, ds in self.raw.items()
            if self.config.label_column in ds.column_names
        }

    # -- reading --------------------------------------------------------------------------
    def _load_raw(self) -> dict[str, Any]:
        c = self.config
        if c.source == "demo":
            import datasets

            from glmtasks_classification.demo import generate_sentiment

            c.text_column, c.label_column, c.text_pair_column = "text", "label", None
            sizes = {"train": c.demo_train_size, "validation": c.demo_eval_size, "test": c.demo_eval_size}
            splits = {
                split: datasets.Dataset.from_dict(
                    generate_sentiment(size, seed=c.seed * 1000 + i, label_noise=c.demo_label_noise if split == "train" else 0.0)
                )
                for i, (split, size) in enumerate(sizes.items())
            }
            if c.predict_file:
                splits["predict"] = read_table(c.predict_file, "predict_file", c.format)
                require_columns(splits["predict"], {"text_column": c.text_column}, c.predict_file)
            return splits
        if c.source == "hub":
            splits = self._load_hub()
            if c.predict_file:  # inputs to predict are a local file whatever the source
                splits["predict"] = read_table(c.predict_file, "predict_file", c.format)
        elif c.source == "files":
            splits = self._load_files()
        else:
            raise DataError(f"unknown data.source '{c.source}'; use files, hub or demo")
        columns = {"text_column": c.text_column, "label_column": c.label_column}
        if c.text_pair_column:
            columns["text_pair_column"] = c.text_pair_column
        for split, dataset in splits.items():
            where = getattr(c, SPLIT_KEYS[split], None) or f"hub split '{split}'"
            needed = {k: v for k, v in columns.items() if not (split == "predict" and k == "label_column")}
            require_columns(dataset, needed, where)
        if c.max_train_samples and "train" in splits:
            splits["train"] = splits["train"].shuffle(seed=c.seed).select(range(min(c.max_train_samples, len(splits["train"]))))
        if c.max_eval_samples:
            for split in ("validation", "test"):
                if split in splits:
                    splits[split] = splits[split].select(range(min(c.max_eval_samples, len(splits[split]))))
        if "validation" in splits:
            splits.setdefault("test", splits["validation"])
        return splits

    def _load_files(self) -> dict[str, Any]:
        c = self.config
        if not (c.validation_file or c.predict_file):
            raise DataError("data.validation_file is not set; give your validation file with data.validation_file=<path>")
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

    def _require_train(self) -> Any:
        if "train" not in self.raw:
            raise DataError("data.train_file is not set; give your training file with data.train_file=<path>")
        return self.raw["train"]

    def _label_names(self) -> list[str]:
        if self.config.labels:
            return [str(label) for label in self.config.labels]
        source = self.raw["train"] if "train" in self.raw else self.raw.get("validation")
        if source is None or self.config.label_column not in source.column_names:
            raise DataError("cannot tell the label set without labelled data; list the labels with data.labels=[...]")
        values = set(source[self.config.label_column])
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return [str(v) for v in sorted(values)]
        return sorted(str(v) for v in values)

    def _encode_labels(self, split: str, dataset) -> list[int]:
        """Label ids of ``split``; fail on the first label outside the label set."""
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
        return ids

    # -- the protocol the core uses -------------------------------------------------------
    def training_texts(self) -> Iterator[str]:
        """Raw training texts (and second texts), for training a from-scratch tokenizer."""
        train = self._require_train()
        columns = [c for c in (self.config.text_column, self.config.text_pair_column) if c]
        for column in columns:  # in slices: row by row, datasets costs ~60 us per text
            for batch in train.select_columns([column]).iter(batch_size=1000):
                yield from batch[column]

    def set_tokenizer(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def example_record(self, split: str, index: int) -> dict[str, Any]:
        row = self.raw[split][index]
        record = {"text": row[self.config.text_column]}
        if self.config.text_pair_column:
            record["text_pair"] = row[self.config.text_pair_column]
        if split in self.label_ids:
            record["label"] = self.labels[self.label_ids[split][index]]
        return record

    # -- Lightning ------------------------------------------------------------------------
    def setup(self, stage: Optional[str] = None) -> None:
        if self.tokenized:
            return
        c, tokenizer = self.config, self.tokenizer

        def tokenize(rows: dict[str, list]) -> dict[str, list]:
            pairs = rows[c.text_pair_column] if c.text_pair_column else None
            return tokenizer(rows[c.text_column], pairs, truncation=True, max_length=c.max_length)

        for split, dataset in self.raw.items():
            tokenized = map_once(
                dataset, tokenize, name=f"tokenized-{split}", trainer=self.trainer,
                batched=True, remove_columns=dataset.column_names, desc=f"tokenizing {split}",
            )
            if split in self.label_ids:
                tokenized = tokenized.add_column("labels", self.label_ids[split])
            self.tokenized[split] = tokenized.add_column("index", list(range(len(tokenized))))

    def _lengths(self, split: str) -> list[int]:
        return [len(ids) for ids in self.tokenized[split]["input_ids"]]

    def _collator(self) -> PadCollator:
        return PadCollator(pad_id=self.tokenizer.pad_token_id, padding_side="right")

    def train_dataloader(self):
        self._require_train()
        return train_loader(self.tokenized["train"], self._lengths("train"), self.config, self._collator(), self.trainer)

    def val_dataloader(self):
        return eval_loader(self.tokenized["validation"], self._lengths("validation"), self.config, self._collator(), self.trainer)

    def test_dataloader(self):
        return eval_loader(self.tokenized["test"], self._lengths("test"), self.config, self._collator(), self.trainer)

    def predict_dataloader(self):
        split = "predict" if "predict" in self.tokenized else "test"
        return eval_loader(self.tokenized[split], self._lengths(split), self.config, self._collator(), self.trainer)
