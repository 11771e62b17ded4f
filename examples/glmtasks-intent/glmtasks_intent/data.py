"""Intent + slot data: utterances with an intent and a BIO tag per word, aligned to sub-word tokens.

Reading: any table that ``glmtasks.data.read_table`` reads (jsonl, json, csv, tsv, parquet),
one utterance per row with three columns (names configurable): ``tokens`` (a list of words,
or a string split on white space), ``tags`` (a list of BIO tags, or a string, one per word)
and ``intent``. Or ``source=demo``: the generated set of :mod:`glmtasks_intent.demo`.

Alignment: the words are joined with single spaces and tokenized with character offsets (any
fast tokenizer). The first sub-token of each word carries the word's tag; other sub-tokens
and special tokens carry ``-100`` (ignored by the loss and the metrics). Words cut off by
``data.max_length`` are not scored; predictions tag them ``O``.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Sequence

import lightning as L

from glmtasks.data import BatchingConfig, PadCollator, eval_loader, read_table, require_columns, train_loader
from glmtasks.errors import ConfigError, DataError
from glmtasks.specs import TaskSpec
from glmtasks_intent.tags import slot_type, tag_problem, tag_vocabulary

SPLIT_KEYS = {"train": "train_file", "validation": "validation_file", "test": "test_file", "predict": "predict_file"}
"""Split -> the config key of its file (``predict_file`` is a field of glmtasks' BatchingConfig)."""


@dataclass
class IntentSlotsDataConfig(BatchingConfig):
    """The ``data:`` section of ``task=intent_slots``."""

    source: str = "files"
    """``files`` (the ``*_file`` keys) or ``demo`` (the generated command set)."""
    train_file: Optional[str] = None
    """Training utterances (jsonl, json, csv, tsv or parquet)."""
    validation_file: Optional[str] = None
    """Validation utterances; pick the best checkpoint on them."""
    test_file: Optional[str] = None
    """Test utterances; when unset, test metrics and predictions use the validation split."""
    format: Optional[str] = None
    """csv, tsv, json (also JSON lines) or parquet; default: from the file suffix."""
    tokens_column: str = "tokens"
    """Column of the words: a list, or a string split on white space."""
    tags_column: str = "tags"
    """Column of the BIO slot tags, one per word: a list, or a string split on white space."""
    intent_column: str = "intent"
    """Column of the intent label."""
    intents: Optional[list] = None
    """Intent names; default: the sorted intents of the training data."""
    slot_types: Optional[list] = None
    """Slot types (``[date, city]``); default: the sorted slot types of the training data."""
    demo_train_size: int = 2000
    """Generated training utterances (``source=demo``)."""
    demo_eval_size: int = 300
    """Generated validation and test utterances each (``source=demo``)."""


@dataclass
class Utterance:
    """One example: its words, a BIO tag per word, and its intent (gold is optional only for ``predict``)."""

    words: list[str]
    tags: Optional[list[str]]
    intent: Optional[str]


def _as_words(value: Any) -> list[str]:
    return value.split() if isinstance(value, str) else [str(v) for v in value]


def first_subtokens(offsets: Sequence[Sequence[int]], words: Sequence[str]) -> list[int]:
    """For each word of ``" ".join(words)``, the position of its first token, or -1 if cut off.

    ``offsets`` are the tokenizer's character offsets; empty ones (special tokens) belong to
    no word.
    """
    starts, ends, position = [], [], 0
    for word in words:
        starts.append(position)
        ends.append(position + len(word))
        position += len(word) + 1
    first = [-1] * len(words)
    for token, (begin, end) in enumerate(offsets):
        if end <= begin:
            continue
        word = bisect.bisect_right(starts, begin) - 1
        if word >= 0 and begin < ends[word] and first[word] == -1:
            first[word] = token
    return first


def encode_words(tokenizer: Any, words: Sequence[str], max_length: int) -> dict[str, list[int]]:
    """Tokenize ``words`` (joined by spaces); adds ``word_starts`` (see :func:`first_subtokens`)."""
    encoded = tokenizer(" ".join(words), truncation=True, max_length=max_length, return_offsets_mapping=True)
    features = {key: list(value) for key, value in encoded.items() if key != "offset_mapping"}
    features["word_starts"] = first_subtokens(encoded["offset_mapping"], words)
    return features


class IntentSlotsDataModule(L.LightningDataModule):
    """Reads and checks every split when constructed (data errors surface before a model is
    built), tokenizes once in ``setup``, and batches with length grouping and dynamic padding.

    Batches hold ``input_ids``, ``attention_mask`` (and ``token_type_ids`` for BERT-like
    tokenizers), ``labels`` (tag id at each word's first token, else -100), ``word_mask`` (1 at
    each word's first token), ``intent_label``, ``num_words`` and ``index``.
    """

    def __init__(self, config: IntentSlotsDataConfig, task: TaskSpec):
        super().__init__()
        self.config = config
        self.task = task
        self.raw = self._load()
        self.tokenizer: Any = None
        self.features: dict[str, list[dict[str, Any]]] = {}
        self.intents: list[str] = []
        self.slot_tags: list[str] = []
        self.task_info: dict[str, Any] = {}
        labelled = self.raw.get("train") or self.raw.get("validation")
        if labelled or (config.intents and config.slot_types is not None):
            self.adopt_task_info(self._label_sets(labelled or []))
        # else: only unlabelled predict data; a trained model's task_info is adopted before setup

    def _label_sets(self, labelled: list[Utterance]) -> dict[str, list[str]]:
        """Intents and slot tags from the config, else from the labelled utterances."""
        c = self.config
        intents = [str(i) for i in c.intents] if c.intents else sorted({u.intent for u in labelled})
        types = c.slot_types if c.slot_types is not None else {slot_type(t) for u in labelled for t in u.tags if t != "O"}
        return {"intents": intents, "slot_tags": tag_vocabulary(str(t) for t in types)}

    def adopt_task_info(self, task_info: dict[str, Any]) -> None:
        """Use these intents and slot tags (from the data, or from a trained model); check every split."""
        self.intents = list(task_info["intents"])
        self.slot_tags = list(task_info["slot_tags"])
        self.task_info = {"intents": self.intents, "slot_tags": self.slot_tags}
        for split, utterances in self.raw.items():
            self._check_labels(split, utterances)
        self.features = {}

    # -- reading ---------------------------------------------------------------------------
    def _load(self) -> dict[str, list[Utterance]]:
        c = self.config
        predict_file = getattr(c, "predict_file", None)
        if c.source == "demo":
            from glmtasks_intent.demo import EVAL_UNSEEN_SHARE, generate

            sizes = {"train": c.demo_train_size, "validation": c.demo_eval_size, "test": c.demo_eval_size}
            splits = {}
            for i, (split, size) in enumerate(sizes.items()):
                unseen = 0.0 if split == "train" else EVAL_UNSEEN_SHARE
                examples = generate(size, seed=c.seed * 1000 + i, unseen_share=unseen)
                splits[split] = [Utterance(e["tokens"], e["tags"], e["intent"]) for e in examples]
        elif c.source == "files":
            if not (c.validation_file or predict_file):
                raise DataError("data.validation_file is not set; give your validation file with data.validation_file=<path> (or use data.source=demo)")
            splits = {split: self._read(split) for split, key in SPLIT_KEYS.items() if split != "predict" and getattr(c, key)}
        else:
            raise DataError(f"unknown data.source '{c.source}'; use data.source=files or data.source=demo")
        if predict_file:
            splits["predict"] = self._read("predict")
        if c.max_train_samples and "train" in splits:
            rng = random.Random(c.seed)
            splits["train"] = rng.sample(splits["train"], min(c.max_train_samples, len(splits["train"])))
        if c.max_eval_samples:
            for split in ("validation", "test"):
                if split in splits:
                    splits[split] = splits[split][: c.max_eval_samples]
        if "validation" in splits:
            splits.setdefault("test", splits["validation"])
        return splits

    def _read(self, split: str) -> list[Utterance]:
        """Utterances of ``split``'s file; gold tags and intent may be absent only from ``predict``."""
        c = self.config
        key = SPLIT_KEYS[split]
        path = getattr(c, key)
        table = read_table(path, key, c.format)
        gold = split != "predict" or (c.tags_column in table.column_names and c.intent_column in table.column_names)
        columns = {"tokens_column": c.tokens_column}
        if gold:
            columns.update(tags_column=c.tags_column, intent_column=c.intent_column)
        require_columns(table, columns, path)
        rows = zip(table[c.tokens_column], table[c.tags_column], table[c.intent_column]) if gold else ((t, None, None) for t in table[c.tokens_column])
        utterances = []
        for row, (tokens, tags, intent) in enumerate(rows):
            words = _as_words(tokens)
            where = f"row {row + 1} of {path} (data.{key})"
            if not words:
                raise DataError(f"{where} has no words; remove the row or fill data.tokens_column={c.tokens_column}")
            if not gold:
                utterances.append(Utterance(words, None, None))
                continue
            word_tags = _as_words(tags)
            if len(words) != len(word_tags):
                raise DataError(f"{where} has {len(words)} words but {len(word_tags)} tags; give exactly one tag per word")
            for tag in word_tags:
                problem = tag_problem(tag)
                if problem:
                    raise DataError(f"{where}: {problem}")
            utterances.append(Utterance(words, word_tags, str(intent)))
        return utterances

    def _check_labels(self, split: str, utterances: list[Utterance]) -> None:
        known_intents, known_tags = set(self.intents), set(self.slot_tags)
        for row, u in enumerate(utterances):
            if u.intent is None:
                continue
            if u.intent not in known_intents:
                raise DataError(
                    f"intent {u.intent!r} in row {row + 1} of the {split} data is not one of "
                    f"[{', '.join(self.intents)}]; fix the data or list every intent in data.intents=[...]"
                )
            unknown = [t for t in u.tags if t not in known_tags]
            if unknown:
                raise DataError(
                    f"slot tag {unknown[0]!r} in row {row + 1} of the {split} data is not a slot of the training "
                    f"data; fix the data or list every slot type in data.slot_types=[...]"
                )

    # -- the protocol the core uses -------------------------------------------------------
    def _require_train(self) -> list[Utterance]:
        if "train" not in self.raw:
            raise DataError("data.train_file is not set; give your training file with data.train_file=<path>")
        return self.raw["train"]

    def training_texts(self) -> Iterator[str]:
        """Training utterances as text, for training a from-scratch tokenizer."""
        for u in self._require_train():
            yield " ".join(u.words)

    def set_tokenizer(self, tokenizer: Any) -> None:
        """Use ``tokenizer`` (a fast tokenizer: the alignment needs character offsets)."""
        if not getattr(tokenizer, "is_fast", False):
            raise ConfigError("task=intent_slots needs a fast tokenizer (character offsets); choose a backbone whose tokenizer is fast")
        self.tokenizer = tokenizer

    def example_record(self, split: str, index: int) -> dict[str, Any]:
        """Text and words of example ``index`` of ``split``, with its gold intent and tags if known."""
        u = self.raw[split][index]
        record: dict[str, Any] = {"text": " ".join(u.words), "tokens": u.words}
        if u.intent is not None:
            record.update(intent=u.intent, tags=u.tags)
        return record

    # -- Lightning -------------------------------------------------------------------------
    def setup(self, stage: Optional[str] = None) -> None:
        """Tokenize every split once."""
        if self.features:
            return
        if self.tokenizer is None:
            raise RuntimeError("set_tokenizer() must be called before setup()")
        if not self.task_info:
            raise DataError("cannot tell the intents and slots without labelled data; set data.intents=[...] and data.slot_types=[...]")
        tag_ids = {tag: i for i, tag in enumerate(self.slot_tags)}
        intent_ids = {intent: i for i, intent in enumerate(self.intents)}
        for split, utterances in self.raw.items():
            rows = []
            for index, u in enumerate(utterances):
                features = encode_words(self.tokenizer, u.words, self.config.max_length)
                starts = features.pop("word_starts")
                labels = [-100] * len(features["input_ids"])
                word_mask = [0] * len(features["input_ids"])
                for word, position in enumerate(starts):
                    if position >= 0:
                        word_mask[position] = 1
                        if u.tags is not None:
                            labels[position] = tag_ids[u.tags[word]]
                features.update(word_mask=word_mask, num_words=len(u.words), index=index)
                if u.intent is not None:
                    features.update(labels=labels, intent_label=intent_ids[u.intent])
                rows.append(features)
            self.features[split] = rows

    def _loader(self, split: str, train: bool = False):
        rows = self.features[split]
        lengths = [len(r["input_ids"]) for r in rows]
        collate = PadCollator(pad_id=self.tokenizer.pad_token_id)
        make = train_loader if train else eval_loader
        return make(rows, lengths, self.config, collate, self.trainer)

    def train_dataloader(self):
        """Shuffled, length-grouped training batches."""
        self._require_train()
        return self._loader("train", train=True)

    def val_dataloader(self):
        """Validation batches, each example once."""
        return self._loader("validation")

    def test_dataloader(self):
        """Test batches, each example once."""
        return self._loader("test")

    def predict_dataloader(self):
        """Batches whose predictions go to ``predictions.jsonl``: ``data.predict_file``, else the test split."""
        return self._loader("predict" if "predict" in self.features else "test")
