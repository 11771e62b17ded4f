"""Corpus-level sacreBLEU and chrF as DDP-safe torchmetrics, with the sacreBLEU signature.

sacreBLEU's corpus scores are functions of sums of per-sentence statistics (n-gram matches and
totals, hypothesis and closest-reference lengths for BLEU; character n-gram counts for chrF).
Each ``update`` adds its batch's statistics to a ``sum`` state, so ranks combine exactly and the
result equals ``sacrebleu.corpus_bleu`` over all sentences. Examples may have different
numbers of references. ``metadata()`` returns the signature (``nrefs:1|case:mixed|eff:no|
tok:13a|smooth:exp|version:2.6.0``), which the run writes to metrics.json.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torchmetrics import Metric


def bleu_tokenizer(name: str, language: str) -> str:
    """sacreBLEU's tokenizer for ``name``; ``auto``: ``zh`` for Chinese, ``char`` for Japanese, else ``13a``."""
    if name != "auto":
        return name
    base = language.split("-")[0].lower()
    return {"zh": "zh", "ja": "char", "yue": "zh"}.get(base, "13a")


class SacreMetric(Metric):
    """A sacreBLEU metric (``BLEU``, ``CHRF``) accumulated as summed sufficient statistics.

    ``update(hypotheses, references)``: a list of strings and a list of lists of strings.
    """

    full_state_update = False
    higher_is_better = True
    is_differentiable = False

    def __init__(self, scorer: Any, normalize_punctuation: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.scorer = scorer
        self.normalize_punctuation = normalize_punctuation
        width = len(self._statistics(["a b"], [["a b"]])[0])
        self.add_state("stats", default=torch.zeros(width, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("min_refs", default=torch.tensor(1 << 30, dtype=torch.long), dist_reduce_fx="min")
        self.add_state("max_refs", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="max")
        self._signature: str | None = None

    def _statistics(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> list[list[float]]:
        """Per-sentence statistics; reference streams are padded with None (variable counts)."""
        depth = max(len(refs) for refs in references)
        streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(depth)]
        return self.scorer._extract_corpus_statistics(list(hypotheses), streams)

    def update(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> None:
        """Add the batch's statistics."""
        if not hypotheses:
            return
        if self.normalize_punctuation:
            from glmtasks.api import normalize_punctuation

            hypotheses = [normalize_punctuation(h) for h in hypotheses]
            references = [[normalize_punctuation(r) for r in refs] for refs in references]
        stats = torch.tensor(self._statistics(hypotheses, references), dtype=torch.float64, device=self.device)  # (B, K)
        self.stats += stats.sum(0)
        counts = torch.tensor([len(refs) for refs in references], device=self.device)
        self.min_refs = torch.minimum(self.min_refs, counts.min())
        self.max_refs = torch.maximum(self.max_refs, counts.max())

    def compute(self) -> torch.Tensor:
        """The corpus score (0-100); also records the signature for :meth:`metadata`."""
        score = self.scorer._compute_score_from_stats([float(x) for x in self.stats.tolist()])
        if int(self.max_refs) > 0:
            self.scorer.num_refs = int(self.max_refs) if int(self.min_refs) == int(self.max_refs) else -1
            self._signature = self.scorer.get_signature().format()
        return torch.tensor(float(score.score), dtype=torch.float64)

    def metadata(self) -> dict[str, Any]:
        """``{"signature": ...}`` of the last computed score (the reproducibility record)."""
        extra = {"normalized": "full-width forms and CJK punctuation as ASCII"} if self.normalize_punctuation else {}
        if self._signature is None:
            self.scorer.num_refs = 1
            return {"signature": self.scorer.get_signature().format(), "note": "nrefs assumed; no score was computed", **extra}
        return {"signature": self._signature, **extra}


CJK_LANGUAGES = ("zh", "ja", "yue", "ko")


def cjk_language(task_info: dict) -> bool:
    """Whether ``task_info``'s language is Chinese, Japanese or Korean (scored with punctuation normalized)."""
    return task_info.get("language", "en").split("-")[0].lower() in CJK_LANGUAGES


def sacrebleu(task_info: dict) -> SacreMetric:
    """Corpus BLEU (sacreBLEU, 0-100), tokenizer from data.scoring.bleu_tokenize / data.language."""
    from sacrebleu.metrics import BLEU

    scoring = task_info.get("scoring", {})
    tokenize = bleu_tokenizer(scoring.get("bleu_tokenize", "auto"), task_info.get("language", "en"))
    return SacreMetric(BLEU(tokenize=tokenize, lowercase=scoring.get("lowercase", False)), normalize_punctuation=cjk_language(task_info))


def chrf(task_info: dict) -> SacreMetric:
    """Corpus chrF (sacreBLEU, character 6-grams, beta 2, 0-100)."""
    from sacrebleu.metrics import CHRF

    return SacreMetric(CHRF(lowercase=task_info.get("scoring", {}).get("lowercase", False)), normalize_punctuation=cjk_language(task_info))
