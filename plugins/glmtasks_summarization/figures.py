"""Report figure of summarization runs: per-summary ROUGE-L against the reference length (glmtasks_generation.figures)."""

from __future__ import annotations

from typing import Callable, Optional

from glmtasks.api import ReportFigure, RunFiles
from glmtasks_generation.figures import score_by_length_figure


def rouge_l(task_info: dict) -> Callable[[str, list[str]], float]:
    """``score(hypothesis, references)``: ROUGE-L F (0-100, best reference) with the run's tokenizer and stemmer settings."""
    from glmtasks_summarization.metrics import rouge_scorer

    scoring = task_info.get("scoring", {})
    scorer = rouge_scorer("rougeL", scoring.get("rouge_stemmer", True), scoring.get("rouge_tokenizer", "auto"), task_info.get("language", "en"))

    def score(hypothesis: str, references: list[str]) -> float:
        return 100 * max(scorer.score(reference, hypothesis)["rougeL"].fmeasure for reference in references)

    return score


def rouge_by_length_figure(run: RunFiles) -> Optional[ReportFigure]:
    """ROUGE-L F by reference length."""
    return score_by_length_figure(run, rouge_l(run.task_info), "ROUGE-L")
