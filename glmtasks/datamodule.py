"""The base datamodule of every task: reading, splits, subsampling, tokenizing once, batching.

A task extends :class:`TaskDataModule` and supplies what is particular to it, usually a page
of code: which columns a record needs, how one record becomes model inputs (:meth:`encode`
or the batched :meth:`encode_batch`), what ``task_info`` the data defines (labels), and
optionally a generated demo set and a reader for a file format of its own. The base owns
everything that is the same for every task:

* **reading**: ``data.source=files`` (csv, tsv, json/jsonl, parquet, text through
  ``datasets``), ``demo`` (the task's generator) or ``hub`` (``datasets.load_dataset``);
  ``data.predict_file`` whatever the source;
* **splits and fallbacks**: the test split falls back to validation; without a validation
  file, ``data.validation_size`` training examples are held out (``data.test_size`` for a test
  split without a test file); a missing split is an error
  naming the key that sets it;
* **subsampling**: ``data.max_train_samples`` (a random subset, ``data.seed``) and
  ``data.max_eval_samples`` (the first N validation and test examples);
* **tokenizing once**, cached and shared by the ranks of a distributed run
  (:func:`glmtasks.data.compute_once`);
* **batching**: length-grouped, shuffled, rank-sharded, resumable training batches; sorted
  evaluation batches; dynamic padding (:class:`glmtasks.data.PadCollator`); the predict split.

Records are plain dicts (one per example, as read from the file); features are dicts of
token-id lists and scalars (one or several per record). Every batch carries ``index``, the
example's position in its split, so predictions map back to the inputs.
"""

from __future__ import annotations

import logging
import math
import random
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Protocol, Sequence, runtime_checkable

import lightning as L

from glmtasks.config import DataConfig
from glmtasks.data import PadCollator, compute_once, eval_loader, read_records, train_loader
from glmtasks.errors import DataError
from glmtasks.progress import QUIET_SECONDS, Progress, format_duration, rate_text

log = logging.getLogger(__name__)

LARGE_FILE_BYTES = 50_000_000
"""Files at least this large are announced before they are read (reading may take a while)."""

SPLIT_KEYS = {"train": "train_file", "validation": "validation_file", "test": "test_file", "predict": "predict_file"}
"""Each split and the ``data.*`` key of its file."""


@runtime_checkable
class DataModuleProtocol(Protocol):
    """What the core needs from a datamodule (:class:`TaskDataModule` provides all of it).

    A datamodule is also a ``lightning.LightningDataModule`` (``setup`` and the four loaders).
    """

    task_info: dict
    """What the data defines (for example ``{"labels": [...]}``), read by heads and metrics; JSON-serializable."""

    def training_texts(self) -> Iterator[str]:
        """Raw training strings, for training the tokenizer of a model built from scratch."""

    def set_tokenizer(self, tokenizer: Any) -> None:
        """Called once, before ``setup``."""

    def adopt_task_info(self, task_info: dict) -> None:
        """Use the ``task_info`` of a trained model (evaluate, predict) so data is encoded its way."""

    def example_record(self, split: str, index: int) -> dict:
        """A JSON-serializable description of example ``index`` of ``split``, merged into predictions.jsonl."""

    def predict_dataloader(self) -> Any:
        """Batches of the predict split (``data.predict_file``), else of the test split."""


class TaskDataModule(L.LightningDataModule):
    """Base datamodule: a task overrides the hooks in the first block below, the base does the rest.

    Construction reads every split (so data errors surface before a model is built) and
    works out ``task_info``. ``setup`` encodes each split once; the loaders batch them.

    Hooks for a task (all optional except :meth:`encode` or :meth:`encode_batch`):

    * :meth:`required_columns`: record keys a split must have, by the config key naming them;
    * :meth:`read_splits`: every split at once, when a split is not one file per key;
    * :meth:`read_file`: records of a file in a format of the task's own (CoNLL, SQuAD JSON);
    * :meth:`convert_rows`: records from the rows of a table file or a hub split;
    * :meth:`record_problem`: what is wrong with one row (the base stops or skips it);
    * :meth:`demo_records`: a generated split for ``data.source=demo``;
    * :meth:`build_task_info` / :meth:`check_records`: what the data defines, and checks of
      each split against it (a label outside the label set);
    * :meth:`encode` / :meth:`encode_batch` / :meth:`encode_split`: records to features;
    * :meth:`describe`: the record written next to each prediction;
    * :meth:`collator`, :meth:`feature_length`: batching details.

    A task with a check that needs more than the row (the tokenizer's chat template, say) runs it
    through :meth:`drop_invalid`, which applies ``data.invalid_rows`` the way the base does.
    """

    config: DataConfig

    def __init__(self, config: DataConfig):
        super().__init__()
        self.config = config
        self.tokenizer: Any = None
        self.features: dict[str, list[dict[str, Any]]] = {}
        self.skipped_rows: dict[str, dict[str, Any]] = {}
        """Split -> ``{"count": N, "first": [locations]}`` of the rows ``data.invalid_rows=skip`` dropped."""
        self.splits: dict[str, list[dict[str, Any]]] = self.read_splits()
        self.task_info: dict[str, Any] = {}
        if set(self.splits) - {"predict"}:  # inputs to predict only: the trained model's task_info is adopted next
            self.adopt_task_info(self.build_task_info())

    # -- hooks a task overrides ------------------------------------------------------------
    def required_columns(self, labelled: bool) -> dict[str, str]:
        """Config key -> column that every record must have; ``labelled`` is False for inputs to predict."""
        return {}

    def read_splits(self) -> dict[str, list[dict[str, Any]]]:
        """Every split's records: by default one file (or hub split) per split, then held-out
        validation, subsampling and the test fallback. Override when a split is not one file."""
        return self._arrange(self._read_sources())

    def read_file(self, path: str, key: str, labelled: bool) -> list[dict[str, Any]]:
        """Records of ``path`` (named by ``data.<key>``); the default reads any table format."""
        rows = read_records(path, key, self.config.format, self.required_columns(labelled))
        return self.convert_rows(rows, f"{path} (data.{key})")

    def convert_rows(self, rows: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
        """Records from the rows of a table file or hub split (``where`` names it for errors); default: the rows."""
        return rows

    def record_problem(self, record: dict[str, Any], labelled: bool) -> Optional[str]:
        """What is wrong with one record, or None; the base then stops or skips it (``data.invalid_rows``).

        The default refuses a missing, empty or whitespace-only value, a NaN, and an empty list
        in every column of :meth:`required_columns`; a task adds its own checks (a label that is
        a float, a score that is not a number) and calls ``super()``.
        """
        for key, column in self.required_columns(labelled).items():
            if is_blank(record.get(column)):
                return f"empty {column} (data.{key})"
        return None

    def demo_records(self, split: str, size: int, seed: int) -> list[dict[str, Any]]:
        """``size`` generated records for ``split`` (``data.source=demo``)."""
        raise DataError(f"{type(self).__name__} has no generated demo data; use data.source=files with data.train_file=<file>")

    def build_task_info(self) -> dict[str, Any]:
        """What the data defines for heads and metrics (labels...), from ``self.splits``."""
        return {}

    def check_records(self, split: str, records: list[dict[str, Any]]) -> None:
        """Raise :class:`DataError` naming the row when a record of ``split`` does not fit ``task_info``."""

    def encode(self, record: dict[str, Any], split: str) -> dict[str, Any] | list[dict[str, Any]]:
        """The features (token ids, labels) of one record, or a list of them (windows, references)."""
        raise NotImplementedError(f"{type(self).__name__} must implement encode(record, split) or encode_batch(records, split)")

    def encode_batch(self, records: list[dict[str, Any]], split: str) -> list[dict[str, Any] | list[dict[str, Any]]]:
        """:meth:`encode` of many records; override to call the tokenizer once on a whole list."""
        return [self.encode(record, split) for record in records]

    def encode_split(self, split: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every feature of ``split``, each with ``index`` (its record's position); run once per split."""
        features = []
        with Progress(f"tokenizing the {split} split", total=len(records), unit="examples") as progress:
            for start in range(0, len(records), 1000):
                for offset, encoded in enumerate(self.encode_batch(records[start : start + 1000], split)):
                    for feature in encoded if isinstance(encoded, list) else [encoded]:
                        feature["index"] = start + offset
                        features.append(feature)
                progress.update(min(1000, len(records) - start))
        return features

    def describe(self, record: dict[str, Any], split: str) -> dict[str, Any]:
        """What predictions.jsonl shows of an example next to its prediction (default: the record)."""
        return dict(record)

    def collator(self, split: str) -> Any:
        """Turns a list of features of ``split`` into a batch (default: dynamic padding, :class:`PadCollator`)."""
        return PadCollator(pad_id=self.tokenizer.pad_token_id, pad_to_multiple_of=self.config.pad_to_multiple_of)

    def feature_length(self, feature: dict[str, Any]) -> int:
        """Length used to group batches (default: the number of input ids)."""
        return len(feature["input_ids"])

    # -- the protocol the core uses --------------------------------------------------------
    def adopt_task_info(self, task_info: dict[str, Any]) -> None:
        """Use ``task_info`` (from the data, or from a trained model) and check every split against it."""
        self.task_info = dict(task_info)
        for split, records in self.splits.items():
            self.check_records(split, records)

    def training_texts(self) -> Iterator[str]:
        """Every string (and list of strings, joined) of every training record."""
        for record in self.split_records("train"):
            for value in record.values():
                if isinstance(value, str):
                    yield value
                elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                    yield " ".join(value)

    @property
    def test_is_validation(self) -> bool:
        """Whether the test split is the validation split itself (no test data was given or held out)."""
        return "test" in self.splits and self.splits.get("test") is self.splits.get("validation")

    def set_tokenizer(self, tokenizer: Any) -> None:
        """Called once, before ``setup``."""
        self.tokenizer = tokenizer

    def example_record(self, split: str, index: int) -> dict[str, Any]:
        """:meth:`describe` of example ``index`` of ``split``."""
        return self.describe(self.splits[split][index], split)

    def split_records(self, split: str) -> list[dict[str, Any]]:
        """The records of ``split``; a missing split is an error naming the key that sets it."""
        if split not in self.splits:
            key = SPLIT_KEYS[split]
            raise DataError(f"there is no {split} data; give it with data.{key}=<file> (and data.source=files)")
        return self.splits[split]

    # -- Lightning -------------------------------------------------------------------------
    def setup(self, stage: Optional[str] = None) -> None:
        """Encode the splits ``stage`` reads (fit: train and validation; validate; test; predict: the
        inputs to predict, else test; None: every split), each once: rank 0 of a distributed run
        encodes (or reads the on-disk cache of an earlier run, ``data.cache_features``), the other
        ranks read its result. ``mode=evaluate`` on the test split never tokenizes the training data."""
        for split in self._stage_splits(stage):
            self.split_features(split)

    def split_features(self, split: str) -> list[dict[str, Any]]:
        """The features of ``split``, encoded on first use (the test split that is the validation
        split is encoded once; evaluation splits encode alike, whatever their name)."""
        records = self.split_records(split)
        if split not in self.features:
            twin = {"test": "validation", "validation": "test"}.get(split)
            if twin in self.features and self.splits.get(twin) is records:
                self.features[split] = self.features[twin]
            else:
                self.features[split] = compute_once(f"features-{split}", lambda: self._encode_cached(split, records), self.trainer)
        return self.features[split]

    def _stage_splits(self, stage: Optional[str]) -> list[str]:
        if stage is None:
            return list(self.splits)
        wanted = {"fit": ["train", "validation"], "validate": ["validation"], "test": ["test"],
                  "predict": ["predict" if "predict" in self.splits else "test"]}.get(stage, list(self.splits))
        return [split for split in wanted if split in self.splits]

    def _encode_cached(self, split: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from glmtasks.feature_cache import cache_key, cached, default_cache_dir

        if not self.config.cache_features:
            return self.encode_split(split, records)
        directory = Path(self.config.cache_dir) if self.config.cache_dir else default_cache_dir()
        return cached(directory, cache_key(self, split, records), lambda: self.encode_split(split, records))

    def train_dataloader(self):
        """Length-grouped, shuffled, rank-sharded, resumable training batches."""
        return train_loader(self.split_features("train"), self._lengths("train"), self.config, self.collator("train"), self.trainer)

    def val_dataloader(self):
        """Validation batches, sorted by length, each example once across ranks."""
        return self._eval_loader("validation")

    def test_dataloader(self):
        """Test batches (the validation split when there is no test data)."""
        return self._eval_loader("test")

    def predict_dataloader(self):
        """Batches of ``data.predict_file``, else of the test split."""
        return self._eval_loader("predict" if "predict" in self.splits else "test")

    def _eval_loader(self, split: str):
        return eval_loader(self.split_features(split), self._lengths(split), self.config, self.collator(split), self.trainer)

    def _lengths(self, split: str) -> list[int]:
        return [self.feature_length(feature) for feature in self.split_features(split)]

    # -- reading ---------------------------------------------------------------------------
    def _read_sources(self) -> dict[str, list[dict[str, Any]]]:
        c = self.config
        if c.source == "demo":
            stray = [key for key in ("train_file", "validation_file", "test_file") if getattr(c, key)]
            if stray:
                raise DataError(
                    f"data.{stray[0]} is set but data.source=demo ignores files; add data.source=files "
                    "(or pick a data config that reads files)"
                )
            sizes = {"train": c.demo_train_size, "validation": c.demo_eval_size, "test": c.demo_eval_size}
            splits = {split: self.demo_records(split, size, c.seed * 1000 + i) for i, (split, size) in enumerate(sizes.items())}
        elif c.source == "files":
            splits = {
                split: self._valid(split, self._read_reporting(getattr(c, key), key, labelled=True), getattr(c, key), True)
                for split, key in SPLIT_KEYS.items()
                if split != "predict" and getattr(c, key)
            }
            if not splits and not c.predict_file:
                raise DataError("no data files are set; give them with data.train_file=<file> data.validation_file=<file>")
        elif c.source == "hub":
            splits = {split: self._valid(split, records, None, True) for split, records in self._read_hub().items()}
        else:
            raise DataError(f"unknown data.source '{c.source}'; use files, demo or hub")
        if c.predict_file:
            splits["predict"] = self._valid("predict", self._read_reporting(c.predict_file, "predict_file", labelled=False), c.predict_file, False)
        return splits

    def _read_reporting(self, path: str, key: str, labelled: bool) -> list[dict[str, Any]]:
        """:meth:`read_file`, saying so before a large file and with the count and rate after a slow read."""
        size = Path(path).stat().st_size if Path(path).is_file() else 0
        if size >= LARGE_FILE_BYTES:
            log.info("reading %s (%.0f MB, data.%s)", path, size / 1e6, key)
        started = time.perf_counter()
        records = self.read_file(path, key, labelled)
        seconds = time.perf_counter() - started
        if seconds >= QUIET_SECONDS:
            log.info("read %s records of %s in %s (%s)", f"{len(records):,}", path, format_duration(seconds), rate_text(len(records), seconds, "records"))
        return records

    def _valid(self, split: str, records: list[dict[str, Any]], path: Optional[str], labelled: bool) -> list[dict[str, Any]]:
        """``records`` without invalid ones (``data.invalid_rows=skip``), or a one-line error naming the first."""
        return self.drop_invalid(split, records, lambda record: self.record_problem(record, labelled),
                                 lambda row, record: self._location(split, row, path))

    def drop_invalid(self, split: str, records: list[dict[str, Any]], problem: Callable[[dict[str, Any]], Optional[str]],
                     where: Callable[[int, dict[str, Any]], str]) -> list[dict[str, Any]]:
        """``records`` without those ``problem`` finds fault with, as ``data.invalid_rows`` says: ``error`` stops
        at the first with ``"<where>: <problem>"`` on one line, ``skip`` drops them, logs and counts them in
        :attr:`skipped_rows`. The base calls it with :meth:`record_problem` as files are read; a task calls it
        for checks that need more than the row, such as a chat template known once the tokenizer is."""
        if self.config.invalid_rows not in ("error", "skip"):
            raise DataError(f"data.invalid_rows must be error or skip, got '{self.config.invalid_rows}'")
        kept, dropped = [], []
        for row, record in enumerate(records):
            found = problem(record)
            if found is None:
                kept.append(record)
                continue
            if self.config.invalid_rows == "error":
                raise DataError(f"{where(row, record)}: {found}; fix the row, or drop invalid rows with data.invalid_rows=skip")
            dropped.append(f"{where(row, record)}: {found}")
        if dropped:
            earlier = self.skipped_rows.get(split, {"count": 0, "first": []})
            self.skipped_rows[split] = {"count": earlier["count"] + len(dropped), "first": (earlier["first"] + dropped)[:5]}
            log.warning("skipped %d invalid rows of the %s split (data.invalid_rows=skip), first: %s", len(dropped), split, "; ".join(dropped[:3]))
            if not kept:
                raise DataError(f"every row of the {split} split is invalid (first: {dropped[0]}); fix the data")
        return kept

    def _location(self, split: str, row: int, path: Optional[str]) -> str:
        """Where record ``row`` of ``split`` comes from: a file line when the default reader read it."""
        if path is None:
            return f"record {row + 1} of the {split} split"
        if type(self).read_file is not TaskDataModule.read_file:
            return f"record {row + 1} of {path}"
        suffixes = [x for x in Path(path).suffixes if x != ".gz"]
        fmt = self.config.format or (suffixes[-1].lstrip(".") if suffixes else "")
        if fmt in ("csv", "tsv"):
            return f"row {row + 1} of {path} (line {row + 2})"
        if fmt in ("jsonl", "txt", "text"):
            return f"line {row + 1} of {path}"
        return f"record {row + 1} of {path}"

    def _read_hub(self) -> dict[str, list[dict[str, Any]]]:
        import datasets

        c = self.config
        if not c.hub_dataset:
            raise DataError("data.source=hub needs data.hub_dataset=<name on the hub>")
        names = {"train": c.train_split, "validation": c.validation_split, "test": c.test_split}
        splits = {}
        for split, name in names.items():
            if not name:
                continue
            try:
                dataset = datasets.load_dataset(c.hub_dataset, c.hub_config, split=name)
            except Exception as exc:  # noqa: BLE001 - network, missing dataset, missing split
                raise DataError(f"cannot load split '{name}' of hub dataset '{c.hub_dataset}': {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
            columns = self.required_columns(labelled=True)
            missing = {k: v for k, v in columns.items() if v not in dataset.column_names}
            if missing:
                key, column = next(iter(missing.items()))
                raise DataError(f"column '{column}' (data.{key}) not found in hub split '{name}'; its columns are {', '.join(dataset.column_names)}; set data.{key}=<column>")
            splits[split] = self.convert_rows(dataset.to_list(), f"hub split '{name}' of {c.hub_dataset}")
        return splits

    def _arrange(self, splits: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        """Held-out test and validation, subsampling and the test fallback, in that order."""
        c = self.config
        if "test" not in splits and "train" in splits and c.test_size:
            splits["train"], splits["test"] = _hold_out(splits["train"], c.test_size, c.seed + 1, "test_size")
        if "validation" not in splits and "train" in splits:
            if not c.validation_size:
                raise DataError("there is no validation data; give it with data.validation_file=<file>, or hold out training examples with data.validation_size=<N>")
            splits["train"], splits["validation"] = _hold_out(splits["train"], c.validation_size, c.seed, "validation_size")
        if c.max_train_samples and "train" in splits and c.max_train_samples < len(splits["train"]):
            chosen = random.Random(c.seed).sample(range(len(splits["train"])), c.max_train_samples)
            splits["train"] = [splits["train"][i] for i in sorted(chosen)]
        if c.max_eval_samples:
            for split in ("validation", "test"):
                if split in splits:
                    splits[split] = splits[split][: c.max_eval_samples]
        if "validation" in splits:
            splits.setdefault("test", splits["validation"])
        return splits


def _hold_out(train: list[dict[str, Any]], size: int, seed: int, key: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``size`` random records of ``train`` (``seed``) held out, both parts in file order: (kept, held out)."""
    if size >= len(train):
        raise DataError(f"data.{key}={size} leaves no training examples ({len(train)} in all); choose a smaller size")
    order = list(range(len(train)))
    random.Random(seed).shuffle(order)
    held = set(order[:size])
    return [row for i, row in enumerate(train) if i not in held], [train[i] for i in sorted(held)]


def is_blank(value: Any) -> bool:
    """Whether a cell holds no value: None, NaN, an empty or whitespace-only string, an empty list."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    return False


def as_number(value: Any) -> Optional[float]:
    """``value`` as a finite float when it is a number or the text of one (csv cells are text), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _is_integer_text(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.strip().lstrip("-").isdigit())


def label_names(values: Sequence[Any], given: Optional[Sequence[Any]] = None) -> list[str]:
    """Label names: ``given`` as strings, else the distinct ``values`` as they are spelled, sorted
    (as numbers when every label is an integer, so ``2`` comes before ``10``)."""
    if given:
        return [str(label) for label in given]
    distinct = {str(v) for v in values}
    if all(_is_integer_text(v) for v in distinct):
        return sorted(distinct, key=lambda v: (int(v), v))
    return sorted(distinct)


def label_id(value: Any, labels: Sequence[str], index: Mapping[str, int], integers_index: bool) -> int:
    """Id of label ``value`` in ``labels`` (``index`` maps names to ids), or -1 if it is not one.

    With ``integers_index`` (labels listed in the config), an integer value (or integer text, as
    csv cells are) that is not itself a label name is a position in ``labels``.
    """
    name = str(value)
    if name in index:
        return index[name]
    if integers_index and _is_integer_text(value):
        position = int(value)
        return position if 0 <= position < len(labels) else -1
    return -1
