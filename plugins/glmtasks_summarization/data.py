"""Summarization data: documents (or dialogues) and their summaries from files, the hub or the demo generator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glmtasks_generation.data import TextPairDataConfig, TextPairDataModule


@dataclass
class SummarizationDataConfig(TextPairDataConfig):
    """The ``data:`` section of summarization: every key of :class:`TextPairDataConfig`.

    ``source_column`` holds the document (a list of sentences is joined), ``target_column``
    the summary (a list is several reference summaries).
    """

    max_length: int = 512
    """Prompt tokens kept (longer documents are cut at a token boundary)."""


class SummarizationDataModule(TextPairDataModule):
    """Document/summary pairs; ``data.source=demo`` generates football match reports."""

    config: SummarizationDataConfig

    def demo_records(self, split: str, size: int, seed: int) -> list[dict[str, Any]]:
        """Generated match reports and their one-line summaries."""
        from glmtasks_summarization.demo import generate_reports

        columns = generate_reports(size, seed=seed)
        return [{"source": d, "references": [s]} for d, s in zip(columns["document"], columns["summary"])]
