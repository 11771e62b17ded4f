"""Pre-training data: plain text and jsonl documents packed into fixed-length blocks, masked per batch.

Reading: a plain text file is cut into documents at blank lines (``data.document_split``);
a jsonl/json/csv/parquet file gives one document per row (``data.text_column``).
Packing (:func:`pack_blocks`): the documents of one file are tokenized without special
tokens, each followed by ``eos``, concatenated, and cut into blocks of ``data.block_size``
tokens (the tail shorter than a block is dropped, unless it is the file's only block).
Validation: the ``validation_files``, or else the last ``validation_fraction`` of every
training file's blocks (contiguous text, so no sentence is in both splits).
The test split is the validation split.

Examples are built from blocks by the collator (:class:`PretrainCollator`) with the
functions of :mod:`glmtasks_pretrain.masking`: training masks are drawn again each time a
block is seen (dynamic masking), evaluation masks are fixed per block, so validation
perplexity is comparable from one evaluation to the next.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import lightning as L
import numpy as np

from glmtasks.data import BatchingConfig, PadCollator, eval_loader, map_once, read_table, require_columns, train_loader
from glmtasks.errors import ConfigError, DataError
from glmtasks.specs import TaskSpec
from glmtasks_pretrain.masking import blank_infilling_sample, causal_lm_sample

OBJECTIVES = ("blank_infilling", "causal_lm")
TABLE_SUFFIXES = {".json", ".jsonl", ".csv", ".tsv", ".parquet"}


@dataclass
class PretrainDataConfig(BatchingConfig):
    """The ``data:`` section of ``task=pretrain`` (``max_length`` is unused: blocks are ``block_size`` long)."""

    source: str = "demo"
    """``files`` (``train_files``) or ``demo`` (generated text, for a quick offline run)."""
    train_files: Optional[list] = None
    """Plain text files (any suffix but the table ones) and/or jsonl/json/csv/parquet files."""
    validation_files: Optional[list] = None
    """Validation text; when unset, the last ``validation_fraction`` of each training file's blocks."""
    validation_fraction: float = 0.05
    """Share of each training file's blocks held out for validation when there are no validation_files."""
    format: Optional[str] = None
    """Force one format for every file: ``text``, ``json``, ``csv``, ``tsv`` or ``parquet``; default: from the suffix."""
    text_column: str = "text"
    """Column (field) of the text in table and jsonl files."""
    document_split: str = "blank_line"
    """How a plain text file becomes documents: ``blank_line`` (paragraphs), ``line`` or ``file`` (one document)."""
    block_size: int = 128
    """Tokens of original text per example (a blank-infilling example adds 2 tokens per span)."""
    objective: str = "blank_infilling"
    """``blank_infilling`` (GLM) or ``causal_lm`` (next-token prediction)."""
    mask_ratio: float = 0.15
    """Blank infilling: spans are drawn until at least this share of the block is masked."""
    poisson_lambda: float = 3.0
    """Blank infilling: mean of the Poisson distribution of span lengths."""
    max_span_length: int = 16
    """Blank infilling: longest span (longer draws are cut); sizes the block-position table."""
    demo_documents: int = 400
    """Generated documents (``source=demo``); 5% of the blocks are held out for validation."""


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
    """The documents of one file: a plain text file split by ``document_split``, or a table's text column."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"data file not found: {file} (data.{key}); fix the path with data.{key}=[<file>, ...]")
    suffixes = [s for s in file.suffixes if s != ".gz"]
    fmt = config.format or ("table" if suffixes and suffixes[-1] in TABLE_SUFFIXES else "text")
    if fmt == "text":
        if file.suffix == ".gz":
            import gzip

            text = gzip.open(file, "rt", encoding="utf-8").read()
        else:
            text = file.read_text(encoding="utf-8")
        documents = split_documents(text, config.document_split)
    else:
        table = read_table(file, key, None if fmt == "table" else fmt)
        require_columns(table, {"text_column": config.text_column}, str(file))
        documents = [str(t) for t in table[config.text_column] if t is not None and str(t).strip()]
    if not documents:
        raise DataError(f"data file {file} (data.{key}) holds no text")
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
        self.pad = PadCollator(pad_id=pad_id, label_pad_id=-100, padding_side="right")

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


class PretrainDataModule(L.LightningDataModule):
    """Reads documents when constructed (data errors surface before a model is built),
    tokenizes and packs them in ``setup``, and masks blocks batch by batch."""

    def __init__(self, config: PretrainDataConfig, task: TaskSpec):
        super().__init__()
        c = self.config = config
        self.task = task
        if c.objective not in OBJECTIVES:
            raise ConfigError(f"unknown data.objective '{c.objective}'; use {' or '.join(OBJECTIVES)}")
        if c.block_size < 2:
            raise ConfigError(f"data.block_size must be at least 2, got {c.block_size}")
        if not 0 < c.mask_ratio < 1 or c.poisson_lambda <= 0 or c.max_span_length < 1:
            raise ConfigError("data.mask_ratio must be in (0, 1), data.poisson_lambda > 0 and data.max_span_length >= 1")
        self.documents = self._read()  # split -> [(file name, documents)]
        self.task_info = {"objective": c.objective, "max_span_length": c.max_span_length, "block_size": c.block_size}
        self.tokenizer: Any = None
        self.blocks: dict[str, list[list[int]]] = {}
        self.block_sources: dict[str, list[str]] = {}

    def _read(self) -> dict[str, list[tuple[str, list[str]]]]:
        c = self.config
        if c.source == "demo":
            splits = {"train": [("demo", generate_documents(c.demo_documents, seed=c.seed))]}
        elif c.source == "files":
            if not c.train_files:
                raise DataError("data.train_files is not set; give your text with data.train_files=[<file>, ...]")
            splits = {"train": [(Path(p).name, read_documents(p, "train_files", c)) for p in c.train_files]}
            if c.validation_files:
                splits["validation"] = [(Path(p).name, read_documents(p, "validation_files", c)) for p in c.validation_files]
        else:
            raise DataError(f"unknown data.source '{c.source}'; use files or demo")
        if "validation" not in splits and not 0 < c.validation_fraction < 1:
            raise ConfigError("data.validation_fraction must be in (0, 1) when there are no data.validation_files")
        if c.predict_file:
            splits["predict"] = [(Path(c.predict_file).name, read_documents(c.predict_file, "predict_file", c))]
        return splits

    # -- the protocol the core uses -------------------------------------------------------
    def training_texts(self) -> Iterator[str]:
        """Raw training documents, for training a from-scratch tokenizer."""
        for _, documents in self.documents["train"]:
            yield from documents

    def set_tokenizer(self, tokenizer: Any) -> None:
        if tokenizer.eos_token_id is None:
            raise ConfigError("task=pretrain separates documents with the tokenizer's eos token, and this tokenizer has none")
        self.tokenizer = tokenizer

    def example_record(self, split: str, index: int) -> dict[str, Any]:
        """The block's file and text."""
        return {"source": self.block_sources[split][index], "text": self.tokenizer.decode(self.blocks[split][index])}

    # -- Lightning ------------------------------------------------------------------------
    def _pack(self, split: str) -> tuple[list[list[int]], list[str], list[int]]:
        """Blocks of every file of ``split``, their file names, and each file's block count."""
        import datasets

        c, tokenizer = self.config, self.tokenizer
        blocks, sources, counts = [], [], []
        for number, (name, documents) in enumerate(self.documents[split]):
            table = datasets.Dataset.from_dict({"text": documents})
            tokenized = map_once(
                table,
                lambda rows: {"ids": tokenizer(rows["text"], add_special_tokens=False)["input_ids"]},
                name=f"pretrain-{split}-{number}",
                trainer=self.trainer,
                batched=True,
                remove_columns=["text"],
            )
            file_blocks = pack_blocks(tokenized["ids"], c.block_size, tokenizer.eos_token_id)
            blocks += file_blocks
            sources += [name] * len(file_blocks)
            counts.append(len(file_blocks))
        return blocks, sources, counts

    def setup(self, stage: Optional[str] = None) -> None:
        if self.blocks:
            return
        c = self.config
        train, train_sources, counts = self._pack("train")
        if "validation" in self.documents:
            self.blocks["validation"], self.block_sources["validation"], _ = self._pack("validation")
            self.blocks["train"], self.block_sources["train"] = train, train_sources
        else:
            keep, held, keep_src, held_src, start = [], [], [], [], 0
            for count in counts:  # the tail of every file is held out
                cut = start + count - max(1, int(round(count * c.validation_fraction)))
                if count < 2:
                    raise DataError(f"{train_sources[start]} gives only {count} block of {c.block_size} tokens: too little to hold out validation; give data.validation_files or more text")
                keep += train[start:cut]
                held += train[cut : start + count]
                keep_src += train_sources[start:cut]
                held_src += train_sources[cut : start + count]
                start += count
            self.blocks["train"], self.block_sources["train"] = keep, keep_src
            self.blocks["validation"], self.block_sources["validation"] = held, held_src
        if c.max_train_samples and c.max_train_samples < len(self.blocks["train"]):
            order = sorted(random.Random(c.seed).sample(range(len(self.blocks["train"])), c.max_train_samples))
            self.blocks["train"] = [self.blocks["train"][i] for i in order]
            self.block_sources["train"] = [self.block_sources["train"][i] for i in order]
        if c.max_eval_samples:
            self.blocks["validation"] = self.blocks["validation"][: c.max_eval_samples]
            self.block_sources["validation"] = self.block_sources["validation"][: c.max_eval_samples]
        self.blocks["test"], self.block_sources["test"] = self.blocks["validation"], self.block_sources["validation"]
        if "predict" in self.documents:
            self.blocks["predict"], self.block_sources["predict"], _ = self._pack("predict")

    def _items(self, split: str) -> list[dict[str, Any]]:
        return [{"input_ids": block, "index": i} for i, block in enumerate(self.blocks[split])]

    def _collator(self, dynamic: bool) -> PretrainCollator:
        special: dict[str, int] = {}
        if self.config.objective == "blank_infilling":
            from glmtasks_pretrain.heads import special_ids

            special = special_ids(self.tokenizer)
        return PretrainCollator(self.config, self.tokenizer.pad_token_id, special, dynamic)

    def _lengths(self, split: str) -> list[int]:
        return [len(block) for block in self.blocks[split]]

    def train_dataloader(self):
        """Shuffled batches of blocks, masked anew each time (sharded across ranks)."""
        return train_loader(self._items("train"), self._lengths("train"), self.config, self._collator(True), self.trainer)

    def val_dataloader(self):
        """Validation blocks with fixed masks (each block once across ranks)."""
        return eval_loader(self._items("validation"), self._lengths("validation"), self.config, self._collator(False), self.trainer)

    def test_dataloader(self):
        """The validation blocks (there is no separate test text)."""
        return eval_loader(self._items("test"), self._lengths("test"), self.config, self._collator(False), self.trainer)

    def predict_dataloader(self):
        """Blocks of ``predict_file`` if set, else the test blocks; predictions give each block's perplexity."""
        split = "predict" if "predict" in self.blocks else "test"
        return eval_loader(self._items(split), self._lengths(split), self.config, self._collator(False), self.trainer)
