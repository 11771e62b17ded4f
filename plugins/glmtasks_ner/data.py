"""NER data: CoNLL-style column files or token/tag jsonl, aligned to sub-word tokens.

Reading: a CoNLL file has one word per line, whitespace-separated columns (the word and tag
columns are configurable, ``-1`` is the last), a blank line between sentences, and
``-DOCSTART-`` lines between documents (skipped). A jsonl file has one sentence per line:
``{"tokens": [...], "tags": [...]}`` (field names configurable). Tags may be IOB1, IOB2 or
BIOES (``data.tag_scheme``); they are decoded into entity spans at once, so a record is
``{"words": [...], "spans": [(type, start, end), ...]}``, and re-encoded in the scheme the
model predicts (``data.label_scheme``).

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
from pathlib import Path
from typing import Any, Optional, Sequence

from glmtasks.api import ConfigError, DataError, PadCollator, TaskDataModule
from glmtasks_ner.config import NERDataConfig
from glmtasks_ner.tags import check_scheme, invalid_tag, label_names, mark_entities, spans_to_tags, tags_to_spans

PER_SENTENCE_FIELDS = ("words", "word_starts", "spans")
"""Feature fields that stay Python lists in a batch (not padded into tensors)."""


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


def encode_example(tokenizer: Any, record: dict[str, Any], label_ids: dict[str, int], label_scheme: str, max_length: int) -> dict[str, Any]:
    """Model inputs and first-sub-token labels of one sentence record (``-100`` on other tokens)."""
    words, spans = record["words"], record["spans"]
    text, char_spans = word_char_spans(words)
    encoded = tokenizer(text, truncation=True, max_length=max_length, return_offsets_mapping=True)
    word_starts = first_subtokens(encoded["offset_mapping"], char_spans)
    tags = spans_to_tags(spans, len(words), label_scheme)
    labels = [-100] * len(encoded["input_ids"])
    for word, position in enumerate(word_starts):
        if position >= 0:
            labels[position] = label_ids[tags[word]]
    feature = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "labels": labels}
    if "token_type_ids" in encoded:
        feature["token_type_ids"] = encoded["token_type_ids"]
    feature.update(words=words, word_starts=word_starts, spans=spans)
    return feature


# ---------------------------------------------------------------------------------------
# The datamodule.


class NERDataModule(TaskDataModule):
    """Sentences as words and gold entity spans; unknown tags and entity types fail before a model is built.

    ``task_info``: ``labels`` (the model's label names), ``entity_types``, ``label_scheme``
    (the labels' scheme) and ``tag_scheme`` (the data's scheme, used for written predictions).
    """

    config: NERDataConfig

    def __init__(self, config: NERDataConfig):
        if config.source == "hub":
            raise DataError("task=ner reads CoNLL or jsonl files (data.source=files) or its demo set (data.source=demo), not data.source=hub")
        try:
            tag_scheme = check_scheme(config.tag_scheme, "tag_scheme")
            check_scheme(config.label_scheme, "label_scheme")
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        self.tag_scheme = "iob2" if config.source == "demo" else tag_scheme
        super().__init__(config)

    def read_file(self, path: str, key: str, labelled: bool) -> list[dict[str, Any]]:
        """Sentences of a CoNLL or jsonl file (``data.format``), tags checked and decoded into spans."""
        c = self.config
        if infer_ner_format(path, c.format) == "jsonl":
            sentences = read_jsonl(path, key, c.tokens_field, c.tags_field, tags_optional=not labelled)
        else:
            sentences = read_conll(path, key, c.token_column, c.tag_column, c.column_separator, c.doc_start, tags_optional=not labelled)
        scheme = self.tag_scheme
        records = []
        for words, tags, line in sentences:
            bad = invalid_tag(tags, scheme)
            if bad is not None:
                raise DataError(
                    f"unknown tag '{bad}' in the sentence at line {line} of {path} (data.{key}); tags must be O or "
                    f"{'/'.join(p + '-TYPE' for p in ('B', 'I', 'E', 'S') if scheme == 'bioes' or p in 'BI')} "
                    f"({scheme.upper()}); fix the data or set data.tag_scheme=iob1|iob2|bioes"
                )
            records.append({"words": words, "spans": tags_to_spans(tags, scheme)})
        return records

    def demo_records(self, split: str, size: int, seed: int) -> list[dict[str, Any]]:
        """Generated news-like sentences (IOB2) with PER/ORG/LOC/MISC entities."""
        from glmtasks_ner.demo import generate_ner

        return [{"words": words, "spans": tags_to_spans(tags, "iob2")} for words, tags in generate_ner(size, seed=seed)]

    def build_task_info(self) -> dict[str, Any]:
        """Labels of ``data.entity_types`` (else of the training data's types) in ``data.label_scheme``."""
        c = self.config
        labelled = self.splits.get("train") or self.splits.get("validation")
        if c.entity_types:
            types = [str(t) for t in c.entity_types]
        elif labelled is None:
            raise DataError("cannot tell the entity types without labelled data; list them with data.entity_types=[...]")
        else:
            types = sorted({t for record in labelled for t, _, _ in record["spans"]})
            if not types:
                raise DataError("the training data has no entities; check data.tag_column and data.tag_scheme")
        label_scheme = check_scheme(c.label_scheme)
        return {"labels": label_names(types, label_scheme), "entity_types": types, "label_scheme": label_scheme, "tag_scheme": self.tag_scheme}

    def check_records(self, split: str, records: list[dict[str, Any]]) -> None:
        """Every entity type of ``split`` must be one of ``task_info["entity_types"]``."""
        types = list(self.task_info["entity_types"])
        unknown = sorted({t for record in records for t, _, _ in record["spans"]} - set(types))
        if unknown:
            raise DataError(
                f"the {split} data has entity type(s) {', '.join(unknown)} that are not in {types}; "
                "list every type in data.entity_types=[...] or fix the data"
            )

    def adopt_task_info(self, task_info: dict[str, Any]) -> None:
        """Encode labels the way a trained model knows them; predictions keep the data's tag scheme."""
        super().adopt_task_info({**task_info, "tag_scheme": self.tag_scheme})

    def set_tokenizer(self, tokenizer: Any) -> None:
        """Use ``tokenizer``, which must be fast (character offsets align words and sub-tokens)."""
        if not getattr(tokenizer, "is_fast", False):
            raise ConfigError("task=ner needs a fast tokenizer (character offsets); choose a backbone whose tokenizer is fast")
        super().set_tokenizer(tokenizer)

    def encode_batch(self, records: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
        """Per sentence: token ids, first-sub-token labels, and its words, their first sub-tokens and gold spans."""
        label_ids = {name: i for i, name in enumerate(self.task_info["labels"])}
        return [encode_example(self.tokenizer, r, label_ids, self.task_info["label_scheme"], self.config.max_length) for r in records]

    def describe(self, record: dict[str, Any], split: str) -> dict[str, Any]:
        """The sentence, its gold tags (in the data's scheme) and its gold entities marked."""
        words, spans = record["words"], record["spans"]
        return {"text": " ".join(words), "gold_tags": spans_to_tags(spans, len(words), self.tag_scheme), "gold_marked": mark_entities(words, spans)}

    def collator(self, split: str) -> PadCollator:
        """Dynamic padding that keeps the per-word fields as lists."""
        return PadCollator(pad_id=self.tokenizer.pad_token_id, keep_lists=PER_SENTENCE_FIELDS)
