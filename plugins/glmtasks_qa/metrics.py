"""SQuAD exact match and F1, aggregated per question over its windows and reference answers.

Design: the head decodes the best valid span of every window (the n-best search, see
:func:`glmtasks_qa.heads.best_spans`) and passes, per window, the question index, the span's
score, the span's text and the question's reference answers. :class:`SquadScores.update`
scores each window's text against every reference right away (the maximum over references,
as the official script does) and keeps only numbers: question index, span score, EM, F1,
in list states reduced by concatenation, so the metric is exact under DDP whichever rank
saw which window. ``compute`` then picks, for each question, the window whose span scored
highest (the answer a reader of all windows would give) and averages its EM and F1.

Normalization: ``en`` is the official SQuAD v1.1 one (lower case, drop punctuation and the
articles a/an/the, collapse white space; F1 over white-space tokens). ``zh`` follows the
CMRC 2018 evaluation: Chinese characters are tokens of their own, runs of other characters
are split into words (by a regular expression rather than NLTK), punctuation is removed, and
F1 is computed from the longest common substring of the two token lists.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Sequence

import torch
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from glmtasks.api import normalize_punctuation

# -- English: the official SQuAD v1.1 evaluation ------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, remove punctuation, articles and extra white space (official SQuAD v1.1)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match_en(prediction: str, reference: str) -> float:
    """1.0 when the normalized texts are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def f1_en(prediction: str, reference: str) -> float:
    """Harmonic mean of token precision and recall after normalization (0 when nothing is shared)."""
    predicted = normalize_answer(prediction).split()
    gold = normalize_answer(reference).split()
    shared = sum((Counter(predicted) & Counter(gold)).values())
    if shared == 0:
        return 0.0
    precision, recall = shared / len(predicted), shared / len(gold)
    return 2 * precision * recall / (precision + recall)


# -- Chinese: CMRC 2018 style ---------------------------------------------------------------

_ZH_PUNCTUATION = set("-:_*^/\\~`+=，。：？！“”；’《》……·、「」（）－～『』")
_CJK = re.compile(r"[\u4e00-\u9fa5]")
_WORDS = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def segment_zh(text: str) -> list[str]:
    """Lower-cased tokens: each Chinese character alone, other runs split into words; punctuation dropped.

    Full-width forms are read as ASCII first (``２０１５年`` matches ``2015年``, ``（`` is ``(``).
    """
    tokens: list[str] = []
    run = ""
    for ch in normalize_punctuation(text).lower().strip():
        if ch in _ZH_PUNCTUATION:
            tokens.extend(_WORDS.findall(run))
            run = ""
        elif _CJK.match(ch):
            tokens.extend(_WORDS.findall(run))
            run = ""
            tokens.append(ch)
        else:
            run += ch
    tokens.extend(_WORDS.findall(run))
    return [t for t in tokens if t not in _PUNCTUATION]


# The CMRC marks as their ASCII forms too: full-width forms are read as ASCII before comparing.
_ZH_PUNCTUATION_ANY = _ZH_PUNCTUATION | set("".join(normalize_punctuation(ch) for ch in _ZH_PUNCTUATION))


def _remove_punctuation_zh(text: str) -> str:
    return "".join(ch for ch in normalize_punctuation(text).lower().strip() if ch not in _ZH_PUNCTUATION_ANY)


def exact_match_zh(prediction: str, reference: str) -> float:
    """1.0 when the texts are equal after lower-casing and removing punctuation (CMRC 2018; ``２０１５`` equals ``2015``)."""
    return float(_remove_punctuation_zh(prediction) == _remove_punctuation_zh(reference))


def f1_zh(prediction: str, reference: str) -> float:
    """F1 from the longest common substring of the segmented texts (CMRC 2018)."""
    predicted, gold = segment_zh(prediction), segment_zh(reference)
    longest = _longest_common_substring(predicted, gold)
    if longest == 0:
        return 0.0
    precision, recall = longest / len(predicted), longest / len(gold)
    return 2 * precision * recall / (precision + recall)


def _longest_common_substring(a: Sequence[str], b: Sequence[str]) -> int:
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


SCORERS = {"en": (exact_match_en, f1_en), "zh": (exact_match_zh, f1_zh)}


def score_answer(prediction: str, references: Sequence[str], language: str = "en") -> tuple[float, float]:
    """(EM, F1) of ``prediction``: the maximum of each over all ``references`` (0, 0 when there are none)."""
    exact_match, f1 = SCORERS[language]
    if not references:
        return 0.0, 0.0
    return max(exact_match(prediction, r) for r in references), max(f1(prediction, r) for r in references)


# -- The metric ----------------------------------------------------------------------------


class SquadScores(Metric):
    """EM and F1 (in percent) per question, from the best-scoring span over all its windows.

    ``update(index, score, predictions, references)``: for each window, the question's
    index (tensor), the best span's score (tensor; ``-inf`` when the window has none), the
    span's text, and the question's reference answers. ``compute()`` returns
    ``{"squad_f1": ..., "squad_em": ...}``.
    """

    full_state_update = False

    def __init__(self, language: str = "en", **kwargs):
        super().__init__(**kwargs)
        if language not in SCORERS:
            raise ValueError(f"unknown language {language!r}; use one of {sorted(SCORERS)}")
        self.language = language
        for name in ("question", "score", "em", "f1"):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(self, index: torch.Tensor, score: torch.Tensor, predictions: Sequence[str], references: Sequence[Sequence[str]]) -> None:
        """Score each window's best span against its question's references."""
        pairs = [score_answer(p, r, self.language) for p, r in zip(predictions, references)]
        self.question.append(index.detach().long().reshape(-1).to(self.device))
        self.score.append(score.detach().float().reshape(-1).to(self.device))
        self.em.append(torch.tensor([em for em, _ in pairs], dtype=torch.float, device=self.device))
        self.f1.append(torch.tensor([f1 for _, f1 in pairs], dtype=torch.float, device=self.device))

    def compute(self) -> dict[str, torch.Tensor]:
        """Mean EM and F1 over questions, each question judged by its best window."""
        if isinstance(self.question, list) and not self.question:
            zero = torch.tensor(0.0, device=self.device)
            return {"squad_f1": zero, "squad_em": zero.clone()}
        question, score = dim_zero_cat(self.question), dim_zero_cat(self.score)
        em, f1 = dim_zero_cat(self.em), dim_zero_cat(self.f1)
        best = best_window_per_question(question, score)
        return {"squad_f1": 100 * f1[best].mean(), "squad_em": 100 * em[best].mean()}


def best_window_per_question(question: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
    """Positions (one per distinct question) of the window with the highest score; ties go to the first."""
    order = torch.argsort(score, descending=True, stable=True)  # best windows first
    first: dict[int, int] = {}
    for position in order.tolist():
        first.setdefault(int(question[position]), position)
    return torch.tensor(sorted(first.values()), dtype=torch.long, device=question.device)


def squad_f1(task_info: dict) -> SquadScores:
    """SQuAD F1 and exact match of ``task_info["language"]`` (``en`` official, ``zh`` CMRC 2018)."""
    return SquadScores(language=task_info.get("language", "en"))
