"""NER data: CoNLL-style column files or token/tag jsonl, aligned to sub-word tokens.

Reading: a CoNLL file has one word per line, whitespace-separated columns (the word and tag
columns are configurable, ``-1`` is the last), a blank line between sentences, and
``-DOCSTART-`` lines between documents (skipped). A jsonl file has one sentence per line:
``{"tokens": [...], "tags": [...]}`` (field names configurable). Tags may be IOB1, IOB2 or
BIOES (``data.tag_scheme``); they are decoded into entity spans at once, so a record is
``{"words": [...], "spans": [(type, start, end), ...]}``, and re-encoded in the scheme the
model predicts (``data.label_scheme``).

Files are UTF-8 text (a byte-order mark is dropped; ``\\n``, ``\\r\\n`` or ``\\r`` line ends; the
last sentence needs no blank line after it), optionally gzip-compressed (``train.txt.gz``).
Whatever does not fit is a one-line :class:`DataError` naming the file, the line and the fix,
never a silent repair: bytes that are not UTF-8, a binary file, a word line with another
number of columns than the first (a word with a space in it), a line with only a word in a
labelled file, a tag outside ``data.tag_scheme`` (``X-PER``, ``B-``), a jsonl row whose tokens
and tags differ in length or are not strings (class ids), a file without sentences, and an
entity type outside ``data.entity_types`` (or the training data's types). One irregularity
is read leniently, with a warning naming its first line: an ``I-X`` that does not continue
an ``X`` entity (after ``O``, another type or at a sentence start; IOB1-style tags in a file
read as IOB2) begins a new entity, as IOB1 and conlleval read it. Inputs to predict
(``data.predict_file``) may have no tags: a CoNLL line with only the word, a jsonl row
without ``tags``, get ``O``.

Alignment: the words are joined with single spaces and tokenized with character offsets
(any fast tokenizer; no ``is_split_into_words``, which byte-level BPE handles poorly). The
first sub-token of each word carries the word's label, the other sub-tokens and the special
tokens ``-100`` (ignored by the loss). Each example keeps, per word, the position of its first
sub-token (``-1`` when truncation dropped the word), so predictions map back to words: a
dropped word is predicted ``O`` and its gold entities still count as missed.
"""

from __future__ import annotations

import bisect
import codecs
import gzip
import json
import logging
import zlib
from pathlib import Path
from typing import Any, Optional, Sequence

from glmtasks.api import ConfigError, DataError, PadCollator, TaskDataModule, local_data_file, split_archive_path
from glmtasks_ner.config import NERDataConfig
from glmtasks_ner.tags import check_scheme, invalid_tag, label_names, mark_entities, spans_to_tags, stray_inside, tags_to_spans

log = logging.getLogger(__name__)

PER_SENTENCE_FIELDS = ("words", "word_starts", "spans")
"""Feature fields that stay Python lists in a batch (not padded into tensors)."""


# ---------------------------------------------------------------------------------------
# Reading.

Sentence = tuple[list[str], list[str], int]
"""``(words, tags, line)``: a CoNLL sentence's word ``i`` is on line ``line + i``, a jsonl one's on ``line``."""


def read_text_lines(path: str | Path, key: str) -> tuple[Path, list[str]]:
    """The lines of a UTF-8 text file (gzip-compressed or not), without their line endings.

    ``\\n``, ``\\r\\n`` and ``\\r`` all end a line, and a UTF-8 byte-order mark is dropped. A file
    that is not UTF-8 text (a binary file, UTF-16, Latin-1 bytes) is a one-line
    :class:`DataError` naming the line of the first bad byte. ``path`` may name a member of a
    zip archive (``corpus.zip/train.txt``); the returned path is ``path`` as given, for messages.
    """
    file = _existing(path, key)
    where = f"{file} (data.{key})"
    try:
        data = local_data_file(file, key).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {where}: {exc.strerror or type(exc).__name__}; fix the path or the file's permissions") from exc
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{where} is a damaged gzip file ({exc}); compress it again or give the uncompressed file") from exc
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise DataError(f"{where} is UTF-16 text; save it as UTF-8 (e.g. iconv -f utf-16 -t utf-8 {file.name} > fixed.txt)")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataError(f"{where} is not a text file (a NUL byte on line {line}); give a UTF-8 text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        head = data[:4096]
        if sum(b < 9 or 13 < b < 27 or 27 < b < 32 or b == 127 for b in head) > len(head) / 20:
            raise DataError(f"{where} is not a text file (binary data from line {line}); give a UTF-8 text file") from None
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(
            f"{where} is not UTF-8: byte 0x{data[exc.start]:02x} on line {line} (byte {column} of the line) cannot be decoded; "
            f"save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 {file.name} > fixed.txt)"
        ) from None
    return file, text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_conll(
    path: str | Path,
    key: str,
    token_column: int = 0,
    tag_column: int = -1,
    separator: Optional[str] = None,
    doc_start: str = "-DOCSTART-",
    tags_optional: bool = False,
) -> list[Sentence]:
    """Sentences of a CoNLL column file as ``(words, tags, first line number)``.

    Every word line must have as many columns as the first one (a word with a space in it
    would otherwise shift the columns silently); ``-DOCSTART-`` lines are not counted.
    ``tags_optional`` (prediction inputs): a line with only the word column gets tag ``O``.
    """
    file, lines = read_text_lines(path, key)
    where = f"{file} (data.{key})"
    sentences: list[Sentence] = []
    words: list[str] = []
    tags: list[str] = []
    first_line = 1
    expected: Optional[tuple[int, int]] = None  # (columns, line) of the first word line
    docstarts = 0
    for number, line in enumerate(lines, start=1):
        columns = [c.strip() for c in line.split(separator)] if line.strip() else []
        if not columns or columns[0] == doc_start:
            docstarts += bool(columns)
            if words:
                sentences.append((words, tags, first_line))
            words, tags = [], []
            continue
        if not sentences and not words and expected is None and line.lstrip().startswith('{"') and line.rstrip().endswith("}"):
            raise DataError(f"line {number} of {where} is a JSON object, not CoNLL columns; set data.format=jsonl (or name the file .jsonl)")
        count = len(columns)
        if tags_optional and count == 1:
            word, tag = columns[0], "O"
        else:
            if expected is None:
                expected = (count, number)
            elif count != expected[0]:
                raise DataError(
                    f"line {number} of {where} has {count} column{'s' if count > 1 else ''} but line {expected[1]} has "
                    f"{expected[0]}; fix the line so that every word line has the same columns (a word with a space in it "
                    "splits into two columns: separate the columns with tabs and set data.column_separator='\\t')"
                )
            if not (-count <= token_column < count and -count <= tag_column < count):
                raise DataError(
                    f"line {number} of {where} has {count} columns, but data.token_column={token_column} "
                    f"and data.tag_column={tag_column}; fix the columns (or data.column_separator)"
                )
            if token_column % count == tag_column % count:
                raise DataError(
                    f"line {number} of {where} has {count} column{'s' if count > 1 else ''}, so the word and the tag are the "
                    f"same column (data.token_column={token_column}, data.tag_column={tag_column}); give each word its tag ('Paris B-LOC')"
                    + ("" if tags_optional else ", or pass untagged text as data.predict_file")
                )
            word, tag = columns[token_column], columns[tag_column]
        if not word:
            raise DataError(f"line {number} of {where} has an empty word (column {token_column}); fix the line or data.token_column")
        if not words:
            first_line = number
        words.append(word)
        tags.append(tag)
    if words:
        sentences.append((words, tags, first_line))
    if not sentences:
        content = f"only {doc_start} and blank lines" if docstarts else "only blank lines" if any(lines) else "it is empty"
        raise DataError(
            f"{where} has no sentences ({content}); give a CoNLL file with one word and its tag per line "
            "and a blank line between sentences"
        )
    return sentences


def read_jsonl(
    path: str | Path, key: str, tokens_field: str = "tokens", tags_field: str = "tags", tags_optional: bool = False
) -> list[Sentence]:
    """Sentences of a jsonl file (one ``{tokens_field: [...], tags_field: [...]}`` per line).

    Tokens and tags must be strings (tags such as ``"B-PER"``, not class ids); a row with no
    tokens is skipped. ``tags_optional`` (prediction inputs): a line without ``tags_field``
    gets ``O`` tags.
    """
    file, lines = read_text_lines(path, key)
    where = f"{file} (data.{key})"
    shape = f'one {{"{tokens_field}": [...], "{tags_field}": [...]}} object per line'
    sentences: list[Sentence] = []
    rows = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        rows += 1
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            hint = "fix the line"
            if rows == 1 and line.lstrip().startswith("["):
                hint = f"the file looks like one JSON array; write {shape} (jsonl)"
            elif rows == 1 and not line.lstrip().startswith("{"):
                hint = "fix the line, or set data.format=conll if the file is CoNLL columns"
            raise DataError(f"malformed JSON on line {number} of {where}: {exc.msg}; {hint}") from None
        if not isinstance(row, dict):
            raise DataError(f"line {number} of {where} is a JSON {_json_kind(row)}, not an object; write {shape}")
        if tags_optional and isinstance(row.get(tokens_field), list) and row.get(tags_field) is None:
            row = {**row, tags_field: ["O"] * len(row[tokens_field])}
        for field_key, field in (("tokens_field", tokens_field), ("tags_field", tags_field)):
            if not isinstance(row.get(field), list):
                found = f"its fields are {', '.join(map(str, row)) or 'none'}" if field not in row else f"'{field}' is not a list"
                raise DataError(f"line {number} of {where} has no list '{field}'; set data.{field_key}=<field> or fix the line ({found})")
        words, tags = row[tokens_field], row[tags_field]
        for kind, values in (("token", words), ("tag", tags)):
            for i, value in enumerate(values):
                if not isinstance(value, str):
                    kind_of = _json_kind(value)
                    what = "null" if value is None else f"the {kind_of} {json.dumps(value, ensure_ascii=False)[:30]}"
                    need = 'a tag name such as "B-PER" (convert class ids to their names)' if kind == "tag" else "a string"
                    raise DataError(f"{kind} {i + 1} on line {number} of {where} is {what}, not {need}; fix the line")
        if len(words) != len(tags):
            raise DataError(f"line {number} of {where} has {len(words)} tokens but {len(tags)} tags; give one tag per token")
        blank = next((i for i, w in enumerate(words) if not w.strip()), None)
        if blank is not None:
            raise DataError(f"token {blank + 1} on line {number} of {where} is empty; remove it (and its tag) or fix it")
        if words:
            sentences.append(([w.strip() for w in words], [t.strip() for t in tags], number))
    if not sentences:
        content = "every row has no tokens" if rows else "it is empty"
        raise DataError(f"{where} has no sentences ({content}); give {shape}")
    return sentences


def _json_kind(value: Any) -> str:
    """The JSON name of a parsed value's type: object, array, string, number, boolean, null."""
    if isinstance(value, bool):
        return "boolean"
    kinds = {dict: "object", list: "array", str: "string", int: "number", float: "number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _existing(path: str | Path, key: str) -> Path:
    file = Path(path)
    if split_archive_path(file):
        return file  # a zip member: local_data_file checks it is there
    if file.is_dir():
        raise DataError(f"data.{key}={file} is a directory; give a file with data.{key}=<file>")
    if not file.is_file():
        raise DataError(f"data file not found: {file} (data.{key}); fix the path with data.{key}=<file>")
    return file


def infer_ner_format(path: str, declared: Optional[str]) -> str:
    """``declared`` if given, else ``jsonl`` for .jsonl/.json files (also gzipped) and ``conll`` otherwise."""
    if declared:
        if declared not in ("conll", "jsonl"):
            raise ConfigError(f"data.format='{declared}' is not a NER format; use data.format=conll or data.format=jsonl")
        return declared
    suffixes = [s for s in Path(path).suffixes if s != ".gz"]
    return "jsonl" if suffixes and suffixes[-1] in (".jsonl", ".json") else "conll"


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
        self._origins: dict[int, tuple[dict, str, int, int]] = {}
        """``id(record)`` -> (record, file and key, line, line step per word) of the records read from files, for errors."""
        self._types_from = "data.entity_types"
        super().__init__(config)
        kept = {id(record) for records in self.splits.values() for record in records}
        self._origins = {k: v for k, v in self._origins.items() if k in kept}  # not the subsampled-away records

    def read_file(self, path: str, key: str, labelled: bool) -> list[dict[str, Any]]:
        """Sentences of a CoNLL or jsonl file (``data.format``), tags checked and decoded into spans.

        A tag outside ``data.tag_scheme`` is an error naming its line. An ``I-`` tag that begins
        an entity (after ``O`` or another type: IOB1-style data read as IOB2) is read the way
        IOB1 reads it, as the start of an entity, and a warning names the first one.
        """
        c = self.config
        conll = infer_ner_format(path, c.format) == "conll"
        if conll:
            sentences = read_conll(path, key, c.token_column, c.tag_column, c.column_separator, c.doc_start, tags_optional=not labelled)
        else:
            sentences = read_jsonl(path, key, c.tokens_field, c.tags_field, tags_optional=not labelled)
        scheme = self.tag_scheme
        where = f"{path} (data.{key})"
        records, strays, first_stray = [], 0, ""
        for words, tags, line in sentences:
            bad = invalid_tag(tags, scheme)
            if bad is not None:
                i = tags.index(bad)
                at = f"on line {line + i} ('{words[i]} {bad}')" if conll else f"tag {i + 1} (of the word '{words[i]}')"
                allowed = "/".join(p + "-TYPE" for p in ("B", "I", "E", "S") if scheme == "bioes" or p in "BI")
                raise DataError(
                    f"unknown tag '{bad}' in the sentence at line {line} of {where}, {at}; tags must be O or {allowed} "
                    f"({scheme.upper()}); fix the tag or set data.tag_scheme=iob1|iob2|bioes"
                    + ("" if labelled else " (inputs to predict need no tags: give only the words)")
                )
            stray = stray_inside(tags, scheme)
            if stray is not None:
                strays += 1
                if strays == 1:
                    before = f"after '{tags[stray - 1]}'" if stray else "at the start of the sentence"
                    first_stray = f"'{tags[stray]}' {before} on line {line + stray if conll else line}"
            record = {"words": words, "spans": tags_to_spans(tags, scheme)}
            self._origins[id(record)] = (record, where, line, 1 if conll else 0)
            records.append(record)
        if strays:
            log.warning(
                "%s: %d sentence(s) have an I- tag that begins an entity (first: %s), which %s does not allow; read leniently "
                "as IOB1 does: the tag begins a new entity. If the file is IOB1, set data.tag_scheme=iob1 (predictions are "
                "then written in IOB1 too)", where, strays, first_stray, scheme.upper(),
            )
        return records

    def demo_records(self, split: str, size: int, seed: int) -> list[dict[str, Any]]:
        """Generated news-like sentences (IOB2): English with PER/ORG/LOC/MISC, or Chinese tagged per character (``data.language=zh``)."""
        from glmtasks_ner.demo import LANGUAGES, generate_ner

        if self.config.language not in LANGUAGES:
            raise DataError(f"the demo set has no language '{self.config.language}'; use data.language={' or data.language='.join(LANGUAGES)}, or data.source=files")
        sentences = generate_ner(size, seed=seed, language=self.config.language)
        return [{"words": words, "spans": tags_to_spans(tags, "iob2")} for words, tags in sentences]

    def build_task_info(self) -> dict[str, Any]:
        """Labels of ``data.entity_types`` (else of the training data's types) in ``data.label_scheme``."""
        c = self.config
        labelled = self.splits.get("train") or self.splits.get("validation")
        if c.entity_types:
            types = [str(t).strip() for t in c.entity_types]
            repeated = sorted({t for t in types if types.count(t) > 1})
            if repeated or "" in types:
                problem = f"lists {', '.join(repeated)} more than once" if repeated else "has an empty type"
                raise ConfigError(f"data.entity_types={types} {problem}; list each entity type once")
            self._types_from = "data.entity_types"
        elif labelled is None:
            raise DataError("cannot tell the entity types without labelled data; list them with data.entity_types=[...]")
        else:
            types = sorted({t for record in labelled for t, _, _ in record["spans"]})
            if not types:
                origin = self._origin(labelled[0])
                where = f" in {origin[0]}" if origin else ""
                raise DataError(f"the training data{where} has no entities (every tag is O); check data.tag_column and data.tag_scheme")
            self._types_from = "the types of the training data"
        label_scheme = check_scheme(c.label_scheme)
        info = {"labels": label_names(types, label_scheme), "entity_types": types, "label_scheme": label_scheme, "tag_scheme": self.tag_scheme}
        if c.language == "zh":
            info["word_separator"] = ""  # one character per word: predictions show 张伟, not 张 伟
        self._built_task_info = info
        return info

    def check_records(self, split: str, records: list[dict[str, Any]]) -> None:
        """Every entity type of ``split`` must be one of ``task_info["entity_types"]``; the error names the first line with another."""
        types = list(self.task_info["entity_types"])
        known = set(types)
        unknown = sorted({t for record in records for t, _, _ in record["spans"]} - known)
        if not unknown:
            return
        first = ""
        for record in records:
            span = next((s for s in record["spans"] if s[0] not in known), None)
            origin = self._origin(record)
            if span is not None and origin is not None:
                where, line, step = origin
                first = f": first '{span[0]}' on line {line + step * span[1]} of {where}"
                break
        raise DataError(
            f"the {split} data has entity type(s) {', '.join(unknown)} that are not in {types} ({self._types_from}){first}; "
            "list every type in data.entity_types=[...] or fix the data"
        )

    def _origin(self, record: dict[str, Any]) -> Optional[tuple[str, int, int]]:
        """(file and key, line, line step per word) of a record read from a file, else None."""
        entry = self._origins.get(id(record))
        return entry[1:] if entry is not None and entry[0] is record else None

    def adopt_task_info(self, task_info: dict[str, Any]) -> None:
        """Encode labels the way a trained model knows them; predictions keep the data's tag scheme."""
        if task_info is not getattr(self, "_built_task_info", None):
            self._types_from = "the trained model's entity types"
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
        separator = self.task_info.get("word_separator", " ")
        return {"text": separator.join(words), "gold_tags": spans_to_tags(spans, len(words), self.tag_scheme), "gold_marked": mark_entities(words, spans, separator)}

    def collator(self, split: str) -> PadCollator:
        """Dynamic padding that keeps the per-word fields as lists."""
        return PadCollator(pad_id=self.tokenizer.pad_token_id, keep_lists=PER_SENTENCE_FIELDS, pad_to_multiple_of=self.config.pad_to_multiple_of)
