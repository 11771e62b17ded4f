"""QA data: SQuAD-format JSON (plain, .gz or .zip) read into questions, then cut into token windows.

Reading: ``{"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
"answers": [{"text", "answer_start"}]}]}]}]}`` (SQuAD v1.1, CMRC 2018). Articles can be
selected by a slice (``data.train_articles="0:40"``), so one file can give a training and an
evaluation split with no paragraph in both.

Windowing: each question is encoded as ``question + context`` pairs by the backbone's fast
tokenizer, the context cut into windows of at most ``max_length`` tokens that overlap by
``doc_stride`` tokens. Each window keeps the character offsets of its context tokens, so
a predicted token span maps back to an exact substring of the original context. A
window that does not contain the whole (first) reference answer is labelled with the
"no answer" position: the classifier token when the tokenizer puts one first (BERT's
``[CLS]``), else the window's last token (for a causal GLM only the last token sees the
whole window).

Batches carry, besides the padded tensors, the plain-text fields ``context`` and
``answers`` of each window; heads use them to turn spans into text and metrics to score
it against every reference answer.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import lightning as L
import torch
from torch.utils.data import DataLoader, Sampler

from glmtasks.data import BatchingConfig, PadCollator, compute_once, distributed_position, eval_loader, shard_bounds, train_loader
from glmtasks.errors import ConfigError, DataError
from glmtasks.specs import TaskSpec

log = logging.getLogger(__name__)

SPLIT_KEYS = {"train": "train_file", "validation": "validation_file", "test": "test_file"}
TEXT_FIELDS = ("context", "answers")
"""Window fields that stay Python objects in a batch (not padded into tensors)."""


@dataclass
class QADataConfig(BatchingConfig):
    """The ``data:`` section of ``task=qa``."""

    max_length: int = 384
    """Tokens per window (question, context part and special tokens)."""
    doc_stride: int = 128
    """Tokens shared by consecutive windows of a long context."""
    max_query_length: int = 64
    """Question tokens kept (longer questions are cut)."""
    source: str = "files"
    """``files`` (``*_file`` keys) or ``demo`` (generated fact paragraphs)."""
    train_file: Optional[str] = None
    """SQuAD-format JSON (``.json``, ``.json.gz`` or a ``.zip`` holding one ``.json``)."""
    validation_file: Optional[str] = None
    test_file: Optional[str] = None
    """Test split file; when unset, test metrics and predictions use the validation split."""
    train_articles: Optional[str] = None
    """Articles of ``train_file`` to use, as a Python slice of article positions (``"0:40"``); default all."""
    validation_articles: Optional[str] = None
    """Articles of ``validation_file`` to use (``"40:48"``); default all."""
    test_articles: Optional[str] = None
    """Articles of ``test_file`` to use; default all."""
    language: str = "en"
    """``en`` (official SQuAD answer normalization) or ``zh`` (CMRC 2018 normalization, character F1); also the demo's language."""
    demo_train_articles: int = 40
    """Generated articles (about 20 questions each) for ``source=demo`` training."""
    demo_eval_articles: int = 8
    """Generated articles for ``source=demo`` validation and test."""


@dataclass
class QAExample:
    """One question about one context, with every reference answer."""

    id: str
    title: str
    context: str
    question: str
    answers: list[str]
    answer_starts: list[int]


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


def flatten_questions(payload: dict[str, Any], articles: slice, where: str, require_answers: bool = True) -> list[QAExample]:
    """Every question of the selected articles, in file order, with its context and answers.

    ``require_answers=False`` (prediction inputs) accepts questions without ``answers``.
    """
    examples: list[QAExample] = []
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
                examples.append(QAExample(str(qa.get("id", f"{a}-{p}-{q}")), title, context, qa["question"], texts, starts))
    if not examples:
        raise DataError(f"{where} has no questions in the selected articles")
    return examples


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


def encode_windows(
    tokenizer: Any,
    examples: Sequence[QAExample],
    max_length: int,
    doc_stride: int,
    max_query_length: int,
    chunk: int = 256,
) -> list[dict[str, Any]]:
    """Cut every example into overlapping windows; one feature dict per window, in example order.

    Each feature has the model inputs, ``context_mask``, ``offset_start``/``offset_end``
    (character offsets, 0 outside the context), ``start_positions``/``end_positions`` of
    the first reference answer (the null position when it is not in the window),
    ``index`` (the example's position) and the text fields ``context`` and ``answers``.
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError("task=qa needs a fast tokenizer (character offsets); choose a backbone whose tokenizer is fast")
    features: list[dict[str, Any]] = []
    for begin in range(0, len(examples), chunk):
        batch = examples[begin : begin + chunk]
        questions = [truncate_question(tokenizer, ex.question, max_query_length) for ex in batch]
        encoded = tokenizer(
            questions,
            [ex.context for ex in batch],
            truncation="only_second",
            max_length=max_length,
            stride=doc_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        for w, ids in enumerate(encoded["input_ids"]):
            local = encoded["overflow_to_sample_mapping"][w]
            example = batch[local]
            sequence_ids = encoded.sequence_ids(w)
            offsets = [_trim_space(example.context, o) if s == 1 else o for o, s in zip(encoded["offset_mapping"][w], sequence_ids)]
            mask = [int(s == 1 and offsets[t][1] > offsets[t][0]) for t, s in enumerate(sequence_ids)]
            null = 0 if tokenizer.cls_token_id is not None and ids[0] == tokenizer.cls_token_id else len(ids) - 1
            first_start = example.answer_starts[0] if example.answers else -1
            first_end = first_start + len(example.answers[0]) if example.answers else -1
            start, end = answer_token_span(offsets, mask, first_start, first_end, null)
            feature = {
                "input_ids": ids,
                "attention_mask": encoded["attention_mask"][w],
                "context_mask": mask,
                "offset_start": [o[0] if m else 0 for o, m in zip(offsets, mask)],
                "offset_end": [o[1] if m else 0 for o, m in zip(offsets, mask)],
                "start_positions": start,
                "end_positions": end,
                "index": begin + local,
                "context": example.context,
                "answers": example.answers,
            }
            if "token_type_ids" in encoded:
                feature["token_type_ids"] = encoded["token_type_ids"][w]
            features.append(feature)
    return features


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
    """Pads the tensor fields of windows (via :class:`glmtasks.data.PadCollator`) and keeps
    the text fields (``context``, ``answers``) as plain lists."""

    def __init__(self, pad_id: int):
        self.pad = PadCollator(pad_id=pad_id, padding_side="right")

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        tensors = [{k: v for k, v in f.items() if k not in TEXT_FIELDS} for f in features]
        batch: dict[str, Any] = self.pad(tensors)
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


class QADataModule(L.LightningDataModule):
    """Reads questions when constructed (data errors surface before a model is built),
    cuts them into windows once in ``setup``, and batches windows with dynamic padding.

    ``task_info`` is ``{"language": "en" | "zh"}`` (which answer normalization the metric uses).
    """

    def __init__(self, config: QADataConfig, task: TaskSpec):
        super().__init__()
        self.config = config
        self.task = task
        _check_config(config)
        self.examples = self._load()
        self.task_info = {"language": config.language}
        self.tokenizer: Any = None
        self.features: dict[str, list[dict[str, Any]]] = {}

    def _load(self) -> dict[str, list[QAExample]]:
        c = self.config
        if c.source == "demo":
            from glmtasks_qa.demo import generate_squad

            sizes = {"train": c.demo_train_articles, "validation": c.demo_eval_articles, "test": c.demo_eval_articles}
            splits = {
                split: flatten_questions(generate_squad(n, seed=c.seed * 1000 + i, language=c.language), slice(None), f"demo {split} data")
                for i, (split, n) in enumerate(sizes.items())
            }
        elif c.source == "files":
            for split in ("train", "validation"):
                if not getattr(c, SPLIT_KEYS[split]):
                    key = SPLIT_KEYS[split]
                    raise DataError(f"data.{key} is not set; give a SQuAD-format JSON file with data.{key}=<path>")
            payloads: dict[str, dict] = {}
            splits = {}
            for split, key in SPLIT_KEYS.items():
                path = getattr(c, key)
                if not path:
                    continue
                if path not in payloads:
                    payloads[path] = read_squad_file(path, key)
                articles = parse_article_slice(getattr(c, f"{split}_articles"), f"{split}_articles")
                splits[split] = flatten_questions(payloads[path], articles, f"{path} (data.{key})")
        else:
            raise DataError(f"unknown data.source '{c.source}'; use files or demo")
        if c.max_train_samples:
            random.Random(c.seed).shuffle(splits["train"])
            splits["train"] = splits["train"][: c.max_train_samples]
        if c.max_eval_samples:
            for split in ("validation", "test"):
                if split in splits:
                    splits[split] = splits[split][: c.max_eval_samples]
        splits.setdefault("test", splits["validation"])
        predict_file = getattr(c, "predict_file", None)
        if predict_file:
            splits["predict"] = flatten_questions(read_squad_file(predict_file, "predict_file"), slice(None), f"{predict_file} (data.predict_file)", require_answers=False)
        unlocated = sum(1 for ex in splits["train"] if ex.answers and ex.answer_starts[0] < 0)
        if unlocated:
            log.warning("%d training answers are not found in their context; those questions train on the no-answer position", unlocated)
        return splits

    # -- the protocol the core uses -------------------------------------------------------
    def training_texts(self) -> Iterator[str]:
        """Training contexts (each once) and questions, CJK characters spaced (see :func:`spaced_cjk`)."""
        seen: set[str] = set()
        for example in self.examples["train"]:
            if example.context not in seen:
                seen.add(example.context)
                yield spaced_cjk(example.context)
            yield spaced_cjk(example.question)

    def adopt_task_info(self, task_info: dict[str, Any]) -> None:
        """Score with the answer normalization the model was trained with (``language``)."""
        self.task_info = {**self.task_info, "language": task_info.get("language", self.config.language)}

    def set_tokenizer(self, tokenizer: Any) -> None:
        """Use ``tokenizer`` (a fast tokenizer) to cut questions into windows in ``setup``."""
        self.tokenizer = tokenizer

    def example_record(self, split: str, index: int) -> dict[str, Any]:
        """Question ``index`` of ``split``: id, title, question, context and reference answers."""
        ex = self.examples[split][index]
        return {"id": ex.id, "title": ex.title, "question": ex.question, "context": ex.context, "answers": ex.answers}

    # -- Lightning ------------------------------------------------------------------------
    def setup(self, stage: Optional[str] = None) -> None:
        """Encode every split into windows (once; the test split reuses validation's when it is the same)."""
        if self.features:
            return
        if self.tokenizer is None:
            raise RuntimeError("set_tokenizer() must be called before setup()")
        c = self.config
        for split, examples in self.examples.items():
            same = next((s for s in self.features if self.examples[s] is examples), None)
            if same:
                self.features[split] = self.features[same]
                continue
            self.features[split] = compute_once(  # under DDP: encoded by rank 0, read by the others
                f"windows-{split}",
                lambda: encode_windows(self.tokenizer, examples, c.max_length, c.doc_stride, c.max_query_length),
                self.trainer,
            )
            log.info("%s: %d questions -> %d windows", split, len(examples), len(self.features[split]))

    def _lengths(self, split: str) -> list[int]:
        return [len(f["input_ids"]) for f in self.features[split]]

    def _collator(self) -> QACollator:
        return QACollator(self.tokenizer.pad_token_id)

    def train_dataloader(self) -> DataLoader:
        return train_loader(self.features["train"], self._lengths("train"), self.config, self._collator(), self.trainer)

    def val_dataloader(self) -> DataLoader:
        return eval_loader(self.features["validation"], self._lengths("validation"), self.config, self._collator(), self.trainer)

    def test_dataloader(self) -> DataLoader:
        return eval_loader(self.features["test"], self._lengths("test"), self.config, self._collator(), self.trainer)

    def predict_dataloader(self) -> DataLoader:
        """Windows of ``data.predict_file`` (else the test split), all windows of a question in one batch."""
        self.setup("predict")
        split = "predict" if "predict" in self.features else "test"
        rank, world_size = distributed_position(self.trainer)
        sampler = QuestionBatchSampler([f["index"] for f in self.features[split]], self.config.eval_batch_size, rank, world_size)
        return DataLoader(self.features[split], batch_sampler=sampler, collate_fn=self._collator(), num_workers=self.config.num_workers)


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
