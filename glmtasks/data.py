"""Data machinery shared by all tasks: reading files, length-grouped batching, dynamic padding.

The pieces :class:`glmtasks.datamodule.TaskDataModule` is built from, exported to plugins
through :mod:`glmtasks.api` for datamodules that need them directly: readers with one-line
errors (:func:`read_records`, :func:`read_table`), batch samplers and loaders that shard
across ranks and resume mid-epoch (:func:`train_loader`, :func:`eval_loader`), dynamic
padding (:class:`PadCollator`) and :func:`compute_once` (work done once per distributed run).

Batches are dicts of tensors (and of lists with one entry per example, for fields such as
words or reference texts that are not tensors) and always carry an ``"index"`` tensor: each
example's position in its split, so predictions can be restored to the input order.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from glmtasks.errors import DataError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".json": "json", ".jsonl": "json", ".parquet": "parquet", ".txt": "text"}


ARCHIVE_SUFFIX = ".zip"


def split_archive_path(path: str | Path) -> Optional[tuple[Path, str]]:
    """``(archive, member)`` when ``path`` names a member of a zip archive, else None.

    A path through a ``.zip`` file names one of its members, e.g.
    ``data/chnsenticorp.zip/train.tsv`` (member ``train.tsv``) or ``corpus.zip/csv/dev.csv``
    (member ``csv/dev.csv``). A path whose ``.zip`` part is not an existing file is not split.
    """
    parts = Path(path).parts
    for i, part in enumerate(parts[:-1]):
        if part.lower().endswith(ARCHIVE_SUFFIX):
            archive = Path(*parts[: i + 1])
            if archive.is_file():
                return archive, "/".join(parts[i + 1 :])
    return None


def local_data_file(path: str | Path, key: str) -> Path:
    """A file on disk holding the data of ``path``: the path itself, or a zip member extracted once.

    A member (``archive.zip/member``, see :func:`split_archive_path`) is extracted to
    ``$GLMTASKS_CACHE/archives/<digest of the archive's path, size and mtime>/`` (default
    ``~/.cache/glmtasks``) and reused by later runs while the archive is unchanged, so readers
    that need a real file (``datasets``) read it as any other file. A member that is not in the
    archive is a one-line :class:`DataError` listing the members; a plain path is returned as
    it is (its readers check it exists).
    """
    import hashlib
    import os
    import zipfile

    found = split_archive_path(path)
    if found is None:
        return Path(path)
    archive, member = found
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [name for name in zipped.namelist() if not name.endswith("/")]
            if member not in members:
                raise DataError(
                    f"{archive} (data.{key}) has no member '{member}'; its members are {', '.join(members) or 'none'}; "
                    f"set data.{key}={archive}/<member>"
                )
            stat = archive.stat()
            digest = hashlib.sha256(f"{archive.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()[:16]
            root = os.environ.get("GLMTASKS_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "glmtasks"
            target = Path(root) / "archives" / digest / member
            if target.is_file() and target.stat().st_size == zipped.getinfo(member).file_size:
                return target
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
            with zipped.open(member) as source, tmp.open("wb") as sink:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
            os.replace(tmp, target)  # atomic: concurrent runs never read a half-written member
            return target
    except (OSError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {archive} as a zip archive (data.{key}): {type(exc).__name__}: {exc}; give an intact zip file") from exc


def infer_format(path: Path, declared: Optional[str]) -> str:
    """``declared`` if given, else the format implied by the file suffix (``.gz`` ignored)."""
    if declared:
        return declared
    suffixes = [s for s in path.suffixes if s != ".gz"]
    suffix = suffixes[-1] if suffixes else ""
    if suffix not in FORMATS:
        raise DataError(f"cannot tell the format of {path} from its suffix; set data.format=csv|tsv|json|parquet|text")
    return FORMATS[suffix]


def root_cause(exc: BaseException) -> str:
    """The first line of the innermost cause of ``exc`` (``datasets`` wraps the parser's own message)."""
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    for error in reversed(seen):
        if str(error).strip():
            return f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
    return type(seen[-1]).__name__


GZIP_MAGIC = b"\x1f\x8b"


def read_text(path: str | Path, key: str, what: str = "") -> str:
    """The text of a plain (``.gz``: gzipped) UTF-8 file, newlines as ``\\n``; a one-line error otherwise.

    Refused with the fix named: a corrupt gzip file, a gzipped file without ``.gz``, a binary
    file (NUL bytes), bytes that are not UTF-8 (the line is named). A byte-order mark is dropped;
    ``\\r\\n`` and ``\\r`` line ends become ``\\n``. ``what`` says more about the file in messages.
    ``path`` may name a member of a zip archive (``archive.zip/member.txt``, :func:`local_data_file`).
    """
    import gzip
    import zlib

    where = f"{path} (data.{key}{what})"
    file = local_data_file(path, key)
    if not file.is_file():
        raise DataError(f"data file not found: {where}; fix the path with data.{key}=<file>")
    try:
        if file.suffix == ".gz":
            with gzip.open(file, "rb") as handle:
                data = handle.read()
        else:
            data = file.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read {where}: {type(exc).__name__}: {exc}; give an intact {'gzip ' if file.suffix == '.gz' else ''}file") from exc
    if file.suffix != ".gz" and data.startswith(GZIP_MAGIC):
        raise DataError(f"{where} is gzip-compressed; name it {Path(path).name}.gz (or decompress it)")
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise DataError(f"{where} is a binary file, not text (a NUL byte on line {line}); give a UTF-8 text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"line {line} of {where} is not UTF-8 (byte 0x{data[exc.start]:02x}); convert the file to UTF-8 "
            f"(e.g. iconv -f latin1 -t utf-8)"
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_table(path: str | Path, key: str, declared_format: Optional[str] = None):
    """Read a csv/tsv/json(l)/parquet/text file into a ``datasets.Dataset``.

    Args:
        path: the file, or a member of a zip archive (``archive.zip/train.tsv``, :func:`local_data_file`).
        key: the config key that named it (``train_file``...), used in error messages.
        declared_format: ``data.format``, or None to infer from the suffix.
    """
    import datasets

    shown = Path(path)
    file = local_data_file(path, key)
    if not file.is_file():
        raise DataError(f"data file not found: {shown} (data.{key}); fix the path with data.{key}=<file>")
    fmt = infer_format(shown, declared_format)
    builder, kwargs = fmt, {}
    if fmt in ("csv", "tsv"):
        builder = "csv"
        if fmt == "tsv":
            kwargs = {"sep": "\t", "quoting": 3}  # csv.QUOTE_NONE: quotes are text
        # Every cell as the text it is: no type guessing (a label 1 stays "1", not 1.0 because
        # another cell is empty), and an empty cell is "" rather than a NaN that becomes a class.
        kwargs.update(keep_default_na=False, encoding="utf-8-sig", features=_string_features(file, fmt, key, shown))
    try:
        dataset = datasets.load_dataset(builder, data_files=str(file), split="train", **kwargs)
    except Exception as exc:  # noqa: BLE001 - parser errors of every kind mean a malformed file
        if "corresponds to no data" in str(exc):
            raise DataError(f"data file {shown} (data.{key}) has no rows; give a file with examples") from exc
        raise DataError(f"cannot read {shown} as {fmt} (data.{key}): {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    if len(dataset) == 0:
        raise DataError(f"data file {shown} (data.{key}) has no rows; give a file with examples")
    return dataset


def _string_features(file: Path, fmt: str, key: str, shown: Optional[Path] = None):
    """``datasets.Features`` declaring every column of a csv/tsv file's header row a string (``shown``: its name in messages)."""
    import csv
    import gzip

    import datasets

    shown = shown or file
    opener = gzip.open if file.suffix == ".gz" else open
    try:
        with opener(file, "rt", encoding="utf-8-sig", newline="") as handle:  # -sig: a byte-order mark is not part of a name
            if fmt == "tsv":
                header = handle.readline().rstrip("\r\n").split("\t")
            else:
                header = next(csv.reader(handle), [])
    except (UnicodeDecodeError, OSError, csv.Error) as exc:
        raise DataError(f"cannot read {shown} as {fmt} (data.{key}): {type(exc).__name__}: {exc}; give a UTF-8 text file") from exc
    if not any(name.strip() for name in header):
        raise DataError(f"data file {shown} (data.{key}) has no header row; its first line must name the columns")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates or "" in header:
        problem = f"repeats the column name(s) {', '.join(duplicates)}" if duplicates else "has a column without a name"
        raise DataError(f"the header row of {shown} (data.{key}) {problem}; give every column its own name")
    return datasets.Features({name: datasets.Value("string") for name in header})


def read_records(path: str | Path, key: str, declared_format: Optional[str] = None, columns: Mapping[str, str] = {}) -> list[dict[str, Any]]:
    """The rows of a csv/tsv/json(l)/parquet/text file as dicts, after checking ``columns`` exist.

    Args:
        path: the file.
        key: the config key that named it (``train_file``...), used in error messages.
        declared_format: ``data.format``, or None to infer from the suffix.
        columns: config key -> column name that the file must have.
    """
    dataset = read_table(path, key, declared_format)
    require_columns(dataset, columns, f"{path} (data.{key})")
    return dataset.to_list()


def encode_texts(tokenizer: Any, texts: Sequence[str], pairs: Optional[Sequence[str]] = None, max_length: int = 128) -> list[dict[str, list[int]]]:
    """One feature dict per text (or text pair): the tokenizer's outputs, truncated to ``max_length`` tokens."""
    encoded = tokenizer(list(texts), list(pairs) if pairs is not None else None, truncation=True, max_length=max_length)
    return [{key: encoded[key][i] for key in encoded} for i in range(len(texts))]


def require_columns(dataset, columns: Mapping[str, str], where: str) -> None:
    """Fail with one line if a column named by a config key is missing from ``dataset``."""
    for key, column in columns.items():
        if column not in dataset.column_names:
            raise DataError(
                f"column '{column}' (data.{key}) not found in {where}; its columns are "
                f"{', '.join(dataset.column_names)}; set data.{key}=<column>"
            )


def shard_bounds(size: int, rank: int, world_size: int) -> tuple[int, int]:
    """Start and end of rank's contiguous shard of ``size`` items: each item exactly once.

    Shards differ in size by at most one item, so every rank has work whenever
    ``size >= world_size`` (a rank without evaluation batches would skip Lightning's loop and
    its metric synchronization, leaving the other ranks waiting).
    """
    return size * rank // world_size, size * (rank + 1) // world_size


class LengthGroupedBatchSampler(Sampler[list[int]]):
    """Shuffled batches of examples of similar length, sharded across ranks.

    Indices are shuffled, cut into chunks of ``batch_size * group_factor``, each chunk sorted
    by length and cut into batches; then the batch order is shuffled. Under distributed
    training each rank takes every ``world_size``-th batch after the total is rounded down
    to a multiple of ``world_size``, so all ranks run the same number of steps.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        seed: int = 0,
        group_by_length: bool = True,
        group_factor: int = 50,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.skip_next = 0
        # Lightning calls ``set_epoch`` on ``batch_sampler.sampler``: point it at this object.
        self.sampler = self
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.group_by_length = group_by_length
        self.group_factor = group_factor
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle differently each epoch (Lightning calls this)."""
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        rng = random.Random(self.seed + self.epoch)
        order = list(range(len(self.lengths)))
        rng.shuffle(order)
        if self.group_by_length:
            chunk = self.batch_size * self.group_factor
            order = [
                i
                for start in range(0, len(order), chunk)
                for i in sorted(order[start : start + chunk], key=self.lengths.__getitem__, reverse=True)
            ]
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        rng.shuffle(batches)
        usable = len(batches) - len(batches) % self.world_size if self.world_size > 1 else len(batches)
        return batches[self.rank : usable : self.world_size]

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._batches()[self.skip_next :]
        self.skip_next = 0
        return iter(batches)

    def __len__(self) -> int:
        batches = math.ceil(len(self.lengths) / self.batch_size)
        return batches // self.world_size if self.world_size > 1 else batches


class SortedEvalBatchSampler(Sampler[list[int]]):
    """Evaluation batches: this rank's contiguous shard, sorted by length (no duplicates)."""

    def __init__(self, lengths: Sequence[int], batch_size: int, rank: int = 0, world_size: int = 1):
        start, end = shard_bounds(len(lengths), rank, world_size)
        order = sorted(range(start, end), key=lambda i: lengths[i], reverse=True)
        self.batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class PadCollator:
    """Pads each batch to its longest sequence.

    Every field of lists of numbers is padded (``input_ids`` with the pad id, ``labels`` with
    ``label_pad_id``, everything else with 0); number fields become 1-D tensors; any other
    field (words, reference texts), and every field named in ``keep_lists`` (lists of numbers
    that are not sequences to pad, such as word positions), stays a list with one entry per
    example. Padded fields are
    ``int64``, ``float32`` if any value is a float, ``bool`` if all are (:func:`pad_rows`).
    """

    def __init__(self, pad_id: int, label_pad_id: int = -100, padding_side: str = "right", keep_lists: Sequence[str] = (),
                 pad_to_multiple_of: Optional[int] = None):
        self.pad_values = {"input_ids": pad_id, "labels": label_pad_id}
        self.padding_side = padding_side
        self.keep_lists = set(keep_lists)
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch: dict[str, Any] = {}
        for key in features[0]:
            values = [f[key] for f in features]
            kind = "other" if key in self.keep_lists else _value_kind(values)
            if kind == "rows":
                batch[key] = pad_rows(values, self.pad_values.get(key, 0), self.padding_side, self.pad_to_multiple_of)  # (B, T)
            elif kind == "numbers":
                batch[key] = torch.tensor(values)  # (B,)
            else:
                batch[key] = values  # one entry per example (words, reference texts)
        return batch


def _value_kind(values: list[Any]) -> str:
    """``rows`` (lists of numbers), ``numbers`` (scalars) or ``other`` (kept as a per-example list)."""
    first = values[0]
    if isinstance(first, (list, tuple)):
        element = next((row[0] for row in values if len(row)), 0)
        return "rows" if isinstance(element, (int, float, bool)) else "other"
    return "numbers" if isinstance(first, (int, float, bool)) else "other"


def pad_rows(rows: Sequence[Sequence[Any]], pad: Any, side: str = "right", multiple_of: Optional[int] = None) -> torch.Tensor:
    """A (len(rows), longest row) tensor of ``rows`` padded with ``pad`` on ``side``; with
    ``multiple_of``, the width is rounded up to a multiple of it.

    The dtype follows all the values: ``bool`` if all are booleans, ``float32`` if any is a
    float, else ``int64`` (also when every row is empty); anything else (strings, nested lists)
    is refused. The values are converted in one numpy call and scattered into the padded
    buffer, about 5x faster than ``torch.tensor`` on padded nested lists, which walks every
    element as a Python sequence.
    """
    lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))  # (B,)
    values = np.array([value for row in rows for value in row])  # (sum of lengths,)
    kind = values.dtype.kind if values.size else "i"  # no values at all: ids, not np.array([])'s float64
    if values.ndim != 1 or kind not in "biuf":
        raise TypeError(f"cannot pad rows of {values.dtype} values with shape {values.shape[1:]}: rows must hold numbers")
    dtype = {"b": np.bool_, "f": np.float32}.get(kind, np.int64)
    width = int(lengths.max(initial=0))
    if multiple_of and width % multiple_of:
        width += multiple_of - width % multiple_of
    positions = np.arange(width)  # (T,)
    filled = positions < lengths[:, None] if side == "right" else positions >= (width - lengths)[:, None]  # (B, T)
    out = np.full((len(rows), width), pad, dtype=dtype)
    out[filled] = values  # row-major order of ``filled`` is the order of ``values``
    return torch.from_numpy(out)


def distributed_position(trainer: Any) -> tuple[int, int]:
    """(rank, world_size) of the process, from the attached Lightning trainer if any."""
    if trainer is None:
        return 0, 1
    return trainer.global_rank, trainer.world_size


class ResumableDataLoader(DataLoader):
    """A DataLoader that Lightning checkpoints, so a run resumed mid-epoch continues where it stopped.

    Lightning stores ``state_dict()`` in each checkpoint and, when resuming, calls
    ``load_state_dict`` after restoring its loops: the batch sampler then skips the batches
    of the current epoch that the restored loop has already processed (their order depends only
    on seed and epoch, so the remaining batches are exactly those an uninterrupted run sees).
    """

    def __init__(self, *args: Any, trainer: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._trainer = trainer

    def state_dict(self) -> dict[str, int]:
        return {"epoch": getattr(self.batch_sampler, "epoch", 0)}

    def load_state_dict(self, state: dict[str, int]) -> None:
        if self._trainer is not None:
            # ``processed``, not ``completed``: a checkpoint written in on_train_batch_end has
            # processed (and stepped on) the batch before Lightning counts it completed.
            done = self._trainer.fit_loop.epoch_loop.batch_progress.current.processed
            self.batch_sampler.set_epoch(state.get("epoch", 0))
            self.batch_sampler.skip_next = int(done)


def train_loader(dataset, lengths: Sequence[int], config: Any, collate, trainer: Any = None) -> DataLoader:
    """Training DataLoader with length-grouped, shuffled, rank-sharded, resumable batches.

    ``config`` is the data config (``batch_size``, ``seed``, ``group_by_length``, ``num_workers``).
    """
    rank, world_size = distributed_position(trainer)
    sampler = LengthGroupedBatchSampler(
        lengths, config.batch_size, seed=config.seed, group_by_length=config.group_by_length, rank=rank, world_size=world_size
    )
    return ResumableDataLoader(dataset, batch_sampler=sampler, collate_fn=collate, num_workers=config.num_workers, trainer=trainer)


def eval_loader(dataset, lengths: Sequence[int], config: Any, collate, trainer: Any = None) -> DataLoader:
    """Evaluation DataLoader: each example exactly once across ranks, batches sorted by length."""
    rank, world_size = distributed_position(trainer)
    sampler = SortedEvalBatchSampler(lengths, config.eval_batch_size, rank=rank, world_size=world_size)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate, num_workers=config.num_workers)


def compute_once(name: str, compute: Callable[[], Any], trainer: Any = None) -> Any:
    """``compute()`` once per run however many processes train.

    For features a datamodule builds as Python objects (lists of dicts of token ids). With
    one process this just calls ``compute``. Under distributed training global rank 0
    computes first and pickles the value to ``<run dir>/cache/<name>.pkl`` (written to a
    temporary file and renamed); after a barrier the other ranks load that file. The file
    is written and read by the processes of one run only.
    """
    import logging
    import os
    import pickle

    from glmtasks.distributed import rank_zero_first

    log = logging.getLogger(__name__)
    if trainer is None or trainer.world_size <= 1:
        return compute()
    cache = Path(trainer.default_root_dir) / "cache" / f"{name}.pkl"
    with rank_zero_first(trainer) as first:
        if first and not cache.is_file():
            value = compute()
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(cache.name + ".tmp")
            with tmp.open("wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache)
            log.info("rank 0 computed %s into %s", name, cache)
        else:
            with cache.open("rb") as handle:
                value = pickle.load(handle)  # noqa: S301 - written by rank 0 of this run
            if not first:
                log.info("rank %d read %s from %s (computed once by rank 0)", trainer.global_rank, name, cache)
    return value
