"""Translation data: line-aligned parallel text files, tables with a column per language, or the demo corpus.

The direction comes from ``data.source_lang`` and ``data.target_lang``. A file name holding
``{lang}`` names one plain-text file per language (``train.{lang}.gz`` reads ``train.de.gz``
and ``train.en.gz``, line by line, optionally gzipped); any other file is a table whose
columns default to the language codes (``de``, ``en``, or nested ``translation.de``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from glmtasks.api import DataError, read_text
from glmtasks_generation.data import TextPairDataModule
from glmtasks_translation.config import TranslationDataConfig

log = logging.getLogger(__name__)


def read_parallel(template: str, key: str, source_lang: str, target_lang: str, labelled: bool = True) -> list[dict[str, Any]]:
    """Line-aligned records from ``template`` with ``{lang}`` replaced by each language code.

    Both files are read as UTF-8 text (``.gz``: gzipped; see :func:`read_text` for what is
    refused); ``\\r\\n`` line ends are fine and blank lines at the end of a file do not count.
    Line pairs where either side is empty are skipped and logged with their line numbers (for
    inputs to predict, only lines with an empty source); files of different lengths are an
    error naming both. Without ``labelled`` (inputs to predict) a missing target-language file is
    allowed: the records then have no references.
    """
    paths = {lang: Path(template.replace("{lang}", lang)) for lang in (source_lang, target_lang)}
    sides = {}
    for lang, path in paths.items():
        if not labelled and lang == target_lang and not path.is_file():
            continue
        if not path.is_file():
            raise DataError(f"data file not found: {path} (data.{key} with {{lang}}={lang}); fix data.{key} or data.source_lang/data.target_lang")
        lines = read_text(path, key, f" with {{lang}}={lang}").split("\n")
        while lines and not lines[-1].strip():  # the final newline, and blank lines after the last sentence
            lines.pop()
        sides[lang] = [line.strip() for line in lines]
    sources, targets = sides[source_lang], sides.get(target_lang)
    where = f"{template} (data.{key})"
    if targets is not None and len(sources) != len(targets):
        longer, shorter = (source_lang, target_lang) if len(sources) > len(targets) else (target_lang, source_lang)
        raise DataError(
            f"the parallel files of {where} are not line-aligned: {len(sources)} lines in {source_lang}, {len(targets)} in {target_lang} "
            f"(line {min(len(sources), len(targets)) + 1} of {paths[longer].name} has no partner in {paths[shorter].name}); "
            "give files with one sentence per line in both languages"
        )
    if targets is None:
        targets = [""] * len(sources)
    records, skipped = [], []
    for number, (source, target) in enumerate(zip(sources, targets), start=1):
        if source and (target or not labelled):
            records.append({"source": source, "references": [target] if target else []})
        else:
            skipped.append(number)
    if skipped:
        shown = ", ".join(map(str, skipped[:5])) + (", ..." if len(skipped) > 5 else "")
        log.warning("skipped %d of %d lines of %s with an empty %s: lines %s", len(skipped), len(sources), where,
                    "side" if labelled else "source", shown)
    if not records:
        files = " and ".join(str(p) for lang, p in paths.items() if lang in sides)
        raise DataError(f"{files} (data.{key}) hold no line {'pair with text on both sides' if labelled else 'with text'}; give files with one sentence per line")
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
