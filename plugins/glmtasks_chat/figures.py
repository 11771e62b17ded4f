"""Report figure of chat runs: ROUGE-L of each generated reply against the reference reply's length."""

from __future__ import annotations

from typing import Optional

from glmtasks.api import ReportFigure, RunFiles
from glmtasks_generation.figures import score_by_length_figure
from glmtasks_summarization.figures import rouge_l


def reply_rouge_by_length_figure(run: RunFiles) -> Optional[ReportFigure]:
    """Reply ROUGE-L (0-100; Chinese scored by characters) by the length of the reference reply; None without references."""
    return score_by_length_figure(run, rouge_l(run.task_info), "reply ROUGE-L", hypothesis="reply", references="reference")
