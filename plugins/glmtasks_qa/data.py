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
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from torch.utils.data import DataLoader, Sampler

from glmtasks.api import ConfigError, DataError, PadCollator, TaskDataModule, distributed_position, shard_bounds
from glmtasks_qa.config import QADataConfig

log = logging.getLogger(__name__)

TEXT_FIELDS = ("context", "answers")
"""Window fields that stay Python objects in a batch (not padded into tensors)."""
QUESTIONS_PER_DEMO_ARTICLE = 9
"""The fewest questions a generated demo article has (one paragraph, three people, three questions each)."""


# ---------------------------------------------------------------------------------------
# Reading SQuAD-format JSON.


def read_squad_file(path: str | Path, key: str) -> dict[str, Any]:
    """Parse a SQuAD-format JSON file (plain, gzip, or the single ``.json`` inside a zip)."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"data file not found: {file} (data.{key}); fix the path with data.{key}=<file>")
    try:
        if file.suffix == ".zip":
            with zipfile.ZipFile(file) as archive:
                members = [m for m in archive.namelist() if m.endswith(".json") and not m.startswith("__MACOSX")]
                if len(members) != 1:
                    raise DataError(f"{file} (data.{key}) must hold exactly one .json file, found {members or 'none'}")
                text = archive.read(members[0]).decode("utf-8")
        elif file.suffix == ".gz":
            text = gzip.decompress(file.read_bytes()).decode("utf-8")
        else:
            text = file.read_text(encoding="utf-8")
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"malformed JSON in {file} (data.{key}) at line {exc.lineno} column {exc.colno}: {exc.msg}; fix the file") from exc
    except (OSError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {file} (data.{key}): {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise DataError(f"{file} (data.{key}) is not SQuAD-format JSON: expected an object with a 'data' list of articles")
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


def flatten_questions(payload: dict[str, Any], articles: slice, where: str, require_answers: bool = True) -> list[dict[str, Any]]:
    """Every question of the selected articles as a record, in file order.

    Each answer's ``answer_start`` is located in the context (:func:`locate_answer`; -1 when
    the text is not there). ``require_answers=False`` (prediction inputs) accepts questions
    without ``answers``.
    """
    records: list[dict[str, Any]] = []
    selected = list(enumerate(payload["data"]))[articles]
    if not selected:
        raise DataError(f"no articles selected from {where}; it has {len(payload['data'])} articles, check the article slice")
    for a, article in selected:
        title = str(article.get("title", a)) if isinstance(article, dict) else str(a)
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise DataError(f"article {a} of {where} has no 'paragraphs' list; the file is not SQuAD format")
        for p, paragraph in enumerate(paragraphs):
            if not isinstance(paragraph.get("context"), str) or not isinstance(paragraph.get("qas"), list):
                raise DataError(f"paragraph {p} of article {a} in {where} needs a 'context' string and a 'qas' list")
            context = paragraph["context"]
            for q, qa in enumerate(paragraph["qas"]):
                if not require_answers and isinstance(qa, dict):
                    qa = {"answers": [], **qa}
                if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or not isinstance(qa.get("answers"), list):
                    raise DataError(f"question {q} of paragraph {p}, article {a} in {where} needs 'question' and 'answers'")
                texts, starts = [], []
                for answer in qa["answers"]:
                    if not isinstance(answer, dict) or not isinstance(answer.get("text"), str):
                        raise DataError(f"an answer of question {qa.get('id', q)} in {where} has no 'text'")
                    texts.append(answer["text"])
                    starts.append(locate_answer(context, answer["text"], answer.get("answer_start")))
                records.append({
                    "id": str(qa.get("id", f"{a}-{p}-{q}")), "title": title, "context": context, "question": qa["question"],
                    "answers": {"text": texts, "answer_start": starts},
                })
    if not records:
        raise DataError(f"{where} has no questions in the selected articles")
    return records


def locate_answer(context: str, text: str, start: Any) -> int:
    """Character start of ``text`` in ``context``: ``start`` if it matches, else the nearest occurrence, else -1."""
    if isinstance(start, int) and context[start : start + len(text)] == text:
        return start
    found, hits = context.find(text), []
    while found >= 0 and text:
        hits.append(found)
        found = context.find(text, found + 1)
    if not hits:
        return -1
    anchor = start if isinstance(start, int) else 0
    return min(hits, key=lambda h: abs(h - anchor))


def first_answer_chars(record: dict[str, Any]) -> tuple[int, int]:
    """``[start, end)`` characters of the record's first answer in its context; ``(-1, -1)`` when it has none or it is not found."""
    answers = record.get("answers") or {}
    texts, starts = answers.get("text") or [], answers.get("answer_start") or []
    if not texts:
        return -1, -1
    start = locate_answer(record["context"], texts[0], starts[0] if starts else None)
    return (start, start + len(texts[0])) if start >= 0 else (-1, -1)


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

    def __init__(self, pad_id: int):
        self.pad = PadCollator(pad_id=pad_id, padding_side="right")

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
        super().__init__(config)

    def read_file(self, path: str, key: str, labelled: bool) -> list[dict[str, Any]]:
        """The questions of a SQuAD-format JSON file, restricted to ``data.<split>_articles``."""
        slice_key = key.replace("_file", "_articles")
        articles = parse_article_slice(getattr(self.config, slice_key, None), slice_key)
        return flatten_questions(read_squad_file(path, key), articles, f"{path} (data.{key})", require_answers=labelled)

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
        """Every record needs ``context`` and ``question`` strings; unlocated training answers are logged."""
        for row, record in enumerate(records):
            answers = record.get("answers") or {}
            if not (isinstance(record.get("context"), str) and isinstance(record.get("question"), str) and isinstance(answers, dict)):
                raise DataError(
                    f"question {row + 1} of the {split} data needs a 'context' and a 'question' string and "
                    "'answers' as {'text': [...], 'answer_start': [...]} (the hub's squad schema)"
                )
        if split == "train":
            unlocated = sum(1 for r in records if (r.get("answers") or {}).get("text") and first_answer_chars(r)[0] < 0)
            if unlocated:
                log.warning("%d training answers are not found in their context; those questions train on the no-answer position", unlocated)

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
        return QACollator(self.tokenizer.pad_token_id)

    def predict_dataloader(self) -> DataLoader:
        """Windows of ``data.predict_file`` (else the test split), all windows of a question in one batch."""
        split = "predict" if "predict" in self.splits else "test"
        self.split_records(split)
        features = self.features[split]
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
