"""ROUGE-1/2/L/Lsum (rouge-score) as DDP-safe torchmetrics, with a tokenizer for any script.

Each example is scored on its own (F-measure; with several references the best one counts)
and the corpus score is the mean over examples, reported on a 0-100 scale. Per-example scores
are a ``cat`` list state, so every rank's examples are gathered before the mean.
"""

from __future__ import annotations

import re
from typing import Sequence

import torch
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNICODE_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*|\n+")


class UnicodeTokenizer:
    """Lowercased words of any script; Chinese and Japanese characters are one token each.

    rouge-score's own tokenizer keeps only ``a-z0-9`` and would delete Chinese text (and
    ``ä``, ``é``). With ``use_stemmer``, ASCII words longer than 3 letters are Porter-stemmed,
    as rouge-score does.
    """

    def __init__(self, use_stemmer: bool = False):
        from nltk.stem import porter

        self.stemmer = porter.PorterStemmer() if use_stemmer else None

    def tokenize(self, text: str) -> list[str]:
        """Tokens of ``text`` (full-width forms read as ASCII: ``２０１５`` is ``2015``)."""
        from glmtasks.api import normalize_punctuation

        tokens = _UNICODE_TOKEN.findall(normalize_punctuation(text).lower())
        if self.stemmer is None:
            return tokens
        return [self.stemmer.stem(t) if len(t) > 3 and t.isascii() else t for t in tokens]


class ChineseWordTokenizer:
    """Chinese words (jieba's segmentation) and words of other scripts, lower-cased; punctuation dropped.

    Full-width forms and CJK punctuation are first normalized (:func:`normalize_punctuation`),
    so a hypothesis written with ``,`` (an NFKC tokenizer's output) matches a reference with ``，``.
    Needs ``jieba`` (``pip install 'glmtasks[zh]'``).
    """

    def __init__(self):
        try:
            import jieba
        except ImportError as exc:
            raise ValueError("data.scoring.rouge_tokenizer=zh_words needs jieba; pip install 'glmtasks[zh]' (or use rouge_tokenizer=unicode)") from exc
        jieba.setLogLevel(60)  # no "Building prefix dict" chatter on stderr

    def tokenize(self, text: str) -> list[str]:
        """Tokens of ``text``."""
        import jieba  # imported here, not kept: metrics are pickled and deep-copied (a module is neither)

        from glmtasks.api import normalize_punctuation

        words = jieba.lcut(normalize_punctuation(text).lower())
        return [w for w in (w.strip() for w in words) if w and _UNICODE_TOKEN.search(w)]


ROUGE_TOKENIZERS = ("auto", "words", "unicode", "zh_words")


def resolve_rouge_tokenizer(tokenizer: str, language: str) -> str:
    """The tokenizer ``auto`` stands for: ``words`` for English, ``unicode`` for every other language."""
    if tokenizer == "auto":
        return "words" if language.split("-")[0] == "en" else "unicode"
    return tokenizer


def split_sentences(text: str) -> str:
    """Sentences on separate lines, as ROUGE-Lsum expects (after . ! ? 。 ！ ？ and at line breaks)."""
    return "\n".join(s.strip() for s in _SENTENCE_END.split(text) if s and s.strip())


def rouge_scorer(rouge_type: str, use_stemmer: bool, tokenizer: str, language: str):
    """A ``rouge_score.rouge_scorer.RougeScorer`` for one ROUGE type.

    ``tokenizer``: ``words`` (rouge-score's), ``unicode`` (:class:`UnicodeTokenizer`: Chinese on
    characters), ``zh_words`` (:class:`ChineseWordTokenizer`: Chinese on jieba words) or
    ``auto`` (``words`` for English, ``unicode`` for every other language).
    """
    from rouge_score import rouge_scorer as rs

    tokenizer = resolve_rouge_tokenizer(tokenizer, language)
    if tokenizer == "words":
        return rs.RougeScorer([rouge_type], use_stemmer=use_stemmer)
    if tokenizer == "unicode":
        return rs.RougeScorer([rouge_type], tokenizer=UnicodeTokenizer(use_stemmer))
    if tokenizer == "zh_words":
        return rs.RougeScorer([rouge_type], tokenizer=ChineseWordTokenizer())
    raise ValueError(f"unknown data.scoring.rouge_tokenizer '{tokenizer}'; use {', '.join(ROUGE_TOKENIZERS)}")


class Rouge(Metric):
    """Mean per-example ROUGE F-measure (0-100) of one type: rouge1, rouge2, rougeL or rougeLsum.

    ``update(hypotheses, references)``: a list of strings and a list of lists of strings.
    """

    full_state_update = False
    higher_is_better = True
    is_differentiable = False

    def __init__(self, rouge_type: str, use_stemmer: bool = True, tokenizer: str = "auto", language: str = "en", **kwargs):
        super().__init__(**kwargs)
        if rouge_type not in ROUGE_TYPES:
            raise ValueError(f"unknown ROUGE type {rouge_type!r}; use one of {ROUGE_TYPES}")
        self.rouge_type = rouge_type
        self.scorer = rouge_scorer(rouge_type, use_stemmer, tokenizer, language)
        self.tokenizer = resolve_rouge_tokenizer(tokenizer, language)
        self.use_stemmer = use_stemmer and self.tokenizer != "zh_words"
        self.add_state("scores", default=[], dist_reduce_fx="cat")

    def metadata(self) -> dict:
        """How the score was computed (written under ``metric_metadata`` in metrics.json)."""
        units = {"words": "rouge-score words (a-z0-9)", "unicode": "words; CJK characters one by one", "zh_words": "jieba words"}
        return {"tokenizer": self.tokenizer, "units": units[self.tokenizer], "stemmer": self.use_stemmer}

    def _prepare(self, text: str) -> str:
        return split_sentences(text) if self.rouge_type == "rougeLsum" else text

    def update(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> None:
        """Score each hypothesis against its references (the best reference counts)."""
        values = [
            max(self.scorer.score(self._prepare(ref), self._prepare(hyp))[self.rouge_type].fmeasure for ref in refs)
            for hyp, refs in zip(hypotheses, references)
        ]
        self.scores.append(torch.tensor(values, dtype=torch.float64, device=self.device))

    def compute(self) -> torch.Tensor:
        """Mean F-measure times 100 (0 when nothing was scored)."""
        scores = dim_zero_cat(self.scores) if len(self.scores) else torch.zeros(0, dtype=torch.float64)
        return scores.mean() * 100 if scores.numel() else torch.tensor(0.0, dtype=torch.float64)


def _factory(rouge_type: str):
    def make(task_info: dict) -> Rouge:
        scoring = task_info.get("scoring", {})
        return Rouge(
            rouge_type,
            use_stemmer=scoring.get("rouge_stemmer", True),
            tokenizer=scoring.get("rouge_tokenizer", "auto"),
            language=task_info.get("language", "en"),
        )

    make.__name__ = make.__qualname__ = rouge_type
    make.__doc__ = f"{rouge_type} F-measure (0-100), configured by data.scoring and data.language."
    return make


rouge1 = _factory("rouge1")
rouge2 = _factory("rouge2")
rougeL = _factory("rougeL")
rougeLsum = _factory("rougeLsum")

__all__ = ["Rouge", "UnicodeTokenizer", "ChineseWordTokenizer", "resolve_rouge_tokenizer", "split_sentences", "rouge_scorer", "rouge1", "rouge2", "rougeL", "rougeLsum"]
