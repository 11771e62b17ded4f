"""Configuration of ``task=summarization``: the ``data:`` section.

The head's options are :class:`glmtasks_generation.config.GenerationHeadConfig`. The CLI imports
this module to declare every ``data.*`` key with its default (the ``config_class`` of the
plugin's specs), so it imports only the standard library and light modules
(:mod:`glmtasks_generation.config`): never torch, Lightning, transformers or the heavy modules.
"""

from __future__ import annotations

from dataclasses import dataclass

from glmtasks_generation.config import TextPairDataConfig


@dataclass
class SummarizationDataConfig(TextPairDataConfig):
    """The ``data:`` section of summarization: every key of :class:`TextPairDataConfig`.

    ``source_column`` holds the document (a list of sentences is joined), ``target_column``
    the summary (a list is several reference summaries).
    """

    max_length: int = 512
    """Prompt tokens kept (longer documents are cut at a token boundary)."""
