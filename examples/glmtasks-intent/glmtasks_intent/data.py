"""Intent + slot data: utterances with an intent and a BIO tag per word, aligned to sub-word tokens.

The base :class:`glmtasks.api.TaskDataModule` does the reading (``data.source=files``: jsonl,
json, csv, tsv or parquet; ``demo``: :meth:`demo_records`), the splits, subsampling,
tokenizing once and batching; this module says what a row is and how it becomes features.

A row has three columns (names configurable): ``tokens`` (a list of words, or a string split
on white space), ``tags`` (a BIO tag per word, list or string) and ``intent``. Records are
normalized to ``{"tokens": [...], "tags": [...], "intent": ...}`` (tags and intent None in
rows to predict that lack them).

Alignment: the words are joined with single spaces and tokenized with character offsets (any
fast tokenizer). The first sub-token of each word carries the word's tag; other sub-tokens
and special tokens carry ``-100`` (ignored by the loss and the metrics). Words cut off by
``data.max_length`` are not scored; predictions tag them ``O``.
"""

from __future__ import annotations

import bisect
from typing import Any, Iterator, Sequence

from glmtasks.api import ConfigError, DataError, TaskDataModule
from glmtasks_intent.config import IntentSlotsDataConfig
from glmtasks_intent.tags import slot_type, tag_problem, tag_vocabulary


def first_subtokens(offsets: Sequence[Sequence[int]], words: Sequence[str]) -> list[int]:
    """For each word of ``" ".join(words)``, the position of its first token, or -1 if cut off.

    ``offsets`` are the tokenizer's character offsets; empty ones (special tokens) belong to no word.
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


def encode_words(tokenizer: Any, words: Sequence[str], max_length: int) -> dict[str, Any]:
    """Model inputs of ``words`` (joined by spaces) plus ``word_starts`` (:func:`first_subtokens`),
    ``word_mask`` (1 at each word's first token) and ``num_words``."""
    encoded = tokenizer(" ".join(words), truncation=True, max_length=max_length, return_offsets_mapping=True)
    features = {key: list(value) for key, value in encoded.items() if key != "offset_mapping"}
    starts = first_subtokens(encoded["offset_mapping"], words)
    starting = set(starts)
    features.update(word_starts=starts, word_mask=[int(i in starting) for i in range(len(features["input_ids"]))], num_words=len(words))
    return features


def _as_words(value: Any) -> list[str]:
    return value.split() if isinstance(value, str) else [str(v) for v in value]


class IntentSlotsDataModule(TaskDataModule):
    """Utterances, their intents and slot tags.

    Batches hold ``input_ids``, ``attention_mask`` (and ``token_type_ids`` for BERT-like
    tokenizers), ``word_mask``, ``num_words``, ``index`` and, for labelled rows, ``labels``
    (tag id at each word's first token, else -100) and ``intent_label``.
    """

    config: IntentSlotsDataConfig

    def required_columns(self, labelled: bool) -> dict[str, str]:
        c = self.config
        gold = {"tags_column": c.tags_column, "intent_column": c.intent_column} if labelled else {}
        return {"tokens_column": c.tokens_column, **gold}

    def read_file(self, path: str, key: str, labelled: bool) -> list[dict[str, Any]]:
        """The base reader's rows as utterances, each checked: words present, one BIO tag per word."""
        c = self.config
        rows = super().read_file(path, key, labelled)
        # Rows to predict are scored too when every one has its tags and intent.
        gold = labelled or all(r.get(c.tags_column) is not None and r.get(c.intent_column) is not None for r in rows)
        utterances = []
        for row, record in enumerate(rows):
            where = f"row {row + 1} of {path} (data.{key})"
            words = _as_words(record[c.tokens_column])
            if not words:
                raise DataError(f"{where} has no words; remove the row or fill data.tokens_column={c.tokens_column}")
            if not gold:
                utterances.append({"tokens": words, "tags": None, "intent": None})
                continue
            if record[c.tags_column] is None or record[c.intent_column] is None:
                raise DataError(f"{where} has no tags or no intent; fill columns {c.tags_column} and {c.intent_column}")
            tags = _as_words(record[c.tags_column])
            if len(words) != len(tags):
                raise DataError(f"{where} has {len(words)} words but {len(tags)} tags; give exactly one tag per word")
            problem = next((p for p in map(tag_problem, tags) if p), None)
            if problem:
                raise DataError(f"{where}: {problem}")
            utterances.append({"tokens": words, "tags": tags, "intent": str(record[c.intent_column])})
        return utterances

    def demo_records(self, split: str, size: int, seed: int) -> list[dict[str, Any]]:
        from glmtasks_intent.demo import EVAL_UNSEEN_SHARE, generate

        return generate(size, seed=seed, unseen_share=0.0 if split == "train" else EVAL_UNSEEN_SHARE)

    def build_task_info(self) -> dict[str, Any]:
        """Intents and slot tags from the config, else from the labelled data; ``{}`` with only rows to predict
        (a trained model's labels are adopted later)."""
        c = self.config
        labelled = self.splits.get("train") or self.splits.get("validation") or []
        if not labelled and not (c.intents and c.slot_types is not None):
            return {}
        intents = [str(i) for i in c.intents] if c.intents else sorted({r["intent"] for r in labelled})
        types = c.slot_types if c.slot_types is not None else {slot_type(t) for r in labelled for t in r["tags"] if t != "O"}
        return {"intents": intents, "slot_tags": tag_vocabulary(str(t) for t in types)}

    def check_records(self, split: str, records: list[dict[str, Any]]) -> None:
        if not self.task_info:
            return
        intents, tags = self.task_info["intents"], set(self.task_info["slot_tags"])
        for row, r in enumerate(records):
            if r["intent"] is None:
                continue
            if r["intent"] not in intents:
                raise DataError(
                    f"intent {r['intent']!r} in row {row + 1} of the {split} data is not one of "
                    f"[{', '.join(intents)}]; fix the data or list every intent in data.intents=[...]"
                )
            unknown = [t for t in r["tags"] if t not in tags]
            if unknown:
                raise DataError(
                    f"slot tag {unknown[0]!r} in row {row + 1} of the {split} data is not a slot of the training "
                    "data; fix the data or list every slot type in data.slot_types=[...]"
                )

    def training_texts(self) -> Iterator[str]:
        for r in self.split_records("train"):
            yield " ".join(r["tokens"])

    def set_tokenizer(self, tokenizer: Any) -> None:
        if not getattr(tokenizer, "is_fast", False):
            raise ConfigError("task=intent_slots needs a fast tokenizer (character offsets); choose a backbone whose tokenizer is fast")
        super().set_tokenizer(tokenizer)

    def encode_batch(self, records: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
        if not self.task_info:
            raise DataError("cannot tell the intents and slots without labelled data; set data.intents=[...] and data.slot_types=[...]")
        tag_ids = {tag: i for i, tag in enumerate(self.task_info["slot_tags"])}
        intent_ids = {intent: i for i, intent in enumerate(self.task_info["intents"])}
        features = []
        for r in records:
            feature = encode_words(self.tokenizer, r["tokens"], self.config.max_length)
            starts = feature.pop("word_starts")
            if r["intent"] is not None:
                labels = [-100] * len(feature["input_ids"])
                for word, position in enumerate(starts):
                    if position >= 0:
                        labels[position] = tag_ids[r["tags"][word]]
                feature.update(labels=labels, intent_label=intent_ids[r["intent"]])
            features.append(feature)
        return features

    def describe(self, record: dict[str, Any], split: str) -> dict[str, Any]:
        """Text and words, with the gold intent and tags when known."""
        described: dict[str, Any] = {"text": " ".join(record["tokens"]), "tokens": record["tokens"]}
        if record["intent"] is not None:
            described.update(intent=record["intent"], tags=record["tags"])
        return described
