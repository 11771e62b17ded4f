"""Report figure of translation runs: sentence chrF against the reference length (glmtasks_generation.figures)."""

from __future__ import annotations

from typing import Optional

from glmtasks.api import ReportFigure, RunFiles
from glmtasks_generation.figures import score_by_length_figure


def chrf_by_length_figure(run: RunFiles) -> Optional[ReportFigure]:
    """Sentence-level chrF (sacreBLEU, 0-100; steadier per sentence than BLEU) by reference length."""
    from sacrebleu.metrics import CHRF

    metric = CHRF(lowercase=run.task_info.get("scoring", {}).get("lowercase", False))

    def score(hypothesis: str, references: list[str]) -> float:
        return float(metric.sentence_score(hypothesis, references).score)

    return score_by_length_figure(run, score, "sentence chrF")
