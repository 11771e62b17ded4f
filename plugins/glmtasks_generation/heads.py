"""Conditional text generation (source text -> target text) shared by every generation task.

Summarization, translation and third-party generation tasks use this module without knowing
each other: it holds the data side (reading source/target tables, prompt and target
formatting, batching) and the model side (a head that trains decoder-only models as prefix
LMs and encoder-decoder models on their labels, and generates in batches with a KV cache).
It names no task; the task plugins bring their readers, demo data, metrics and configs.

Formatting, one rule for every architecture:

* prompt: ``data.prompt`` with ``{source}`` filled in, encoded by the tokenizer *with* its
  own special tokens, i.e. exactly ``tokenizer(prompt)``: ``prompt <eos>`` for the BPE
  tokenizer trained from scratch, ``prompt </s>`` for T5, ``[gMASK]<sop> prompt`` for GLM-4.
* target: the reference encoded *without* special tokens, then ``eos``.

The datamodule gives both (right-padded); the head lays them out for its model:

* decoder-only (GLM): one causal sequence ``prompt + target``; the loss covers target tokens
  only (a prefix LM: the prompt conditions, it is not learned). Attention over the prompt
  stays causal, so that plain ``generate()`` on the export reproduces training exactly.
  For generation, prompts are moved to the left (left padding) so that every row's next
  token is in the last column and the KV cache advances in lockstep.
* encoder-decoder (T5, BART): the prompt feeds the encoder, the target is the decoder's labels.

Hence plain transformers reproduces a run's outputs from its ``export/``:
``tokenizer(prompts, padding=True, return_tensors="pt")`` then ``model.generate(**inputs)``:
the exported tokenizer pads on the left for decoder-only models, and the exported
``generation_config.json`` holds the run's generation settings (beams, length penalty, ...).
"""

from __future__ import annotations

import copy
import logging
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

import lightning as L
import torch

from glmtasks.config import BackboneConfig, build_dataclass, raise_if_errors
from glmtasks.data import (
    BatchingConfig,
    PadCollator,
    compute_once,
    eval_loader,
    infer_format,
    read_table,
    require_columns,
    train_loader,
)
from glmtasks.errors import ConfigError, DataError
from glmtasks.head import HeadOutput
from glmtasks.specs import TaskSpec

log = logging.getLogger(__name__)

IGNORE_INDEX = -100
SPLIT_KEYS = {"train": "train_file", "validation": "validation_file", "test": "test_file"}
CHARACTER_LANGUAGES = ("zh", "ja", "yue", "wuu")
"""Languages written without spaces between words: scored on characters."""


# ---------------------------------------------------------------------------------------
# Configuration.


@dataclass
class ScoringConfig:
    """How references are scored (``data.scoring``): a property of the dataset and its language."""

    rouge_stemmer: bool = True
    """Porter-stem English words before ROUGE (as most summarization papers do)."""
    rouge_tokenizer: str = "auto"
    """``words`` (rouge-score's own: lowercase a-z0-9 words, for comparable English numbers),
    ``unicode`` (any script's words; Chinese/Japanese characters one by one) or ``auto``
    (``words`` for English, ``unicode`` otherwise)."""
    bleu_tokenize: str = "auto"
    """sacreBLEU tokenizer (``13a``, ``intl``, ``zh``, ``char``, ``none``, ...); ``auto``:
    ``zh`` for Chinese, ``char`` for Japanese, else ``13a``."""
    lowercase: bool = False
    """Case-insensitive BLEU/chrF."""


@dataclass
class TextPairDataConfig(BatchingConfig):
    """The ``data:`` section of generation tasks (``max_length`` caps the prompt's tokens)."""

    source: str = "files"
    """``files`` (the ``*_file`` keys) or ``demo`` (the task's generated data set)."""
    train_file: Optional[str] = None
    validation_file: Optional[str] = None
    """Validation split; when unset, ``validation_size`` training examples are held out."""
    test_file: Optional[str] = None
    """Test split (metrics and predictions.jsonl); when unset, the validation split."""
    format: Optional[str] = None
    """csv, tsv, json (also JSON lines), parquet; default: from the file suffix."""
    source_column: Optional[str] = "source"
    """Column of the source text; a list of strings (sentences) is joined with ``source_join``.
    A dotted name reads a nested field (``translation.de``)."""
    target_column: Optional[str] = "target"
    """Column of the reference; a list of strings is several references of one example."""
    column_names: Optional[list] = None
    """Names of the columns of a csv/tsv file without a header row."""
    validation_size: Optional[int] = None
    """Hold out this many training examples (random, ``seed``) as validation when there is no validation_file."""
    prompt: str = "{source}"
    """Prompt template; ``{source}`` is replaced by the source text (e.g. ``"summarize: {source}"``)."""
    source_join: str = " "
    """Separator of list-valued sources (sentences)."""
    max_target_length: int = 64
    """Target tokens kept for training (references are never truncated for scoring); also
    the default ``max_new_tokens`` of generation."""
    train_on_all_references: bool = True
    """With several references, train on each of them (one example per reference)."""
    language: Optional[str] = None
    """Language of the targets (``en``, ``de``, ``zh``, ...): picks the scoring tokenizers."""
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    predict_file: Optional[str] = None
    """Inputs to generate for with ``mode=predict`` (the source column; references optional)."""
    demo_train_size: int = 3000
    """Training examples of the generated demo set (``source=demo``)."""
    demo_eval_size: int = 200
    """Validation (and test) examples of the generated demo set."""


@dataclass
class TextPair:
    """One example: a source text and its reference texts (none only for inputs to predict)."""

    source: str
    references: list[str]


# ---------------------------------------------------------------------------------------
# Reading.


def _field(row: Mapping[str, Any], column: str) -> Any:
    """``row[column]``; a dotted column reads nested mappings (``translation.de``)."""
    value: Any = row
    for part in column.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _as_texts(value: Any) -> list[str]:
    """A cell as a list of stripped, non-empty strings (a string, or a list of strings)."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    return [str(item).strip() for item in items if item is not None and str(item).strip()]


def read_pair_table(
    path: str, key: str, config: TextPairDataConfig, source_column: str, target_column: str, require_target: bool = True
) -> list[TextPair]:
    """Read one csv/tsv/json(l)/parquet file into text pairs.

    List-valued sources are joined with ``config.source_join``; list-valued targets become
    several references. Rows with an empty source or (if ``require_target``) no reference
    are skipped and counted in the log. Without ``require_target`` (inputs to predict), the
    target column may be absent.
    """
    if config.column_names:
        dataset = _read_headerless(path, key, config)
    else:
        dataset = read_table(path, key, config.format)
    top = {"source_column": source_column.split(".")[0]}
    if require_target or target_column.split(".")[0] in dataset.column_names:
        top["target_column"] = target_column.split(".")[0]
    require_columns(dataset, top, path)
    pairs, skipped = [], 0
    for row in dataset:
        source = config.source_join.join(_as_texts(_field(row, source_column)))
        references = _as_texts(_field(row, target_column)) if "target_column" in top else []
        if not source or (require_target and not references):
            skipped += 1
            continue
        pairs.append(TextPair(source, references))
    if skipped:
        log.warning("skipped %d rows of %s with an empty source or reference", skipped, path)
    if not pairs:
        raise DataError(f"no row of {path} (data.{key}) has both a source ({source_column}) and a target ({target_column}); check data.source_column and data.target_column")
    return pairs


def _read_headerless(path: str, key: str, config: TextPairDataConfig):
    """A csv/tsv file without a header row, its columns named by ``data.column_names``."""
    import datasets

    file = Path(path)
    if not file.is_file():
        raise DataError(f"data file not found: {file} (data.{key}); fix the path with data.{key}=<file>")
    fmt = infer_format(file, config.format)
    if fmt not in ("csv", "tsv"):
        raise ConfigError(f"data.column_names is for csv/tsv files without a header, but {file} is {fmt}; remove data.column_names")
    kwargs: dict[str, Any] = {"sep": "\t", "quoting": 3} if fmt == "tsv" else {}
    names = [str(name) for name in config.column_names]
    try:
        return datasets.load_dataset("csv", data_files=str(file), split="train", column_names=names, header=None, **kwargs)
    except Exception as exc:  # noqa: BLE001 - parser errors of every kind mean a malformed file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"cannot read {file} as {fmt} with columns {names} (data.{key}): {first}") from exc


def read_pair_splits(
    config: TextPairDataConfig,
    read_file: Optional[Callable[[str, str], list[TextPair]]] = None,
) -> dict[str, list[TextPair]]:
    """Train/validation/test pairs from the ``*_file`` keys, then holdout and subsampling.

    Args:
        config: the data config.
        read_file: ``(path, key) -> pairs``; default: :func:`read_pair_table` with
            ``source_column`` and ``target_column``.
    """
    if read_file is None:
        read_file = lambda path, key: read_pair_table(path, key, config, config.source_column, config.target_column)  # noqa: E731
    if not config.train_file:
        raise DataError("data.train_file is not set; give your training file with data.train_file=<path>")
    if not config.validation_file and not config.validation_size:
        raise DataError("data.validation_file is not set; give it with data.validation_file=<path>, or hold out training examples with data.validation_size=<n>")
    splits = {split: read_file(getattr(config, key), key) for split, key in SPLIT_KEYS.items() if getattr(config, key)}
    return finish_splits(splits, config)


def add_predict_split(splits: dict[str, list[TextPair]], config: TextPairDataConfig, read_file: Callable[[str, str], list[TextPair]]) -> dict[str, list[TextPair]]:
    """Add the ``predict`` split from ``data.predict_file`` (``mode=predict``) when it is set."""
    path = getattr(config, "predict_file", None)
    if path:
        splits["predict"] = read_file(path, "predict_file")
    return splits


def finish_splits(splits: dict[str, list[TextPair]], config: TextPairDataConfig) -> dict[str, list[TextPair]]:
    """Hold out ``validation_size`` training pairs if there is no validation split, subsample
    (``max_train_samples``, ``max_eval_samples``), and let the test split default to validation."""
    if "validation" not in splits:
        train = list(splits["train"])
        size = int(config.validation_size or 0)
        if not 0 < size < len(train):
            raise DataError(f"data.validation_size={size} must be between 1 and {len(train) - 1} (the training examples minus one)")
        order = list(range(len(train)))
        random.Random(config.seed).shuffle(order)
        held = set(order[:size])
        splits["validation"] = [train[i] for i in sorted(held)]
        splits["train"] = [pair for i, pair in enumerate(train) if i not in held]
    if config.max_train_samples:
        train = list(splits["train"])
        random.Random(config.seed).shuffle(train)
        splits["train"] = train[: config.max_train_samples]
    if config.max_eval_samples:
        for split in ("validation", "test"):
            if split in splits:
                splits[split] = splits[split][: config.max_eval_samples]
    splits.setdefault("test", splits["validation"])
    return splits


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


class GenerationCollator:
    """Right-pads ``input_ids``/``attention_mask`` (pad id, 0) and ``labels`` (-100); keeps
    ``references`` (lists of strings, for the metrics) as they are."""

    def __init__(self, pad_id: int):
        self.pad = PadCollator(pad_id=pad_id, label_pad_id=IGNORE_INDEX, padding_side="right")

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        tensors = [{k: v for k, v in f.items() if k != "references"} for f in features]
        batch: dict[str, Any] = self.pad(tensors)
        if "references" in features[0]:
            batch["references"] = [list(f["references"]) for f in features]
        return batch


# ---------------------------------------------------------------------------------------
# The datamodule.


class TextPairDataModule(L.LightningDataModule):
    """Batches of (prompt, target) token ids from text pairs already read by a task plugin.

    Args:
        config: the data config.
        task: the task spec.
        splits: ``train``, ``validation`` and ``test`` text pairs, and ``predict`` pairs (for
            ``mode=predict`` with ``data.predict_file``; references optional).
        task_info: extra entries for ``task_info`` (``language`` and so on).
    """

    def __init__(self, config: TextPairDataConfig, task: TaskSpec, splits: Mapping[str, list[TextPair]], task_info: Optional[dict] = None):
        super().__init__()
        if "{source}" not in config.prompt:
            raise ConfigError(f"data.prompt must contain {{source}}, got {config.prompt!r}; e.g. data.prompt='summarize: {{source}}'")
        for split in ("train", "validation", "test", *(("predict",) if "predict" in splits else ())):
            if not splits.get(split):
                raise DataError(f"the {split} split has no examples; check the data files and data.max_*_samples")
        self.config = config
        self.task = task
        self.splits = dict(splits)
        language = config.language or "en"
        self.task_info = {
            "prompt": config.prompt,
            "language": language,
            "max_target_length": config.max_target_length,
            "scoring": asdict(config.scoring),
            **(task_info or {}),
        }
        self.tokenizer: Any = None
        self.tokenized: dict[str, list[dict[str, Any]]] = {}

    # -- the protocol the core uses -------------------------------------------------------
    def training_texts(self) -> Iterator[str]:
        """Training sources and references (for a from-scratch tokenizer), and the prompt's own words."""
        yield self.config.prompt.replace("{source}", " ")
        for pair in self.splits["train"]:
            yield pair.source
            yield from pair.references

    def set_tokenizer(self, tokenizer: Any) -> None:
        """Use ``tokenizer`` for prompts and targets (called before ``setup``)."""
        self.tokenizer = tokenizer

    def adopt_task_info(self, task_info: dict) -> None:
        """Format prompts the way a trained model was trained (its ``prompt`` template)."""
        if task_info.get("prompt"):
            self.config.prompt = task_info["prompt"]
            self.task_info["prompt"] = task_info["prompt"]

    def example_record(self, split: str, index: int) -> dict[str, Any]:
        """Source and every (untruncated) reference of example ``index`` of ``split``."""
        pair = self.splits[split][index]
        return {"source": pair.source, "references": list(pair.references)}

    # -- Lightning ------------------------------------------------------------------------
    def setup(self, stage: Optional[str] = None) -> None:
        """Tokenize every split once (training examples once per reference if configured).

        Under distributed training rank 0 tokenizes and the other ranks load its result
        (:func:`glmtasks.data.compute_once`).
        """
        if self.tokenized:
            return
        for split, pairs in self.splits.items():
            encode = lambda pairs=pairs, train=(split == "train"): self._encode(pairs, train)  # noqa: E731
            self.tokenized[split] = compute_once(f"generation-{split}", encode, self.trainer)

    def _encode(self, pairs: list[TextPair], train: bool) -> list[dict[str, Any]]:
        c = self.config
        prompt_ids, _ = encode_prompts(self.tokenizer, [p.source for p in pairs], c.prompt, c.max_length)
        if not all(pair.references for pair in pairs):  # inputs to predict: prompts only
            return [{"input_ids": ids, "attention_mask": [1] * len(ids), "index": i} for i, ids in enumerate(prompt_ids)]
        rows: list[tuple[int, str]] = []
        for i, pair in enumerate(pairs):
            references = pair.references if (train and c.train_on_all_references) else pair.references[:1]
            rows += [(i, reference) for reference in references]
        target_ids = encode_targets(self.tokenizer, [reference for _, reference in rows], c.max_target_length)
        items = []
        for (i, _), target in zip(rows, target_ids):
            item = {"input_ids": prompt_ids[i], "attention_mask": [1] * len(prompt_ids[i]), "labels": target, "index": i}
            if not train:
                item["references"] = pairs[i].references
            items.append(item)
        return items

    def _lengths(self, split: str) -> list[int]:
        return [len(item["input_ids"]) + len(item.get("labels", ())) for item in self.tokenized[split]]

    def _collator(self) -> GenerationCollator:
        return GenerationCollator(self.tokenizer.pad_token_id)

    def train_dataloader(self):
        """Shuffled, length-grouped training batches (sharded across ranks)."""
        return train_loader(self.tokenized["train"], self._lengths("train"), self.config, self._collator(), self.trainer)

    def val_dataloader(self):
        """Validation batches with ``references`` (each example once across ranks)."""
        return eval_loader(self.tokenized["validation"], self._lengths("validation"), self.config, self._collator(), self.trainer)

    def test_dataloader(self):
        """Test batches with ``references`` (each example once across ranks)."""
        return eval_loader(self.tokenized["test"], self._lengths("test"), self.config, self._collator(), self.trainer)

    def predict_dataloader(self):
        """The ``predict`` inputs if there are any, else the test split: hypotheses go to predictions.jsonl."""
        split = "predict" if "predict" in self.tokenized else "test"
        return eval_loader(self.tokenized[split], self._lengths(split), self.config, self._collator(), self.trainer)


# ---------------------------------------------------------------------------------------
# Layout helpers (no model involved; unit-tested on their own).


def move_padding(ids: torch.Tensor, mask: torch.Tensor, side: str, *others: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Move every row's padding (``mask == 0``) to ``side``, keeping token order; trim empty columns.

    Returns ``(ids, mask, *others)`` rearranged the same way. Used to turn right-padded prompts
    into left-padded ones for generation, and ``prompt | pad | target | pad`` into one
    right-padded sequence for training.
    """
    key = mask if side == "left" else 1 - mask  # argsort puts zeros first, stably
    order = key.long().argsort(dim=1, stable=True)  # (B, T)
    width = int(mask.sum(1).max())
    cols = slice(ids.shape[1] - width, None) if side == "left" else slice(0, width)
    return tuple(t.gather(1, order)[:, cols] for t in (ids, mask, *others))


def prefix_lm_batch(input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor, pad_id: int) -> dict[str, torch.Tensor]:
    """One right-padded causal-LM batch ``prompt + target`` whose labels cover the target only.

    Args:
        input_ids, attention_mask: right-padded prompts, (B, P).
        labels: right-padded target ids, -100 as padding, (B, T).

    Returns:
        ``input_ids``, ``attention_mask`` and ``labels`` of shape (B, L), L <= P + T, where
        ``labels`` is -100 on prompt and padding positions (unshifted: position t holds token t).
    """
    target_mask = (labels != IGNORE_INDEX).long()
    ids = torch.cat([input_ids, labels.masked_fill(labels == IGNORE_INDEX, pad_id)], dim=1)  # (B, P+T)
    mask = torch.cat([attention_mask.long(), target_mask], dim=1)  # (B, P+T)
    full_labels = torch.cat([torch.full_like(input_ids, IGNORE_INDEX), labels], dim=1)  # (B, P+T)
    ids, mask, full_labels = move_padding(ids, mask, "right", full_labels)  # (B, L)
    return {"input_ids": ids, "attention_mask": mask, "labels": full_labels}


# ---------------------------------------------------------------------------------------
# The head.


@dataclass
class GenerationSettings:
    """``task.head_config`` of generation heads: decoding (saved as the export's generation_config) and the loss."""

    max_new_tokens: Optional[int] = None
    """Tokens generated at most; default: ``data.max_target_length``."""
    num_beams: int = 1
    """1: greedy search; more: beam search."""
    length_penalty: float = 1.0
    """Beam search: scores are divided by length**length_penalty (> 1 favours longer outputs)."""
    early_stopping: bool = True
    """Beam search: stop when ``num_beams`` finished candidates exist."""
    no_repeat_ngram_size: int = 0
    """Forbid repeating any n-gram of this size (0: off)."""
    repetition_penalty: float = 1.0
    """Penalize tokens already generated (1.0: off)."""
    label_smoothing: float = 0.0
    """Label smoothing of the training loss."""


def is_encoder_decoder(backbone: BackboneConfig) -> bool:
    """Whether the backbone's architecture is encoder-decoder (T5, BART) rather than decoder-only."""
    import transformers

    try:
        if backbone.name_or_path:
            config = transformers.AutoConfig.from_pretrained(
                backbone.name_or_path, trust_remote_code=backbone.trust_remote_code, revision=backbone.revision
            )
        else:
            config = transformers.AutoConfig.for_model(backbone.model_type)
    except (OSError, ValueError) as exc:
        source = backbone.name_or_path or backbone.model_type
        raise ConfigError(f"cannot read the model config of '{source}': {str(exc).splitlines()[0]}; check backbone.name_or_path / backbone.model_type") from exc
    return bool(getattr(config, "is_encoder_decoder", False))


class ConditionalGenerationHead(torch.nn.Module):
    """Loss on target tokens; greedy or beam-search generation for metrics and predictions.

    Works for decoder-only models (``*ForCausalLM``, trained as a prefix LM) and
    encoder-decoder models (``*ForConditionalGeneration``); see the module docstring for the
    layout. In evaluation, a batch with ``references`` is also decoded, and the metrics get
    ``(hypotheses, references)``: lists of strings and of lists of strings.
    """

    def __init__(self, model: torch.nn.Module, tokenizer: Any, settings: GenerationSettings, merge_adapters: bool = True):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings
        self.merge_adapters = merge_adapters
        self.encoder_decoder = bool(getattr(model.config, "is_encoder_decoder", False))

    # -- training -------------------------------------------------------------------------
    def _logits_and_labels(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, L, V) and the labels they predict (B, L), already aligned."""
        if self.encoder_decoder:
            labels = batch["labels"]
            if hasattr(self.model, "prepare_decoder_input_ids_from_labels"):
                decoder_input_ids = self.model.prepare_decoder_input_ids_from_labels(labels=labels)  # shifted right
                out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], decoder_input_ids=decoder_input_ids)
            else:
                out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels)
            return out.logits, labels
        seq = prefix_lm_batch(batch["input_ids"], batch["attention_mask"], batch["labels"], self.tokenizer.pad_token_id)
        logits = self.model(input_ids=seq["input_ids"], attention_mask=seq["attention_mask"]).logits  # (B, L, V)
        return logits[:, :-1], seq["labels"][:, 1:]  # token t+1 is predicted at position t

    def forward(self, batch: dict[str, Any]) -> HeadOutput:
        """Target-token cross-entropy; in evaluation also ``(hypotheses, references)`` for the metrics."""
        logits, labels = self._logits_and_labels(batch)
        loss = torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]),  # (B*L, V)
            labels.reshape(-1),  # (B*L,)
            ignore_index=IGNORE_INDEX,
            label_smoothing=self.settings.label_smoothing,
        )
        if self.training or "references" not in batch:
            return HeadOutput(loss=loss)
        hypotheses = self.generate(batch)
        return HeadOutput(loss=loss, metric_inputs=(hypotheses, batch["references"]), predictions=lambda: self._records(batch, hypotheses))

    # -- generation -----------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, batch: dict[str, Any]) -> list[str]:
        """Decoded outputs for the batch's prompts, with the model's ``generation_config``."""
        ids, mask = batch["input_ids"], batch["attention_mask"]
        if not self.encoder_decoder:
            ids, mask = move_padding(ids, mask, "left")  # (B, P): next token of every row in the last column
        out = self.model.generate(input_ids=ids, attention_mask=mask, use_cache=True)
        new_tokens = out if self.encoder_decoder else out[:, ids.shape[1] :]  # (B, N)
        return [text.strip() for text in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]

    def predict(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        """``{"index", "hypothesis"}`` per example (the writer adds source and references)."""
        return self._records(batch, self.generate(batch))

    @staticmethod
    def _records(batch: dict[str, Any], hypotheses: list[str]) -> list[dict[str, Any]]:
        return [{"index": int(i), "hypothesis": text} for i, text in zip(batch["index"], hypotheses)]

    def save_pretrained(self, directory: Path) -> None:
        """Model with its generation_config, and the tokenizer (left padding for decoder-only models).

        A model with LoRA adapters is saved with the adapters merged into a copy of its weights
        (unless ``backbone.peft.merge_on_export`` is off), so plain transformers loads it.
        """
        model = self.model
        if self.merge_adapters and hasattr(model, "merge_and_unload"):
            model = copy.deepcopy(model).merge_and_unload()
        model.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)


def generation_config_for(model: Any, tokenizer: Any, settings: GenerationSettings, max_new_tokens: int, from_scratch: bool):
    """The model's ``GenerationConfig`` with ``settings`` applied (deterministic decoding)."""
    config = copy.deepcopy(model.generation_config)
    config._from_model_config = False
    config.do_sample = False
    config.max_new_tokens = max_new_tokens
    config.num_beams = settings.num_beams
    if settings.num_beams > 1:
        config.length_penalty = settings.length_penalty
        config.early_stopping = settings.early_stopping
    if settings.no_repeat_ngram_size:
        config.no_repeat_ngram_size = settings.no_repeat_ngram_size
    if settings.repetition_penalty != 1.0:
        config.repetition_penalty = settings.repetition_penalty
    config.pad_token_id = tokenizer.pad_token_id
    if from_scratch:
        # Ids of the tokenizer trained here, not the architecture's defaults (BART's forced ids).
        config.eos_token_id = tokenizer.eos_token_id
        config.bos_token_id = tokenizer.bos_token_id
        config.forced_bos_token_id = None
        config.forced_eos_token_id = None
    return config


def make_generation_head(backbone: BackboneConfig, tokenizer: Any, task_info: dict, head_config: dict) -> ConditionalGenerationHead:
    """Build the model (``AutoModelForCausalLM`` or ``AutoModelForSeq2SeqLM``) and its head.

    ``head_config`` is validated against :class:`GenerationSettings`.
    """
    from glmtasks.backbone import load_model

    errors: list[str] = []
    settings = build_dataclass(GenerationSettings, head_config, "task.head_config", errors)
    raise_if_errors(errors)
    if settings.num_beams < 1:
        raise ConfigError("task.head_config.num_beams must be >= 1")
    encoder_decoder = is_encoder_decoder(backbone)
    from_scratch = not backbone.name_or_path
    extra: dict[str, Any] = {}
    if from_scratch and encoder_decoder:
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.pad_token_id
        extra["decoder_start_token_id"] = start
    model = load_model(backbone, "AutoModelForSeq2SeqLM" if encoder_decoder else "AutoModelForCausalLM", tokenizer, **extra)
    max_new_tokens = settings.max_new_tokens or int(task_info.get("max_target_length", 64))
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # under LoRA adapters
    base.generation_config = generation_config_for(base, tokenizer, settings, max_new_tokens, from_scratch)
    tokenizer.padding_side = "right" if encoder_decoder else "left"
    tokenizer.init_kwargs["padding_side"] = tokenizer.padding_side  # saved with the tokenizer (export/)
    peft = getattr(backbone, "peft", None)
    return ConditionalGenerationHead(model, tokenizer, settings, merge_adapters=peft.merge_on_export if peft else True)
