"""QA data: SQuAD-format questions cut into overlapping token windows.

Records: one per question, in the schema of the hub's ``squad`` dataset, ``{"id", "title",
"context", "question", "answers": {"text": [...], "answer_start": [...]}}``, so
``data.source=hub`` reads SQuAD-like hub datasets as they are. Files are SQuAD-format JSON
(plain, ``.gz`` or a ``.zip`` holding one ``.json``): ``{"data": [{"title", "paragraphs":
[{"context", "qas": [{"id", "question", "answers": [{"text", "answer_start"}]}]}]}]}``
(SQuAD v1.1, CMRC 2018). A file's articles can be selected by a slice
(``data.train_articles="0:40"``), so one file gives a training and an evaluation split with
no paragraph in both (``data.validation_size`` would hold out questions, whose paragraphs
then appear in both splits).

Reading is strict about structure and lenient where the SQuAD tooling is: UTF-8 (with or
without a byte-order mark), UTF-16 and UTF-32 files are read; an ``answer_start`` that misses
its text by a few characters is moved to the text (counted in a warning); unanswerable
questions (SQuAD 2.0) have ``"answers": []``, or ``"is_impossible": true`` with no or empty
answers; ``data`` may also hold flat records in the hub's schema (the JSON layout of Hugging
Face's ``run_qa`` example). Anything else that does not fit (non-UTF-8 bytes, truncated JSON,
a paragraph without a context string, a duplicated question id...) stops with one line naming
the file, the article, paragraph and question, and the fix. A question with an empty text or
context, or whose answers are none of them in its context, is an invalid row: an error, or
dropped and counted with ``data.invalid_rows=skip`` (training it on the "no answer" position
would teach the model that an answerable question has none).

Windowing: each question is encoded as ``question + context`` pairs by the backbone's fast
tokenizer, the context cut into windows of at most ``max_length`` tokens that overlap by
``doc_stride`` tokens. Each window keeps the character offsets of its context tokens, so a
predicted token span maps back to an exact substring of the original context. A window
that does not contain the whole (first) reference answer, and every window of an
unanswerable question, is labelled with the "no answer" position: the classifier token when
the tokenizer puts one first (BERT's ``[CLS]``), else the window's last token (for a causal
GLM only the last token sees the whole window).

Batches carry, besides the padded tensors, the plain-text fields ``context`` and
``answers`` of each window; heads use them to turn spans into text and metrics to score it
against every reference answer. Prediction batches never split a question's windows
(:class:`QuestionBatchSampler`), so the head can rank answers over all of them.
"""

from __future__ import annotations

import gzip
import json
import logging
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from torch.utils.data import DataLoader, Sampler

from glmtasks.api import ConfigError, DataError, PadCollator, TaskDataModule, distributed_position, local_data_file, shard_bounds
from glmtasks_qa.config import QADataConfig

log = logging.getLogger(__name__)

TEXT_FIELDS = ("context", "answers")
"""Window fields that stay Python objects in a batch (not padded into tensors)."""
QUESTIONS_PER_DEMO_ARTICLE = 9
"""The fewest questions a generated demo article has (one paragraph, three people, three questions each)."""


# ---------------------------------------------------------------------------------------
# Reading SQuAD-format JSON.


def read_squad_file(path: str | Path, key: str) -> dict[str, Any]:
    """Parse a SQuAD-format JSON file (plain, gzip, the single ``.json`` inside a zip, or a named zip member ``archive.zip/dev.json``).

    UTF-8 (with or without a byte-order mark), UTF-16 and UTF-32 text are read; anything
    unreadable (non-UTF-8 bytes, a damaged archive, malformed or truncated JSON, a top level
    that is not ``{"data": [...]}``) is a one-line :class:`DataError` naming the file, where
    in it, and the fix.
    """
    where = f"{path} (data.{key})"
    file = local_data_file(path, key)
    if not file.is_file():
        raise DataError(f"data file not found: {path} (data.{key}); fix the path with data.{key}=<file>")
    try:
        if file.suffix == ".zip":
            with zipfile.ZipFile(file) as archive:
                members = [m for m in archive.namelist() if m.endswith(".json") and not m.startswith("__MACOSX")]
                if len(members) != 1:
                    raise DataError(f"{where} must hold exactly one .json file, found {members or 'none'}; put one SQuAD-format JSON file in the zip")
                data = archive.read(members[0])
        elif file.suffix == ".gz":
            data = gzip.decompress(file.read_bytes())
        else:
            data = file.read_bytes()
    except (OSError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile, zlib.error) as exc:
        kind = {".zip": "zip archive", ".gz": "gzip file"}.get(file.suffix, "file")
        raise DataError(f"cannot read {where}: {_one_line(exc)}; give a complete, readable {kind}") from exc
    if not data.strip():
        raise DataError(f"{where} is empty; give a SQuAD-format JSON file ({{\"data\": [articles]}})")
    encoding = json.detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise DataError(
            f"{where} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} column {column} ({exc.reason}); "
            "save the file as UTF-8"
        ) from exc
    text = text.lstrip("\ufeff")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = ""
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            hint = " (the file ends before the JSON does: is it truncated?)"
        elif exc.msg == "Extra data":
            hint = " (more than one JSON value: JSON lines? task=qa reads one SQuAD-format JSON object)"
        raise DataError(f"malformed JSON in {where} at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}; fix the file") from exc
    except RecursionError as exc:
        raise DataError(f"malformed JSON in {where}: values nested too deeply; fix the file") from exc
    if not isinstance(payload, dict) or "data" not in payload:
        found = f"an object with keys {sorted(payload)[:5]}" if isinstance(payload, dict) else _kind(payload)
        raise DataError(
            f"{where} is not SQuAD-format JSON: expected an object with a 'data' list of articles, found {found}; "
            "write it as {\"data\": [{\"title\", \"paragraphs\": [{\"context\", \"qas\"}]}]}"
        )
    if not isinstance(payload["data"], list):
        raise DataError(f"'data' of {where} is {_kind(payload['data'])}, not a list of articles; write it as \"data\": [{{\"title\", \"paragraphs\"}}, ...]")
    return payload


def parse_article_slice(spec: Optional[str], key: str) -> slice:
    """``"0:40"`` -> ``slice(0, 40)``; None -> all articles; anything else is a ConfigError."""
    if spec is None or str(spec).strip() == "":
        return slice(None)
    parts = str(spec).split(":")
    try:
        if len(parts) != 2:
            raise ValueError(spec)
        start, stop = (int(p) if p.strip() else None for p in parts)
    except ValueError as exc:
        raise ConfigError(f"data.{key}={spec!r} is not a slice of article positions; write it like data.{key}='0:40'") from exc
    return slice(start, stop)


def flatten_questions(
    payload: dict[str, Any], articles: slice, where: str, require_answers: bool = True, origins: Optional[dict[int, str]] = None
) -> list[dict[str, Any]]:
    """Every question of the selected articles as a record, in file order.

    Each answer's ``answer_start`` is located in the context (:func:`locate_answer`; -1 when
    the text is not there); answers whose ``answer_start`` missed their text by a few
    characters are read at the text and counted in a warning. ``require_answers=False``
    (prediction inputs) accepts questions without ``answers``. Unanswerable questions (SQuAD
    2.0) have ``"answers": []``, or ``"is_impossible": true`` with no or empty answers.
    Besides nested SQuAD articles, ``data`` may hold flat records in the hub's squad schema
    (the JSON layout of the Hugging Face ``run_qa`` example).

    A file that does not fit the schema (a paragraph without a context string, a question
    without text or answers, a duplicated question id...) is a :class:`DataError` naming the
    article, paragraph and question. ``origins``, when given, receives the location of each
    record (by ``id(record)``), for the messages of :meth:`QADataModule.record_problem`.
    """
    data = payload["data"]
    if not data:
        raise DataError(f"{where} has no articles: its 'data' list is empty; give a file with questions")
    selected = list(enumerate(data))[articles]
    if not selected:
        raise DataError(f"no articles selected from {where}; it has {len(data)} articles, check the article slice (data.*_articles)")
    records: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    shifts: list[int] = []
    for a, article in selected:
        if not isinstance(article, dict):
            raise DataError(f"article {a} of {where} is {_kind(article)}, not an object with 'title' and 'paragraphs'; fix the file")
        title = str(article.get("title", a))
        paragraphs = article.get("paragraphs")
        flat = paragraphs is None and "context" in article and "question" in article
        if flat:
            paragraphs = [{"context": article["context"], "qas": [_nested_answers(article, f"record {a} of {where}")]}]
        if not isinstance(paragraphs, list):
            raise DataError(
                f"article {a} of {where} has no 'paragraphs' list; the file is not SQuAD format: "
                "each article needs \"paragraphs\": [{\"context\", \"qas\"}]"
            )
        for p, paragraph in enumerate(paragraphs):
            at = f"record {a} of {where}" if flat else f"paragraph {p} of article {a} in {where}"
            if not isinstance(paragraph, dict):
                raise DataError(f"{at} is {_kind(paragraph)}; it needs a 'context' string and a 'qas' list")
            context, qas = paragraph.get("context"), paragraph.get("qas")
            if flat and not isinstance(context, str):
                raise DataError(f"{at} needs a 'context' string, but it is {_kind(context)}; fix the record")
            if not isinstance(context, str) or not isinstance(qas, list):
                found = f"its context is {_kind(context)}" if not isinstance(context, str) else f"its qas is {_kind(qas)}"
                raise DataError(f"{at} needs a 'context' string and a 'qas' list, but {found}; fix the paragraph")
            for q, qa in enumerate(qas):
                position = f"record {a} of 'data'" if flat else f"article {a}, paragraph {p}, question {q}"
                if not isinstance(qa, dict):
                    raise DataError(f"question {q} of paragraph {p}, article {a} in {where} is {_kind(qa)}; it needs 'id', 'question' and 'answers'")
                qid = qa.get("id")
                qid = f"{a}-{p}-{q}" if qid is None or str(qid).strip() == "" else str(qid)
                loc = f"question {_show(qid)} ({position}) of {where}"
                if qid in seen:
                    raise DataError(f"question id {_show(qid)} appears twice in {where}: {seen[qid]} and {position}; give every question its own id")
                seen[qid] = position
                if not isinstance(qa.get("question"), str):
                    raise DataError(f"{loc} needs a 'question' string, but it is {_kind(qa.get('question'))}; give the question's text")
                impossible = qa.get("is_impossible") is True
                answers = qa.get("answers")
                if answers is None and (impossible or not require_answers):
                    answers = []
                if not isinstance(answers, list):
                    raise DataError(
                        f"{loc} needs an 'answers' list, but it is {_kind(answers)}; give [{{\"text\", \"answer_start\"}}] "
                        "(or [] with \"is_impossible\": true when it has no answer; questions to answer go in data.predict_file)"
                    )
                texts, starts = [], []
                for n, answer in enumerate(answers):
                    if not isinstance(answer, dict):
                        raise DataError(f"answer {n} of {loc} is {_kind(answer)}, not an object {{\"text\", \"answer_start\"}}; fix the answer")
                    if not isinstance(answer.get("text"), str):
                        raise DataError(f"answer {n} of {loc} needs a 'text' string, but it is {_kind(answer.get('text'))}; fix the answer")
                    if not answer["text"].strip():
                        if impossible:
                            continue  # SQuAD 2.0 variants spell "no answer" as {"text": "", "answer_start": -1}
                        raise DataError(
                            f"answer {n} of {loc} has empty text; give the answer's text, or mark the question unanswerable "
                            "with \"is_impossible\": true and \"answers\": []"
                        )
                    given = _as_start(answer.get("answer_start"))
                    if given is not None and given < 0:
                        given = None  # -1 means "unknown" in SQuAD 2.0 variants; never a position from the end
                    start = locate_answer(context, answer["text"], given)
                    if start >= 0 and given is not None and start != given:
                        shifts.append(abs(start - given))
                    texts.append(answer["text"])
                    starts.append(start)
                if impossible and texts:
                    raise DataError(f"{loc} is marked \"is_impossible\": true but has answers; remove its answers or set \"is_impossible\": false")
                record = {
                    "id": qid, "title": title, "context": context, "question": qa["question"],
                    "answers": {"text": texts, "answer_start": starts},
                }
                records.append(record)
                if origins is not None:
                    origins[id(record)] = position
    if not records:
        raise DataError(f"{where} has no questions in the selected articles; give paragraphs with 'qas'")
    if shifts:
        log.warning(
            "%d answers of %s do not start at their answer_start; read where their text is (at most %d character%s away)",
            len(shifts), where, max(shifts), "" if max(shifts) == 1 else "s",
        )
    return records


def _nested_answers(record: dict[str, Any], where: str) -> dict[str, Any]:
    """A flat record (the hub's squad schema) as a SQuAD question: ``answers`` as a list of ``{"text", "answer_start"}``."""
    answers = record.get("answers")
    if isinstance(answers, dict):
        texts, starts = answers.get("text"), answers.get("answer_start", [])
        if not isinstance(texts, list) or not isinstance(starts, list) or (starts and len(starts) != len(texts)):
            raise DataError(f"{where} has 'answers' that are not {{\"text\": [...], \"answer_start\": [...]}} lists of one length; fix the record")
        answers = [{"text": t, "answer_start": s} for t, s in zip(texts, starts or [None] * len(texts))]
    return {**record, "answers": answers} if answers is not None else dict(record)


def _as_start(value: Any) -> Optional[int]:
    """An ``answer_start`` as an int (``12``, ``12.0``, ``"12"``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _kind(value: Any) -> str:
    """What a JSON value is, for messages ("a string", "null", "missing"...)."""
    if value is None:
        return "null or missing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: Any, limit: int = 60) -> str:
    """``value`` quoted on one line, cut to ``limit`` characters (ids and texts in messages)."""
    text = repr(str(value))
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def locate_answer(context: str, text: str, start: Any) -> int:
    """Character start of ``text`` in ``context``: ``start`` if it matches, else the nearest occurrence, else -1."""
    start = _as_start(start)
    if not text:
        return -1
    if start is not None and start >= 0 and context[start : start + len(text)] == text:
        return start
    found, hits = context.find(text), []
    while found >= 0:
        hits.append(found)
        found = context.find(text, found + 1)
    if not hits:
        return -1
    anchor = start if start is not None else 0
    return min(hits, key=lambda h: abs(h - anchor))


def first_answer_chars(record: dict[str, Any]) -> tuple[int, int]:
    """``[start, end)`` characters of the record's first answer found in its context; ``(-1, -1)`` when none is."""
    answers = record.get("answers") or {}
    texts, starts = answers.get("text") or [], answers.get("answer_start") or []
    for n, text in enumerate(texts):
        if isinstance(text, str) and text.strip():
            start = locate_answer(record["context"], text, starts[n] if n < len(starts) else None)
            if start >= 0:
                return start, start + len(text)
    return -1, -1


# ---------------------------------------------------------------------------------------
# Windows and answer positions.


def answer_token_span(
    offsets: Sequence[Sequence[int]], context_mask: Sequence[int], start_char: int, end_char: int, null_index: int
) -> tuple[int, int]:
    """Token positions of the answer ``[start_char, end_char)`` inside one window.

    Args:
        offsets: ``(start, end)`` character offsets of every token of the window.
        context_mask: 1 for tokens of the context, 0 for question, special and empty tokens.
        start_char, end_char: the answer's characters in the context (end exclusive).
        null_index: the position that stands for "the answer is not in this window".

    Returns ``(start_token, end_token)`` (inclusive), or ``(null_index, null_index)`` when the
    answer is unknown (``start_char < 0``) or not entirely inside the window's context.
    """
    positions = [i for i, m in enumerate(context_mask) if m]
    if start_char < 0 or not positions:
        return null_index, null_index
    if offsets[positions[0]][0] > start_char or offsets[positions[-1]][1] < end_char:
        return null_index, null_index
    start = next(i for i in positions if offsets[i][1] > start_char)
    end = next(i for i in reversed(positions) if offsets[i][0] < end_char)
    if end < start:
        return null_index, null_index
    return start, end


def encode_windows(tokenizer: Any, records: Sequence[dict[str, Any]], max_length: int, doc_stride: int, max_query_length: int) -> list[list[dict[str, Any]]]:
    """Cut every record into overlapping windows: for each record, the feature dicts of its windows.

    Each feature has the model inputs, ``context_mask``, ``offset_start``/``offset_end``
    (character offsets, 0 outside the context), ``start_positions``/``end_positions`` of
    the first reference answer (the null position when it is not in the window or there is
    none) and the text fields ``context`` and ``answers`` (the reference texts).
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError("task=qa needs a fast tokenizer (character offsets); choose a backbone whose tokenizer is fast")
    encoded = tokenizer(
        [truncate_question(tokenizer, r["question"], max_query_length) for r in records],
        [r["context"] for r in records],
        truncation="only_second",
        max_length=max_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    windows: list[list[dict[str, Any]]] = [[] for _ in records]
    for w, ids in enumerate(encoded["input_ids"]):
        r = encoded["overflow_to_sample_mapping"][w]
        record = records[r]
        sequence_ids = encoded.sequence_ids(w)
        offsets = [_trim_space(record["context"], o) if s == 1 else o for o, s in zip(encoded["offset_mapping"][w], sequence_ids)]
        mask = [int(s == 1 and offsets[t][1] > offsets[t][0]) for t, s in enumerate(sequence_ids)]
        null = 0 if tokenizer.cls_token_id is not None and ids[0] == tokenizer.cls_token_id else len(ids) - 1
        start, end = answer_token_span(offsets, mask, *first_answer_chars(record), null)
        feature = {
            "input_ids": ids,
            "attention_mask": encoded["attention_mask"][w],
            "context_mask": mask,
            "offset_start": [o[0] if m else 0 for o, m in zip(offsets, mask)],
            "offset_end": [o[1] if m else 0 for o, m in zip(offsets, mask)],
            "start_positions": start,
            "end_positions": end,
            "context": record["context"],
            "answers": list((record.get("answers") or {}).get("text") or []),
        }
        if "token_type_ids" in encoded:
            feature["token_type_ids"] = encoded["token_type_ids"][w]
        windows[r].append(feature)
    return windows


def _trim_space(text: str, offset: Sequence[int]) -> tuple[int, int]:
    """``offset`` without leading white space (byte-level BPE tokens may start with the space)."""
    start, end = offset
    while start < end and text[start].isspace():
        start += 1
    return start, end


def truncate_question(tokenizer: Any, question: str, max_tokens: int) -> str:
    """``question`` cut after its first ``max_tokens`` tokens (by character offset), stripped."""
    question = question.strip()
    encoded = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoded["offset_mapping"]
    if len(offsets) <= max_tokens:
        return question
    return question[: offsets[max_tokens - 1][1]]


def spaced_cjk(text: str) -> str:
    """``text`` with spaces around CJK characters.

    Fed to the byte-level BPE trainer of from-scratch backbones so it learns no merges across
    Chinese characters: every character stays a token boundary, so answers (which start and
    end between characters) stay reachable as token spans.
    """
    return "".join(f" {ch} " if _is_cjk(ch) else ch for ch in text)


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF


# ---------------------------------------------------------------------------------------
# Batching.


class QACollator:
    """Pads the tensor fields of windows (:class:`glmtasks.api.PadCollator`) and keeps the
    text fields (``context``, ``answers``) as plain lists, even when no window has an answer."""

    def __init__(self, pad_id: int, pad_to_multiple_of: Optional[int] = None):
        self.pad = PadCollator(pad_id=pad_id, padding_side="right", pad_to_multiple_of=pad_to_multiple_of)

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = self.pad([{k: v for k, v in f.items() if k not in TEXT_FIELDS} for f in features])
        for key in TEXT_FIELDS:
            batch[key] = [f[key] for f in features]
        return batch


class QuestionBatchSampler(Sampler[list[int]]):
    """Prediction batches that never split a question's windows (so the head can pick the
    best span across them); questions are sharded across ranks, each exactly once."""

    def __init__(self, question_of_window: Sequence[int], max_windows: int, rank: int = 0, world_size: int = 1):
        groups: list[list[int]] = []
        for w, q in enumerate(question_of_window):
            if groups and question_of_window[groups[-1][0]] == q:
                groups[-1].append(w)
            else:
                groups.append([w])
        start, end = shard_bounds(len(groups), rank, world_size)
        self.batches: list[list[int]] = []
        for group in groups[start:end]:
            if self.batches and len(self.batches[-1]) + len(group) <= max_windows:
                self.batches[-1].extend(group)
            else:
                self.batches.append(list(group))

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


# ---------------------------------------------------------------------------------------
# The datamodule.


class QADataModule(TaskDataModule):
    """Questions from SQuAD-format JSON, a SQuAD-like hub dataset or the demo generator, cut into windows.

    ``task_info`` is ``{"language": "en" | "zh"}`` (which answer normalization the metric uses).
    """

    config: QADataConfig

    def __init__(self, config: QADataConfig):
        _check_config(config)
        self.origins: dict[int, str] = {}
        """``id(record)`` -> where in its file a record is ("article 3, paragraph 0, question 2"), for messages."""
        super().__init__(config)

    def read_file(self, path: str, key: str, labelled: bool) -> list[dict[str, Any]]:
        """The questions of a SQuAD-format JSON file, restricted to ``data.<split>_articles``."""
        slice_key = key.replace("_file", "_articles")
        articles = parse_article_slice(getattr(self.config, slice_key, None), slice_key)
        return flatten_questions(read_squad_file(path, key), articles, f"{path} (data.{key})", require_answers=labelled, origins=self.origins)

    def record_problem(self, record: dict[str, Any], labelled: bool) -> Optional[str]:
        """An empty question or context, or (``labelled``) answers none of which is in the context.

        A training question whose answer is not in its context cannot be labelled with a span;
        training it on the "no answer" position would teach the model that an answerable
        question has no answer, so it is an error by default (``data.invalid_rows=skip``
        drops it instead). A question with ``answers: []`` is unanswerable and fine.
        """
        answers = record.get("answers")
        if not (isinstance(record.get("context"), str) and isinstance(record.get("question"), str) and isinstance(answers, dict)):
            return None  # the schema is check_records' (one message for every source)
        origin = self.origins.get(id(record))
        where = f"question {_show(record.get('id'))}" + (f" ({origin})" if origin else "")
        if not record["question"].strip():
            return f"{where} has an empty question text"
        if not record["context"].strip():
            return f"{where} has an empty context"
        texts = [t for t in answers.get("text") or [] if isinstance(t, str) and t.strip()]
        if labelled and texts and first_answer_chars(record)[0] < 0:
            return f"{where} has no answer found in its context (answer text {_show(texts[0])})"
        return None

    def demo_records(self, split: str, size: int, seed: int) -> list[dict[str, Any]]:
        """The first ``size`` questions of generated biography articles (``data.language``)."""
        from glmtasks_qa.demo import generate_squad

        articles = -(-size // QUESTIONS_PER_DEMO_ARTICLE)
        payload = generate_squad(articles, seed=seed, language=self.config.language)
        return flatten_questions(payload, slice(None), f"demo {split} data")[:size]

    def build_task_info(self) -> dict[str, Any]:
        return {"language": self.config.language}

    def adopt_task_info(self, task_info: dict[str, Any]) -> None:
        """Score with the answer normalization the model was trained with (``language``)."""
        super().adopt_task_info({"language": self.config.language, **task_info})

    def check_records(self, split: str, records: list[dict[str, Any]]) -> None:
        """Every record needs ``context`` and ``question`` strings and ``answers`` in the hub's squad schema."""
        for row, record in enumerate(records):
            answers = record.get("answers") or {}
            if not (isinstance(record.get("context"), str) and isinstance(record.get("question"), str) and isinstance(answers, dict)):
                raise DataError(
                    f"question {row + 1} of the {split} data needs a 'context' and a 'question' string and "
                    "'answers' as {'text': [...], 'answer_start': [...]} (the hub's squad schema)"
                )

    def training_texts(self) -> Iterator[str]:
        """Training contexts (each once) and questions, CJK characters spaced (see :func:`spaced_cjk`)."""
        seen: set[str] = set()
        for record in self.split_records("train"):
            if record["context"] not in seen:
                seen.add(record["context"])
                yield spaced_cjk(record["context"])
            yield spaced_cjk(record["question"])

    def encode_batch(self, records: list[dict[str, Any]], split: str) -> list[list[dict[str, Any]]]:
        c = self.config
        return encode_windows(self.tokenizer, records, c.max_length, c.doc_stride, c.max_query_length)

    def describe(self, record: dict[str, Any], split: str) -> dict[str, Any]:
        """Id, title, question, context and reference answer texts."""
        answers = list((record.get("answers") or {}).get("text") or [])
        return {"id": record.get("id"), "title": record.get("title"), "question": record["question"], "context": record["context"], "answers": answers}

    def collator(self, split: str) -> QACollator:
        return QACollator(self.tokenizer.pad_token_id, self.config.pad_to_multiple_of)

    def predict_dataloader(self) -> DataLoader:
        """Windows of ``data.predict_file`` (else the test split), all windows of a question in one batch."""
        split = "predict" if "predict" in self.splits else "test"
        features = self.split_features(split)
        rank, world_size = distributed_position(self.trainer)
        sampler = QuestionBatchSampler([f["index"] for f in features], self.config.eval_batch_size, rank, world_size)
        return DataLoader(features, batch_sampler=sampler, collate_fn=self.collator(split), num_workers=self.config.num_workers)


def _check_config(c: QADataConfig) -> None:
    if c.language not in ("en", "zh"):
        raise ConfigError(f"data.language='{c.language}' is not supported; use data.language=en or data.language=zh")
    room = c.max_length - c.max_query_length - 4
    if room < 16:
        raise ConfigError(
            f"data.max_length={c.max_length} leaves {room} context tokens after data.max_query_length={c.max_query_length}; "
            "raise data.max_length or lower data.max_query_length"
        )
    if not 0 <= c.doc_stride < room:
        raise ConfigError(f"data.doc_stride={c.doc_stride} must be >= 0 and below the {room} context tokens of a window; lower data.doc_stride")
