"""Pre-training data: plain text and jsonl documents packed into fixed-length blocks, masked per batch.

Reading: a plain UTF-8 text file (``.gz``: gzipped) is cut into documents at blank lines
(``data.document_split``); a jsonl/json/csv/parquet file gives one document per row
(``data.text_column``; rows without text are skipped and logged). An empty, binary or
non-UTF-8 file is a one-line error naming the file, the line and the fix. A record of
the base datamodule is one document, ``{"text": ..., "source": <file>}``.
Packing (:func:`pack_blocks`, in :meth:`PretrainDataModule.encode_split`): the documents of
one file are tokenized without special tokens, each followed by ``eos``, concatenated, and cut
into blocks of ``data.block_size`` tokens (the tail shorter than a block is dropped, unless it
is the file's only block); a feature is one block.
Validation: the ``validation_files``, or else the last ``validation_fraction`` of every
training file's blocks (contiguous text, so no sentence is in both splits).
The test split is the validation split (or ``data.test_file``).

Examples are built from blocks by the collator (:class:`PretrainCollator`) with the
functions of :mod:`glmtasks_pretrain.masking`: training masks are drawn again each time a
block is seen (dynamic masking), evaluation masks are fixed per block, so validation
perplexity is comparable from one evaluation to the next.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from glmtasks.api import ConfigError, DataError, PadCollator, Progress, TaskDataModule, read_table, read_text, require_columns
from glmtasks_pretrain.config import PretrainDataConfig
from glmtasks_pretrain.masking import blank_infilling_sample, causal_lm_sample

log = logging.getLogger(__name__)

OBJECTIVES = ("blank_infilling", "causal_lm")
TABLE_SUFFIXES = {".json", ".jsonl", ".csv", ".tsv", ".parquet"}


# ---------------------------------------------------------------------------------------
# Reading and packing (pure functions, unit-tested).


def split_documents(text: str, how: str) -> list[str]:
    """Documents of a plain text: paragraphs (``blank_line``), lines (``line``) or the whole text (``file``)."""
    if how == "file":
        parts = [text]
    elif how == "line":
        parts = text.splitlines()
    elif how == "blank_line":
        parts = re.split(r"\n(?:[ \t]*\n)+", text)
    else:
        raise ConfigError(f"unknown data.document_split '{how}'; use blank_line, line or file")
    return [part.strip("\n") for part in parts if part.strip()]


def read_documents(path: str, key: str, config: PretrainDataConfig) -> list[str]:
    """The documents of one file: a plain text file split by ``document_split``, or a table's text column.

    A plain text file must be UTF-8 (``.gz``: gzipped); a binary, non-UTF-8 or corrupt gzip
    file is a one-line error naming the line or the fix. Table rows with an empty or missing
    text are skipped and logged; a text that is not a string (a list, a mapping) is an error
    naming the row.
    """
    file = Path(path)
    fix = f"data.{key}={'[<file>, ...]' if key.endswith('files') else '<file>'}"
    if not file.is_file():
        raise DataError(f"data file not found: {file} (data.{key}); fix the path with {fix}")
    suffixes = [s for s in file.suffixes if s != ".gz"]
    fmt = config.format or ("table" if suffixes and suffixes[-1] in TABLE_SUFFIXES else "text")
    if fmt == "text":
        documents = split_documents(read_text(file, key), config.document_split)
        blank = "it is empty or holds only blank lines"
    else:
        if file.stat().st_size == 0:
            raise DataError(f"data file {file} (data.{key}) holds no text (it is empty); give it text or remove it from data.{key}")
        table = read_table(file, key, None if fmt == "table" else fmt)
        require_columns(table, {"text_column": config.text_column}, f"{file} (data.{key})")
        documents, skipped = [], []
        for row, value in enumerate(table[config.text_column], start=1):
            if value is None or (isinstance(value, float) and value != value) or (isinstance(value, str) and not value.strip()):
                skipped.append(row)
            elif not isinstance(value, str):
                shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:60] + "..."
                raise DataError(
                    f"row {row} of {file} (data.{key}): {config.text_column} (data.text_column) is a {type(value).__name__} {shown}, "
                    "not text; give one string per row"
                )
            else:
                documents.append(value)
        if skipped and documents:
            shown = ", ".join(map(str, skipped[:5])) + (", ..." if len(skipped) > 5 else "")
            log.warning("skipped %d rows of %s (data.%s) with an empty or missing %s: rows %s", len(skipped), file, key, config.text_column, shown)
        blank = f"every {config.text_column} (data.text_column) is empty or missing"
    if not documents:
        raise DataError(f"data file {file} (data.{key}) holds no text ({blank}); give it text or remove it from data.{key}")
    return documents


def pack_blocks(token_lists: Sequence[Sequence[int]], block_size: int, eos_id: int) -> list[list[int]]:
    """Concatenate documents, each followed by ``eos_id``, and cut the stream into ``block_size`` blocks.

    The tail shorter than ``block_size`` is dropped, unless there is no full block (then the
    only, shorter block is kept).
    """
    stream: list[int] = []
    for tokens in token_lists:
        stream.extend(tokens)
        stream.append(eos_id)
    blocks = [stream[i : i + block_size] for i in range(0, len(stream) - block_size + 1, block_size)]
    if not blocks and stream:
        blocks = [stream]
    return blocks


def generate_documents(count: int, seed: int = 0) -> list[str]:
    """Generated paragraphs of simple English about a small world, for the offline default run.

    Agreement, counting and recurring entities give a model something to learn from a few
    thousand sentences: the text is our own templates, no copied corpus.
    """
    rng = random.Random(seed)
    names = ["anna", "ben", "carla", "david", "elena", "farid", "grace", "hugo", "iris", "jonas"]
    animals = ["cat", "dog", "horse", "fox", "owl", "goat", "rabbit", "duck"]
    colours = ["red", "blue", "green", "brown", "white", "black", "grey", "yellow"]
    places = ["the farm", "the river", "the market", "the forest", "the old mill", "the school", "the harbour"]
    verbs = [("feeds", "fed"), ("finds", "found"), ("paints", "painted"), ("follows", "followed"), ("watches", "watched")]
    numbers = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    documents = []
    for _ in range(count):
        name, other = rng.sample(names, 2)
        animal, colour, place = rng.choice(animals), rng.choice(colours), rng.choice(places)
        sentences = [f"{name} lives near {place} with a {colour} {animal}."]
        for _ in range(rng.randint(3, 7)):
            kind = rng.random()
            present, past = rng.choice(verbs)
            if kind < 0.3:
                sentences.append(f"every morning {name} {present} the {colour} {animal}.")
            elif kind < 0.55:
                start = rng.randint(0, 6)
                sentences.append(f"{other} counts {', '.join(numbers[start : start + 4])}.")
            elif kind < 0.8:
                sentences.append(f"yesterday {other} {past} the {animal} at {place}.")
            else:
                n = rng.randint(2, 9)
                sentences.append(f"there are {numbers[n - 1]} {animal}s at {place}, and {name} has {numbers[0]}.")
        sentences.append(f"in the evening the {animal} sleeps and {name} goes home.")
        documents.append(" ".join(sentences))
    return documents


# ---------------------------------------------------------------------------------------
# Batching.


class PretrainCollator:
    """Turns blocks into padded examples of the objective (see :mod:`glmtasks_pretrain.masking`).

    The masking generator of an example is seeded with ``(seed, block index, draw)``:
    ``dynamic`` (training) counts the draws of each block, so a block is masked anew each
    time it is seen; otherwise (evaluation) draw is always 0, a fixed mask per block.
    Under ``num_workers > 0`` each worker counts its own draws.
    """

    def __init__(self, config: PretrainDataConfig, pad_id: int, special: dict[str, int], dynamic: bool):
        self.config = config
        self.special = special
        self.dynamic = dynamic
        self.draws: dict[int, int] = defaultdict(int)
        self.pad = PadCollator(pad_id=pad_id, label_pad_id=-100, padding_side="right", pad_to_multiple_of=config.pad_to_multiple_of)

    def example(self, block: Sequence[int], index: int) -> dict[str, Any]:
        """One unpadded example of ``block`` (a dict of lists and the scalar ``prefix_length``)."""
        c = self.config
        if c.objective == "causal_lm":
            sample = causal_lm_sample(block)
            return {"input_ids": sample.input_ids, "attention_mask": [1] * len(block), "labels": sample.labels, "index": index}
        draw = self.draws[index] if self.dynamic else 0
        if self.dynamic:
            self.draws[index] += 1
        rng = np.random.default_rng([c.seed, index, draw])
        sample = blank_infilling_sample(
            block, rng, mask_ratio=c.mask_ratio, poisson_lambda=c.poisson_lambda, max_span_length=c.max_span_length, **self.special
        )
        return {
            "input_ids": sample.input_ids,
            "attention_mask": [1] * len(sample.input_ids),
            "position_ids": sample.position_ids,
            "block_position_ids": sample.block_position_ids,
            "labels": sample.labels,
            "prefix_length": sample.prefix_length,
            "index": index,
        }

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        return self.pad([self.example(f["input_ids"], f["index"]) for f in features])


# ---------------------------------------------------------------------------------------
# The datamodule.


class PretrainDataModule(TaskDataModule):
    """Documents read when constructed (data errors surface before a model is built), packed into
    blocks once per split (``encode_split``), and masked batch by batch by :class:`PretrainCollator`.

    Features are ``{"input_ids": <block>, "source": <file name>, "index": <block number>}``;
    predictions and :meth:`example_record` describe blocks, not documents.
    """

    config: PretrainDataConfig

    # -- reading ---------------------------------------------------------------------------
    def read_splits(self) -> dict[str, list[dict[str, Any]]]:
        """Every split's documents (replaces the base's reading: a split is a list of files, and
        the held-out validation is the tail of each file's *blocks*, known only after packing).

        Without validation files the validation (and test) split is the training split itself
        (the same list); :meth:`encode_split` keeps the head of each file's blocks for training
        and the tail for validation.
        """
        c = self.config
        self._check_options()
        self._packed: dict[int, list[tuple[str, list[list[int]]]]] = {}
        if c.source == "demo":
            splits = {"train": [{"text": d, "source": "demo"} for d in generate_documents(c.demo_documents, seed=c.seed)]}
        elif c.source == "files":
            files = {
                "train": [("train_file", c.train_file)] + [("train_files", path) for path in c.train_files or []],
                "validation": [("validation_file", c.validation_file)] + [("validation_files", path) for path in c.validation_files or []],
                "test": [("test_file", c.test_file)],
            }
            splits = {
                split: [record for key, path in paths if path for record in self.read_file(path, key, labelled=True)]
                for split, paths in files.items()
                if any(path for _, path in paths)
            }
            if "train" not in splits and not c.predict_file:
                raise DataError("data.train_files is not set; give your text with data.train_files=[<file>, ...]")
        else:
            raise DataError(f"unknown data.source '{c.source}'; use files or demo")
        if "train" in splits and "validation" not in splits:
            if not 0 < c.validation_fraction < 1:
                raise ConfigError("data.validation_fraction must be in (0, 1) when there are no data.validation_files")
            splits["validation"] = splits["train"]
        if "validation" in splits:
            splits.setdefault("test", splits["validation"])
        if c.predict_file:
            splits["predict"] = self.read_file(c.predict_file, "predict_file", labelled=False)
        return splits

    def _check_options(self) -> None:
        c = self.config
        if c.objective not in OBJECTIVES:
            raise ConfigError(f"unknown data.objective '{c.objective}'; use {' or '.join(OBJECTIVES)}")
        if c.block_size < 2:
            raise ConfigError(f"data.block_size must be at least 2, got {c.block_size}")
        if not 0 < c.mask_ratio < 1 or c.poisson_lambda <= 0 or c.max_span_length < 1:
            raise ConfigError("data.mask_ratio must be in (0, 1), data.poisson_lambda > 0 and data.max_span_length >= 1")
        if c.validation_size:
            raise ConfigError("task=pretrain holds out the last data.validation_fraction of each file's blocks; unset data.validation_size")

    def read_file(self, path: str, key: str, labelled: bool) -> list[dict[str, Any]]:
        """The documents of one file as records ``{"text", "source"}``."""
        return [{"text": document, "source": str(path)} for document in read_documents(path, key, self.config)]

    def build_task_info(self) -> dict[str, Any]:
        c = self.config
        return {"objective": c.objective, "max_span_length": c.max_span_length, "block_size": c.block_size}

    def training_texts(self) -> Iterator[str]:
        """Raw training documents, for training a from-scratch tokenizer."""
        for record in self.split_records("train"):
            yield record["text"]

    def set_tokenizer(self, tokenizer: Any) -> None:
        if tokenizer.eos_token_id is None:
            raise ConfigError("task=pretrain separates documents with the tokenizer's eos token, and this tokenizer has none")
        super().set_tokenizer(tokenizer)

    # -- packing ---------------------------------------------------------------------------
    def encode_split(self, split: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The blocks of ``split``: each file packed, its head or tail kept when validation is held out, then subsampled."""
        c = self.config
        held_out = "train" in self.splits and records is self.splits["train"] and self.splits.get("validation") is records
        features = []
        for source, blocks in self._pack(records):
            if held_out:
                if len(blocks) < 2:
                    raise DataError(
                        f"{Path(source).name} gives only {len(blocks)} block of {c.block_size} tokens: too little to hold out "
                        "validation; give data.validation_files or more text"
                    )
                cut = len(blocks) - max(1, int(round(len(blocks) * c.validation_fraction)))
                blocks = blocks[:cut] if split == "train" else blocks[cut:]
            features += [{"input_ids": block, "source": Path(source).name} for block in blocks]
        if split == "train" and c.max_train_samples and c.max_train_samples < len(features):
            features = [features[i] for i in sorted(random.Random(c.seed).sample(range(len(features)), c.max_train_samples))]
        if split in ("validation", "test") and c.max_eval_samples:
            features = features[: c.max_eval_samples]
        for index, feature in enumerate(features):
            feature["index"] = index
        return features

    def _pack(self, records: list[dict[str, Any]]) -> list[tuple[str, list[list[int]]]]:
        """(file, blocks) of every file of ``records``; computed once per list (train, validation and test may share one)."""
        if id(records) not in self._packed:
            eos = self.tokenizer.eos_token_id
            packed = []
            with Progress("tokenizing documents", total=len(records), unit="documents") as progress:
                for source, group in itertools.groupby(records, key=lambda record: record["source"]):
                    documents = [record["text"] for record in group]
                    ids = []
                    for i in range(0, len(documents), 1000):
                        ids += self.tokenizer(documents[i : i + 1000], add_special_tokens=False)["input_ids"]
                        progress.update(len(documents[i : i + 1000]))
                    packed.append((source, pack_blocks(ids, self.config.block_size, eos)))
            self._packed[id(records)] = packed
        return self._packed[id(records)]

    # -- batching --------------------------------------------------------------------------
    def collator(self, split: str) -> PretrainCollator:
        """Masks blocks into examples of the objective the model was built for (``task_info``);
        training blocks are masked anew each time they are seen."""
        special: dict[str, int] = {}
        if self.task_info["objective"] == "blank_infilling":
            from glmtasks_pretrain.heads import special_ids

            special = special_ids(self.tokenizer)
        config = dataclasses.replace(self.config, objective=self.task_info["objective"], max_span_length=int(self.task_info["max_span_length"]))
        return PretrainCollator(config, self.tokenizer.pad_token_id, special, dynamic=split == "train")

    def example_record(self, split: str, index: int) -> dict[str, Any]:
        """The block's file and text."""
        feature = self.split_features(split)[index]
        return {"source": feature["source"], "text": self.tokenizer.decode(feature["input_ids"])}
