"""Summarization data: documents (or dialogues) and their summaries from files, the hub or the demo generator."""

from __future__ import annotations

from typing import Any

from glmtasks_generation.data import TextPairDataModule
from glmtasks_summarization.config import SummarizationDataConfig


class SummarizationDataModule(TextPairDataModule):
    """Document/summary pairs; ``data.source=demo`` generates football match reports."""

    config: SummarizationDataConfig

    def demo_records(self, split: str, size: int, seed: int) -> list[dict[str, Any]]:
        """Generated match reports and their one-line summaries."""
        from glmtasks_summarization.demo import generate_reports

        columns = generate_reports(size, seed=seed)
        return [{"source": d, "references": [s]} for d, s in zip(columns["document"], columns["summary"])]
