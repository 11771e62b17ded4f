"""Report figure of summarization runs: per-summary ROUGE-L against the reference length (glmtasks_generation.figures)."""

from __future__ import annotations

from typing import Optional

from glmtasks.api import ReportFigure, RunFiles
from glmtasks_generation.figures import score_by_length_figure


def rouge_by_length_figure(run: RunFiles) -> Optional[ReportFigure]:
    """ROUGE-L F (0-100, best reference, the run's tokenizer and stemmer settings) by reference length."""
    from glmtasks_summarization.metrics import rouge_scorer

    scoring = run.task_info.get("scoring", {})
    scorer = rouge_scorer("rougeL", scoring.get("rouge_stemmer", True), scoring.get("rouge_tokenizer", "auto"), run.task_info.get("language", "en"))

    def score(hypothesis: str, references: list[str]) -> float:
        return 100 * max(scorer.score(reference, hypothesis)["rougeL"].fmeasure for reference in references)

    return score_by_length_figure(run, score, "ROUGE-L")
