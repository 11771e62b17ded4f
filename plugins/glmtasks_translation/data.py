"""Translation data: line-aligned parallel text files, tables with a column per language, or the demo corpus.

The direction comes from ``data.source_lang`` and ``data.target_lang``. A file name holding
``{lang}`` names one plain-text file per language (``train.{lang}.gz`` reads ``train.de.gz``
and ``train.en.gz``, line by line, optionally gzipped); any other file is a table whose
columns default to the language codes (``de``, ``en``, or nested ``translation.de``).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from glmtasks.api import DataError
from glmtasks_generation.data import TextPairDataModule
from glmtasks_translation.config import TranslationDataConfig


def read_parallel(template: str, key: str, source_lang: str, target_lang: str, labelled: bool = True) -> list[dict[str, Any]]:
    """Line-aligned records from ``template`` with ``{lang}`` replaced by each language code.

    Lines where either side is empty are skipped; files of different lengths are an error.
    Without ``labelled`` (inputs to predict) a missing target-language file is allowed.
    """
    sides = []
    for lang in (source_lang, target_lang):
        path = Path(template.replace("{lang}", lang))
        if not labelled and lang == target_lang and not path.is_file():
            return [{"source": s, "references": []} for s in sides[0] if s]
        if not path.is_file():
            raise DataError(f"data file not found: {path} (data.{key} with {{lang}}={lang}); fix data.{key} or data.source_lang/data.target_lang")
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            sides.append([line.rstrip("\n").strip() for line in handle])
    sources, targets = sides
    if len(sources) != len(targets):
        raise DataError(
            f"parallel files of data.{key} are not line-aligned: {len(sources)} lines in {source_lang}, "
            f"{len(targets)} in {target_lang}; give files with one sentence per line in both languages"
        )
    records = [{"source": s, "references": [t]} for s, t in zip(sources, targets) if s and t]
    if not records:
        raise DataError(f"the parallel files of data.{key} hold no non-empty line pairs")
    return records


class TranslationDataModule(TextPairDataModule):
    """Sentence pairs in the direction ``data.source_lang`` -> ``data.target_lang``."""

    config: TranslationDataConfig

    def __init__(self, config: TranslationDataConfig):
        if config.source_lang == config.target_lang:
            raise DataError(f"data.source_lang and data.target_lang are both '{config.source_lang}'; set different languages")
        super().__init__(config)

    def columns(self) -> tuple[str, str]:
        """Table columns: ``data.source_column``/``data.target_column``, default the language codes."""
        c = self.config
        return c.source_column or c.source_lang, c.target_column or c.target_lang

    def read_file(self, path: str, key: str, labelled: bool) -> list[dict[str, Any]]:
        """Parallel text files when ``path`` holds ``{lang}``, else a table with a column per language."""
        if "{lang}" in path:
            return read_parallel(path, key, self.config.source_lang, self.config.target_lang, labelled)
        return super().read_file(path, key, labelled)

    def demo_records(self, split: str, size: int, seed: int) -> list[dict[str, Any]]:
        """The generated en <-> toy corpus in the configured direction."""
        from glmtasks_translation.demo import LANGUAGES, generate_parallel

        c = self.config
        for key in ("source_lang", "target_lang"):
            if getattr(c, key) not in LANGUAGES:
                raise DataError(f"the demo corpus has languages {', '.join(LANGUAGES)}, not data.{key}={getattr(c, key)}; use data.{key}=<one of them> or your own files")
        columns = generate_parallel(size, seed=seed)
        return [{"source": s, "references": [t]} for s, t in zip(columns[c.source_lang], columns[c.target_lang])]

    def build_task_info(self) -> dict[str, Any]:
        """The generation task_info, scored in the target language, with the direction."""
        c = self.config
        return {**super().build_task_info(), "language": c.language or c.target_lang, "source_lang": c.source_lang, "target_lang": c.target_lang}
