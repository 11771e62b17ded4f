"""Translation data: line-aligned parallel text files, tables with a column per language, or the demo corpus.

The direction comes from ``data.source_lang`` and ``data.target_lang``. A file name holding
``{lang}`` names one plain-text file per language (``train.{lang}.gz`` reads ``train.de.gz``
and ``train.en.gz``, line by line, optionally gzipped); any other file is a table whose
columns default to the language codes (``de``, ``en``, or nested ``translation.de``).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from glmtasks.errors import DataError
from glmtasks.generation import (
    TextPair,
    TextPairDataConfig,
    TextPairDataModule,
    add_predict_split,
    finish_splits,
    read_pair_splits,
    read_pair_table,
)
from glmtasks.specs import TaskSpec


@dataclass
class TranslationDataConfig(TextPairDataConfig):
    """The ``data:`` section of translation: :class:`TextPairDataConfig` plus the direction."""

    source_lang: str = "en"
    """Language translated from (``de``, ``en``, ``zh``, ...; ``en``/``toy`` for the demo)."""
    target_lang: str = "toy"
    """Language translated into; also the language of scoring (``zh`` -> sacreBLEU ``tok:zh``)."""
    source_column: Optional[str] = None
    """Table column of the source sentences; default: ``source_lang``."""
    target_column: Optional[str] = None
    """Table column of the reference translations; default: ``target_lang``."""
    max_length: int = 128
    max_target_length: int = 64


def read_parallel(template: str, key: str, source_lang: str, target_lang: str, require_target: bool = True) -> list[TextPair]:
    """Line-aligned pairs from ``template`` with ``{lang}`` replaced by each language code.

    Lines where either side is empty are skipped; files of different lengths are an error.
    Without ``require_target`` (inputs to predict) a missing target-language file is allowed.
    """
    sides = []
    for lang in (source_lang, target_lang):
        path = Path(template.replace("{lang}", lang))
        if not require_target and lang == target_lang and not path.is_file():
            return [TextPair(s, []) for s in sides[0] if s]
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
    pairs = [TextPair(s, [t]) for s, t in zip(sources, targets) if s and t]
    if not pairs:
        raise DataError(f"the parallel files of data.{key} hold no non-empty line pairs")
    return pairs


def make_datamodule(config: TranslationDataConfig, task: TaskSpec) -> TextPairDataModule:
    """Read pairs in the configured direction into a :class:`TextPairDataModule`."""
    if config.source_lang == config.target_lang:
        raise DataError(f"data.source_lang and data.target_lang are both '{config.source_lang}'; set different languages")
    config.language = config.language or config.target_lang
    if config.source == "demo":
        splits = finish_splits(_demo_splits(config), config)
    elif config.source == "files":
        splits = read_pair_splits(config, lambda path, key: _read(config, path, key))
    else:
        raise DataError(f"unknown data.source '{config.source}'; use files or demo")
    add_predict_split(splits, config, lambda path, key: _read(config, path, key, require_target=False))
    info = {"source_lang": config.source_lang, "target_lang": config.target_lang}
    return TextPairDataModule(config, task, splits, task_info=info)


def _read(config: TranslationDataConfig, path: str, key: str, require_target: bool = True) -> list[TextPair]:
    """Parallel text files when ``path`` holds ``{lang}``, else a table with a column per language."""
    if "{lang}" in path:
        return read_parallel(path, key, config.source_lang, config.target_lang, require_target)
    source_column = config.source_column or config.source_lang
    target_column = config.target_column or config.target_lang
    return read_pair_table(path, key, config, source_column, target_column, require_target)


def _demo_splits(config: TranslationDataConfig) -> dict[str, list[TextPair]]:
    from glmtasks_translation.demo import LANGUAGES, generate_parallel

    for key in ("source_lang", "target_lang"):
        if getattr(config, key) not in LANGUAGES:
            raise DataError(f"the demo corpus has languages {', '.join(LANGUAGES)}, not data.{key}={getattr(config, key)}; use data.{key}=<one of them> or your own files")
    sizes = {"train": config.demo_train_size, "validation": config.demo_eval_size, "test": config.demo_eval_size}
    splits = {}
    for i, (split, size) in enumerate(sizes.items()):
        columns = generate_parallel(size, seed=config.seed * 1000 + i)
        splits[split] = [TextPair(s, [t]) for s, t in zip(columns[config.source_lang], columns[config.target_lang])]
    return splits
