"""Generation data: source texts and their references, read into records and encoded as prompts and targets.

A record is ``{"source": str, "references": [str, ...]}`` (no references only for inputs to
predict). :class:`TextPairDataModule` reads tables (csv/tsv/json(l)/parquet, headerless csv/tsv
with ``data.column_names``, dotted columns for nested fields) and hub datasets into records;
the base :class:`glmtasks.api.TaskDataModule` owns splits, the held-out validation, subsampling,
tokenizing once and batching. A task extends it with its demo set (:meth:`demo_records`) and,
if it has one, a reader of its own (translation's line-aligned ``{lang}`` files).

A table row with an empty source, no reference or a cell that is not text is named by
:meth:`TextPairDataModule.record_problem`: the run stops on it with the file, the row and the
fix, or skips it with ``data.invalid_rows=skip``. Text files must be UTF-8 (:func:`read_text`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

from glmtasks.api import ConfigError, DataError, TaskDataModule, infer_format, read_table, read_text, require_columns, root_cause
from glmtasks_generation.config import TextPairDataConfig


# ---------------------------------------------------------------------------------------
# Reading.


def field_value(row: Mapping[str, Any], column: str) -> Any:
    """``row[column]``; a dotted column reads nested mappings (``translation.de``)."""
    value: Any = row
    for part in column.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _is_text(item: Any) -> bool:
    """A string, or a number (a jsonl ``4``), that can stand for text."""
    return isinstance(item, str) or (isinstance(item, (int, float)) and not isinstance(item, bool))


def as_texts(value: Any) -> Any:
    """A cell as a list of stripped, non-empty strings (from a string, a number or a list of them).

    None, NaN and blank strings give no text; a cell that is not text (a mapping, a nested list,
    a boolean) is returned as it is, for :meth:`TextPairDataModule.record_problem` to name.
    """
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not all(item is None or _is_text(item) for item in items):
        return value
    return [str(item).strip() for item in items if item is not None and item == item and str(item).strip()]  # item == item: not NaN


def pair_records(
    rows: Iterable[Mapping[str, Any]], source_column: str, target_column: Optional[str], source_join: str, labelled: bool, where: str
) -> list[dict[str, Any]]:
    """One record per table row: list-valued sources joined with ``source_join``, list-valued
    targets as several references (``target_column`` None: no references).

    Rows are not dropped here, so record ``i`` is row ``i`` of the file: a row with an empty source
    or (if ``labelled``) no reference, or a cell that is not text, is named by
    :meth:`TextPairDataModule.record_problem`, then stops the run or is skipped (``data.invalid_rows``).
    ``labelled`` and ``where`` are kept for callers of the earlier signature.
    """
    records = []
    for row in rows:
        source = as_texts(field_value(row, source_column))
        references = as_texts(field_value(row, target_column)) if target_column else []
        if is_texts(source):
            source = source_join.join(source)
        records.append({"source": source, "references": references})
    return records


def is_texts(value: Any) -> bool:
    """Whether ``value`` is a list of strings (what :func:`as_texts` gives for a cell of text)."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def read_pair_table(
    path: str, key: str, config: TextPairDataConfig, source_column: str, target_column: str, labelled: bool = True
) -> list[dict[str, Any]]:
    """Records of one csv/tsv/json(l)/parquet file (see :func:`pair_records`).

    Without ``labelled`` (inputs to predict), the target column may be absent.
    """
    if Path(path).is_file() and Path(path).stat().st_size == 0:
        raise DataError(f"data file {path} (data.{key}) is empty; give a file with examples")
    dataset = read_headerless(path, key, config) if config.column_names else read_table(path, key, config.format)
    columns = {"source_column": source_column.split(".")[0]}
    if labelled or target_column.split(".")[0] in dataset.column_names:
        columns["target_column"] = target_column.split(".")[0]
    require_columns(dataset, columns, f"{path} (data.{key})")
    target = target_column if "target_column" in columns else None
    return pair_records(dataset.to_list(), source_column, target, config.source_join, labelled, f"{path} (data.{key})")


def read_headerless(path: str, key: str, config: TextPairDataConfig):
    """A csv/tsv file without a header row, its columns named by ``data.column_names``, every cell read as text.

    The first row must have as many fields as there are names (with more, pandas would silently
    take the first field as an index and shift every column); a later row with more fields is a
    parse error naming its line, one with fewer has empty cells (named by ``record_problem``).
    """
    import csv
    import io

    import datasets

    file = Path(path)
    if not file.is_file():
        raise DataError(f"data file not found: {file} (data.{key}); fix the path with data.{key}=<file>")
    fmt = infer_format(file, config.format)
    if fmt not in ("csv", "tsv"):
        raise ConfigError(f"data.column_names is for csv/tsv files without a header, but {file} is {fmt}; remove data.column_names")
    names = [str(name) for name in config.column_names]
    if len(set(names)) != len(names) or not all(name.strip() for name in names):
        raise ConfigError(f"data.column_names={names} must name every column once, each with a non-empty name")
    text = read_text(file, key)  # a one-line error naming the line of a byte that is not UTF-8
    first = text.split("\n", 1)[0].split("\t") if fmt == "tsv" else next(csv.reader(io.StringIO(text)), [])
    if not any(field.strip() for field in first):
        raise DataError(f"data file {file} (data.{key}) has no rows, or its first line is empty; give a file with examples")
    if len(first) != len(names):
        raise DataError(
            f"line 1 of {file} (data.{key}) has {len(first)} fields but data.column_names names {len(names)} ({', '.join(names)}); "
            "name every column of the file in data.column_names"
        )
    kwargs: dict[str, Any] = {"sep": "\t", "quoting": 3} if fmt == "tsv" else {}
    features = datasets.Features({name: datasets.Value("string") for name in names})
    try:
        return datasets.load_dataset(
            "csv", data_files=str(file), split="train", column_names=names, header=None, keep_default_na=False,
            encoding="utf-8-sig", features=features, **kwargs,
        )
    except Exception as exc:  # noqa: BLE001 - parser errors of every kind mean a malformed file
        raise DataError(f"cannot read {file} as {fmt} with columns {names} (data.{key}): {root_cause(exc)}; fix that line") from exc


def _shown(value: Any) -> str:
    """``value`` for a message: its type and the start of its repr."""
    text = repr(value)
    return f"a {type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"


def _nested_hint(value: Any, column: str, key: str) -> str:
    """For a mapping cell: how to name one of its fields."""
    if isinstance(value, Mapping) and value:
        return f"; name one of its fields with a dotted column, e.g. data.{key}={column}.{next(iter(value))}"
    return ""


# ---------------------------------------------------------------------------------------
# Formatting: prompt and target token ids.


def encode_prompts(tokenizer: Any, sources: Sequence[str], template: str, max_length: int) -> tuple[list[list[int]], list[str]]:
    """Token ids of ``tokenizer(template.format(source=s))`` for each source, at most ``max_length``.

    A source too long for the budget is cut at a token boundary *in the text* before the
    prompt is formatted and encoded, so the ids are exactly what ``tokenizer(prompt)`` gives
    for the returned (possibly shortened) prompt text.

    Returns:
        (ids, prompts): token ids and the prompt texts they encode.
    """
    overhead = len(tokenizer(template.format(source=""))["input_ids"])
    budget = max(1, max_length - overhead)
    fast = getattr(tokenizer, "is_fast", False)
    encoded = tokenizer(list(sources), add_special_tokens=False, return_offsets_mapping=fast)
    cut_sources = []
    for i, source in enumerate(sources):
        ids = encoded["input_ids"][i]
        if len(ids) <= budget:
            cut_sources.append(source)
        elif fast:
            cut_sources.append(source[: encoded["offset_mapping"][i][budget - 1][1]])
        else:
            cut_sources.append(tokenizer.decode(ids[:budget]))
    prompts = [template.format(source=source) for source in cut_sources]
    ids = tokenizer(prompts)["input_ids"]
    specials = set(tokenizer.all_special_ids)
    for i, row in enumerate(ids):
        if len(row) > max_length:  # a token boundary moved at the cut: keep a final special token
            ids[i] = row[: max_length - 1] + row[-1:] if row[-1] in specials else row[:max_length]
    return ids, prompts


def encode_targets(tokenizer: Any, targets: Sequence[str], max_length: int) -> list[list[int]]:
    """Target ids: the text without special tokens, cut to ``max_length - 1``, then ``eos``."""
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ConfigError("the tokenizer has no eos token, so generated text could not end; use a tokenizer with an eos token")
    ids = tokenizer(list(targets), add_special_tokens=False)["input_ids"]
    return [row[: max(0, max_length - 1)] + [eos] for row in ids]


# ---------------------------------------------------------------------------------------
# The datamodule.


class TextPairDataModule(TaskDataModule):
    """Records ``{"source", "references"}`` as right-padded prompts and targets.

    Features: ``input_ids``/``attention_mask`` of the prompt and ``labels`` (the target ids;
    the base's collator pads them on the right, labels with -100);
    training has one feature per reference (``data.train_on_all_references``), evaluation one
    per example, labelled with its first reference and carrying all of them as ``references``
    (a list of strings in the batch, for the metrics). Inputs to predict without references are
    prompts only. ``task_info``: ``prompt``, ``language``, ``max_target_length``, ``scoring``.
    """

    config: TextPairDataConfig

    def __init__(self, config: TextPairDataConfig):
        if "{source}" not in config.prompt:
            raise ConfigError(f"data.prompt must contain {{source}}, got {config.prompt!r}; e.g. data.prompt='summarize: {{source}}'")
        super().__init__(config)

    def columns(self) -> tuple[str, str]:
        """Source and target columns of tables (``data.source_column``, ``data.target_column``)."""
        c = self.config
        for key in ("source_column", "target_column"):
            if not getattr(c, key):
                raise ConfigError(f"data.{key} is not set; name the column with data.{key}=<column>")
        return c.source_column, c.target_column

    # -- reading ---------------------------------------------------------------------------
    def required_columns(self, labelled: bool) -> dict[str, str]:
        """The top-level columns of the source (and target) fields."""
        source, target = self.columns()
        columns = {"source_column": source.split(".")[0]}
        if labelled:
            columns["target_column"] = target.split(".")[0]
        return columns

    def read_file(self, path: str, key: str, labelled: bool) -> list[dict[str, Any]]:
        """Records of a table (see :func:`read_pair_table`)."""
        source, target = self.columns()
        return read_pair_table(path, key, self.config, source, target, labelled)

    def convert_rows(self, rows: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
        """Hub rows as source/references records (dotted columns read nested fields)."""
        source, target = self.columns()
        return pair_records(rows, source, target, self.config.source_join, True, where)

    def record_problem(self, record: dict[str, Any], labelled: bool) -> Optional[str]:
        """An empty source, no reference (when ``labelled``), or a cell that is not text (a mapping, a nested list)."""
        source_column, target_column = self.columns()
        source, references = record.get("source"), record.get("references")
        if not isinstance(source, str):
            return f"{source_column} (data.source_column) is {_shown(source)}, not text{_nested_hint(source, source_column, 'source_column')}"
        if not source.strip():
            return f"empty {source_column} (data.source_column)"
        if not is_texts(references):
            return (f"{target_column} (data.target_column) is {_shown(references)}, not text or a list of texts"
                    f"{_nested_hint(references, target_column, 'target_column')}")
        if labelled and not references:
            return f"empty {target_column} (data.target_column)"
        return None

    def build_task_info(self) -> dict[str, Any]:
        """The prompt template (reused when a trained model evaluates or predicts) and scoring settings."""
        c = self.config
        return {"prompt": c.prompt, "language": c.language or "en", "max_target_length": c.max_target_length, "scoring": asdict(c.scoring)}

    def check_records(self, split: str, records: list[dict[str, Any]]) -> None:
        """Every split needs examples."""
        if not records:
            raise DataError(f"the {split} split has no examples; check the data files and data.max_*_samples")

    def training_texts(self) -> Iterator[str]:
        """Training sources and references (for a from-scratch tokenizer), and the prompt's own words."""
        yield self.config.prompt.replace("{source}", " ")
        for record in self.split_records("train"):
            yield record["source"]
            yield from record["references"]

    # -- encoding --------------------------------------------------------------------------
    def encode_batch(self, records: list[dict[str, Any]], split: str) -> list[list[dict[str, Any]]]:
        """Prompt and target ids of each record: one feature per reference trained on (see the class)."""
        c = self.config
        prompt_ids, _ = encode_prompts(self.tokenizer, [r["source"] for r in records], self.task_info.get("prompt", c.prompt), c.max_length)
        if not all(r["references"] for r in self.splits.get(split, records)):  # inputs to predict: prompts only
            return [[{"input_ids": ids, "attention_mask": [1] * len(ids)}] for ids in prompt_ids]
        train = split == "train"
        chosen = [r["references"] if train and c.train_on_all_references else r["references"][:1] for r in records]
        targets = iter(encode_targets(self.tokenizer, [ref for refs in chosen for ref in refs], c.max_target_length))
        features = []
        for ids, record, refs in zip(prompt_ids, records, chosen):
            own = [{"input_ids": ids, "attention_mask": [1] * len(ids), "labels": next(targets)} for _ in refs]
            if not train:
                for feature in own:
                    feature["references"] = list(record["references"])
            features.append(own)
        return features

    def describe(self, record: dict[str, Any], split: str) -> dict[str, Any]:
        """Source and every (untruncated) reference."""
        return {"source": record["source"], "references": list(record["references"])}

    def feature_length(self, feature: dict[str, Any]) -> int:
        """Prompt plus target tokens."""
        return len(feature["input_ids"]) + len(feature.get("labels", ()))
