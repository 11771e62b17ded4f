"""Configuration of ``task=translation``: the ``data:`` section.

The head's options are :class:`glmtasks_generation.config.GenerationHeadConfig`. The CLI imports
this module to declare every ``data.*`` key with its default (the ``config_class`` of the
plugin's specs), so it imports only the standard library and light modules
(:mod:`glmtasks_generation.config`): never torch, Lightning, transformers or the heavy modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from glmtasks_generation.config import TextPairDataConfig


@dataclass
class TranslationDataConfig(TextPairDataConfig):
    """The ``data:`` section of translation: :class:`TextPairDataConfig` plus the direction."""

    source_lang: str = "en"
    """Language translated from (``de``, ``en``, ``zh``, ...; ``en``/``toy`` for the demo)."""
    target_lang: str = "toy"
    """Language translated into; also the language of scoring (``zh`` -> sacreBLEU ``tok:zh``)."""
    source_column: Optional[str] = None
    """Table column of the source sentences; default: ``source_lang`` (dotted names read nested fields: ``translation.de``)."""
    target_column: Optional[str] = None
    """Table column of the reference translations; default: ``target_lang``."""
    language: Optional[str] = None
    """Language of the targets for scoring; default: ``target_lang``."""
