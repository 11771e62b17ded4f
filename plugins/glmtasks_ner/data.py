"""NER data: CoNLL-style column files or token/tag jsonl, aligned to sub-word tokens.

Reading: a CoNLL file has one word per line, whitespace-separated columns (the word and tag
columns are configurable, ``-1`` is the last), a blank line between sentences, and
``-DOCSTART-`` lines between documents (skipped). A jsonl file has one sentence per line:
``{"tokens": [...], "tags": [...]}`` (field names configurable). Tags may be IOB1, IOB2 or
BIOES (``data.tag_scheme``); they are decoded into entity spans at once, and re-encoded
in the scheme the model predicts (``data.label_scheme``).

Alignment: the words are joined with single spaces and tokenized with character offsets
(any fast tokenizer; no ``is_split_into_words``, which byte-level BPE handles poorly). The
first sub-token of each word carries the word's label, the other sub-tokens and the special
tokens ``-100`` (ignored by the loss). Each example keeps, per word, the position of its first
sub-token (``-1`` when truncation dropped the word), so predictions map back to words: a
dropped word is predicted ``O`` and its gold entities still count as missed.
"""

from __future__ import annotations

import bisect
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import lightning as L
from torch.utils.data import DataLoader

from glmtasks.data import BatchingConfig, PadCollator, compute_once, eval_loader, train_loader
from glmtasks.errors import ConfigError, DataError
from glmtasks.specs import TaskSpec
from glmtasks_ner.tags import check_scheme, invalid_tag, label_names, mark_entities, spans_to_tags, tags_to_spans

SPLIT_KEYS = {"train": "train_file", "validation": "validation_file", "test": "test_file"}
TEXT_FIELDS = ("words", "word_starts", "spans")
"""Example fields that stay Python lists in a batch (not padded into tensors)."""


@dataclass
class NERDataConfig(BatchingConfig):
    """The ``data:`` section of ``task=ner``."""

    source: str = "files"
    """``files`` (``*_file`` keys) or ``demo`` (generated sentences)."""
    train_file: Optional[str] = None
    validation_file: Optional[str] = None
    test_file: Optional[str] = None
    """Test split file; when unset, test metrics and predictions use the validation split."""
    format: Optional[str] = None
    """``conll`` (column text) or ``jsonl``; default: ``jsonl`` for .jsonl/.json files, else ``conll``."""
    token_column: int = 0
    """CoNLL column of the word (0-based; negative counts from the end)."""
    tag_column: int = -1
    """CoNLL column of the tag (``-1``: the last column)."""
    column_separator: Optional[str] = None
    """CoNLL column separator; default: any run of white space."""
    doc_start: str = "-DOCSTART-"
    """First word of document-separator lines, which are skipped."""
    tokens_field: str = "tokens"
    """jsonl field holding the list of words."""
    tags_field: str = "tags"
    """jsonl field holding the list of tags."""
    tag_scheme: str = "iob2"
    """Scheme of the tags in the files: ``iob1``, ``iob2`` or ``bioes`` (predictions are written in it too)."""
    label_scheme: str = "iob2"
    """Scheme the model learns to predict: ``iob1``, ``iob2`` or ``bioes``."""
    entity_types: Optional[list] = None
    """Entity types (``[PER, ORG, LOC, MISC]``); default: the types of the training data, sorted."""
    demo_train_size: int = 1500
    """Generated training sentences (``source=demo``)."""
    demo_eval_size: int = 300
    """Generated validation and test sentences (``source=demo``)."""


@dataclass
class NERExample:
    """One sentence: its words and gold entity spans ``(type, start, end)`` over words."""

    words: list[str]
    spans: list[tuple[str, int, int]]


# ---------------------------------------------------------------------------------------
# Reading.


def read_conll(
    path: str | Path,
    key: str,
    token_column: int = 0,
    tag_column: int = -1,
    separator: Optional[str] = None,
    doc_start: str = "-DOCSTART-",
    tags_optional: bool = False,
) -> list[tuple[list[str], list[str], int]]:
    """Sentences of a CoNLL column file as ``(words, tags, first line number)``.

    ``tags_optional`` (prediction inputs): a line with only the word column gets tag ``O``.
    """
    file = _existing(path, key)
    sentences: list[tuple[list[str], list[str], int]] = []
    words: list[str] = []
    tags: list[str] = []
    first_line = 1
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            columns = line.split(separator) if line.strip() else []
            if not columns or columns[0] == doc_start:
                if words:
                    sentences.append((words, tags, first_line))
                words, tags = [], []
                continue
            try:
                word = columns[token_column]
                tag = "O" if tags_optional and len(columns) == 1 else columns[tag_column]
            except IndexError:
                raise DataError(
                    f"line {number} of {file} (data.{key}) has {len(columns)} columns, but data.token_column={token_column} "
                    f"and data.tag_column={tag_column}; fix the columns (or data.column_separator)"
                ) from None
            if not words:
                first_line = number
            words.append(word)
            tags.append(tag.strip())
    if words:
        sentences.append((words, tags, first_line))
    if not sentences:
        raise DataError(f"{file} (data.{key}) has no sentences; give a CoNLL file with one word and tag per line")
    return sentences


def read_jsonl(
    path: str | Path, key: str, tokens_field: str = "tokens", tags_field: str = "tags", tags_optional: bool = False
) -> list[tuple[list[str], list[str], int]]:
    """Sentences of a jsonl file (one ``{tokens_field: [...], tags_field: [...]}`` per line).

    ``tags_optional`` (prediction inputs): a line without ``tags_field`` gets ``O`` tags.
    """
    file = _existing(path, key)
    sentences = []
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"malformed JSON on line {number} of {file} (data.{key}): {exc.msg}; fix the line") from exc
            if tags_optional and isinstance(row, dict) and isinstance(row.get(tokens_field), list) and tags_field not in row:
                row = {**row, tags_field: ["O"] * len(row[tokens_field])}
            for field_key, field in (("tokens_field", tokens_field), ("tags_field", tags_field)):
                if not isinstance(row, dict) or not isinstance(row.get(field), list):
                    raise DataError(f"line {number} of {file} (data.{key}) has no list '{field}'; set data.{field_key}=<field>")
            words, tags = [str(w) for w in row[tokens_field]], [str(t) for t in row[tags_field]]
            if len(words) != len(tags):
                raise DataError(f"line {number} of {file} (data.{key}) has {len(words)} tokens but {len(tags)} tags; fix the line")
            if words:
                sentences.append((words, tags, number))
    if not sentences:
        raise DataError(f"{file} (data.{key}) has no sentences")
    return sentences


def _existing(path: str | Path, key: str) -> Path:
    file = Path(path)
    if not file.is_file():
        raise DataError(f"data file not found: {file} (data.{key}); fix the path with data.{key}=<file>")
    return file


def infer_ner_format(path: str, declared: Optional[str]) -> str:
    """``declared`` if given, else ``jsonl`` for .jsonl/.json files and ``conll`` otherwise."""
    if declared:
        if declared not in ("conll", "jsonl"):
            raise ConfigError(f"data.format='{declared}' is not a NER format; use data.format=conll or data.format=jsonl")
        return declared
    return "jsonl" if Path(path).suffix in (".jsonl", ".json") else "conll"


# ---------------------------------------------------------------------------------------
# Alignment of words and sub-tokens.


def word_char_spans(words: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """The words joined by single spaces, and each word's ``(start, end)`` characters in it."""
    spans, position = [], 0
    for word in words:
        spans.append((position, position + len(word)))
        position += len(word) + 1
    return " ".join(words), spans


def first_subtokens(offsets: Sequence[Sequence[int]], word_spans: Sequence[tuple[int, int]]) -> list[int]:
    """For each word, the position of its first token (``-1`` if no token covers it).

    A token belongs to the word that contains its last character; tokens with empty
    offsets (special tokens) belong to no word.
    """
    starts = [s for s, _ in word_spans]
    first = [-1] * len(word_spans)
    for position, (begin, end) in enumerate(offsets):
        if end <= begin:
            continue
        w = bisect.bisect_right(starts, end - 1) - 1
        if w >= 0 and end - 1 < word_spans[w][1] and first[w] < 0:
            first[w] = position
    return first


def encode_example(tokenizer: Any, example: NERExample, label_ids: dict[str, int], label_scheme: str, max_length: int) -> dict[str, Any]:
    """Model inputs and first-sub-token labels of one sentence (``-100`` on other tokens)."""
    text, spans = word_char_spans(example.words)
    encoded = tokenizer(text, truncation=True, max_length=max_length, return_offsets_mapping=True)
    word_starts = first_subtokens(encoded["offset_mapping"], spans)
    tags = spans_to_tags(example.spans, len(example.words), label_scheme)
    labels = [-100] * len(encoded["input_ids"])
    for word, position in enumerate(word_starts):
        if position >= 0:
            labels[position] = label_ids[tags[word]]
    feature = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "labels": labels}
    if "token_type_ids" in encoded:
        feature["token_type_ids"] = encoded["token_type_ids"]
    feature.update(words=example.words, word_starts=word_starts, spans=example.spans)
    return feature


class NERCollator:
    """Pads the tensor fields (``labels`` with ``-100``) and keeps words, first-sub-token
    positions and gold spans as plain lists."""

    def __init__(self, pad_id: int):
        self.pad = PadCollator(pad_id=pad_id, label_pad_id=-100, padding_side="right")

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = self.pad([{k: v for k, v in f.items() if k not in TEXT_FIELDS} for f in features])
        for key in TEXT_FIELDS:
            batch[key] = [f[key] for f in features]
        return batch


# ---------------------------------------------------------------------------------------
# The datamodule.


class NERDataModule(L.LightningDataModule):
    """Reads and checks every split when constructed (unknown tags fail before a model is
    built), tokenizes once in ``setup``, and batches with length grouping and dynamic padding.

    ``task_info``: ``labels`` (the model's label names), ``entity_types``, ``label_scheme``
    (the labels' scheme) and ``tag_scheme`` (the data's scheme, used for written predictions).
    """

    def __init__(self, config: NERDataConfig, task: TaskSpec):
        super().__init__()
        self.config = config
        self.task = task
        try:
            self.tag_scheme = check_scheme(config.tag_scheme, "tag_scheme")
            self.label_scheme = check_scheme(config.label_scheme, "label_scheme")
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        self.examples = self._load()
        self.entity_types = self._entity_types()
        self.labels = label_names(self.entity_types, self.label_scheme)
        self.task_info = {
            "labels": self.labels,
            "entity_types": self.entity_types,
            "label_scheme": self.label_scheme,
            "tag_scheme": self.tag_scheme,
        }
        self.tokenizer: Any = None
        self.features: dict[str, list[dict[str, Any]]] = {}

    def _load(self) -> dict[str, list[NERExample]]:
        c = self.config
        if c.source == "demo":
            from glmtasks_ner.demo import generate_ner

            self.tag_scheme = "iob2"
            sizes = {"train": c.demo_train_size, "validation": c.demo_eval_size, "test": c.demo_eval_size}
            raw = {split: [(w, t, i + 1) for i, (w, t) in enumerate(generate_ner(n, seed=c.seed * 1000 + k))] for k, (split, n) in enumerate(sizes.items())}
            where = {split: f"demo {split} data" for split in sizes}
        elif c.source == "files":
            for split in ("train", "validation"):
                if not getattr(c, SPLIT_KEYS[split]):
                    key = SPLIT_KEYS[split]
                    raise DataError(f"data.{key} is not set; give a CoNLL or jsonl file with data.{key}=<path>")
            raw, where = {}, {}
            for split, key in SPLIT_KEYS.items():
                if getattr(c, key):
                    raw[split], where[split] = self._read(getattr(c, key), key), f"{getattr(c, key)} (data.{key})"
        else:
            raise DataError(f"unknown data.source '{c.source}'; use files or demo")
        predict_file = getattr(c, "predict_file", None)
        if predict_file:
            raw["predict"], where["predict"] = self._read(predict_file, "predict_file", tags_optional=True), f"{predict_file} (data.predict_file)"
        splits = {split: self._to_examples(sentences, where[split]) for split, sentences in raw.items()}
        if c.max_train_samples:
            random.Random(c.seed).shuffle(splits["train"])
            splits["train"] = splits["train"][: c.max_train_samples]
        if c.max_eval_samples:
            for split in ("validation", "test"):
                if split in splits:
                    splits[split] = splits[split][: c.max_eval_samples]
        splits.setdefault("test", splits["validation"])
        return splits

    def _read(self, path: str, key: str, tags_optional: bool = False) -> list[tuple[list[str], list[str], int]]:
        c = self.config
        if infer_ner_format(path, c.format) == "jsonl":
            return read_jsonl(path, key, c.tokens_field, c.tags_field, tags_optional)
        return read_conll(path, key, c.token_column, c.tag_column, c.column_separator, c.doc_start, tags_optional)

    def _to_examples(self, sentences: list[tuple[list[str], list[str], int]], where: str) -> list[NERExample]:
        examples = []
        for words, tags, line in sentences:
            bad = invalid_tag(tags, self.tag_scheme)
            if bad is not None:
                raise DataError(
                    f"unknown tag '{bad}' in the sentence at line {line} of {where}; tags must be O or "
                    f"{'/'.join(p + '-TYPE' for p in ('B', 'I', 'E', 'S') if self.tag_scheme == 'bioes' or p in 'BI')} "
                    f"({self.tag_scheme.upper()}); fix the data or set data.tag_scheme=iob1|iob2|bioes"
                )
            examples.append(NERExample(words, tags_to_spans(tags, self.tag_scheme)))
        return examples

    def _entity_types(self, given: Optional[Sequence[str]] = None) -> list[str]:
        found = {split: sorted({t for ex in examples for t, _, _ in ex.spans}) for split, examples in self.examples.items()}
        given = given or self.config.entity_types
        types = [str(t) for t in given] if given else found["train"]
        if not types:
            raise DataError("the training data has no entities; check data.tag_column and data.tag_scheme")
        for split, names in found.items():
            unknown = [t for t in names if t not in types]
            if unknown:
                raise DataError(
                    f"the {split} data has entity type(s) {', '.join(unknown)} that are not in {types}; "
                    "list every type in data.entity_types=[...] or fix the data"
                )
        return types

    # -- the protocol the core uses -------------------------------------------------------
    def training_texts(self) -> Iterator[str]:
        """Training sentences as space-joined words (for training a from-scratch tokenizer)."""
        for example in self.examples["train"]:
            yield " ".join(example.words)

    def adopt_task_info(self, task_info: dict[str, Any]) -> None:
        """Encode labels the way a trained model knows them (its entity types and label scheme)."""
        self.label_scheme = task_info["label_scheme"]
        self.entity_types = self._entity_types(task_info["entity_types"])
        self.labels = list(task_info["labels"])
        self.task_info = {**task_info, "tag_scheme": self.tag_scheme}

    def set_tokenizer(self, tokenizer: Any) -> None:
        """Use ``tokenizer`` (a fast tokenizer, for offsets) in ``setup``."""
        if not getattr(tokenizer, "is_fast", False):
            raise ConfigError("task=ner needs a fast tokenizer (character offsets); choose a backbone whose tokenizer is fast")
        self.tokenizer = tokenizer

    def example_record(self, split: str, index: int) -> dict[str, Any]:
        """Sentence ``index`` of ``split``: text, gold tags (in the data's scheme) and gold entities marked."""
        ex = self.examples[split][index]
        return {
            "text": " ".join(ex.words),
            "gold_tags": spans_to_tags(ex.spans, len(ex.words), self.tag_scheme),
            "gold_marked": mark_entities(ex.words, ex.spans),
        }

    # -- Lightning ------------------------------------------------------------------------
    def setup(self, stage: Optional[str] = None) -> None:
        """Tokenize every split once (the test split reuses validation's when it is the same)."""
        if self.features:
            return
        label_ids = {name: i for i, name in enumerate(self.labels)}
        for split, examples in self.examples.items():
            same = next((s for s in self.features if self.examples[s] is examples), None)
            if same:
                self.features[split] = self.features[same]
                continue
            features = compute_once(  # under DDP: encoded by rank 0, read by the others
                f"features-{split}",
                lambda: [encode_example(self.tokenizer, ex, label_ids, self.label_scheme, self.config.max_length) for ex in examples],
                self.trainer,
            )
            for i, feature in enumerate(features):
                feature["index"] = i
            self.features[split] = features

    def _lengths(self, split: str) -> list[int]:
        return [len(f["input_ids"]) for f in self.features[split]]

    def _collator(self) -> NERCollator:
        return NERCollator(self.tokenizer.pad_token_id)

    def train_dataloader(self) -> DataLoader:
        return train_loader(self.features["train"], self._lengths("train"), self.config, self._collator(), self.trainer)

    def val_dataloader(self) -> DataLoader:
        return eval_loader(self.features["validation"], self._lengths("validation"), self.config, self._collator(), self.trainer)

    def test_dataloader(self) -> DataLoader:
        return eval_loader(self.features["test"], self._lengths("test"), self.config, self._collator(), self.trainer)

    def predict_dataloader(self) -> DataLoader:
        """Sentences of ``data.predict_file`` (else the test split), one prediction record each."""
        self.setup("predict")
        split = "predict" if "predict" in self.features else "test"
        return eval_loader(self.features[split], self._lengths(split), self.config, self._collator(), self.trainer)
