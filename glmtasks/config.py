"""Typed run configuration: the composed Hydra config checked against dataclasses.

Every section is validated and all problems are reported at once, each naming the
override that fixes it. Unknown keys are errors (with a "did you mean" hint). Sections that
mirror a library's signature (``trainer`` -> ``lightning.Trainer``, ``optimizer`` ->
a ``torch.optim`` class) are checked against that signature, so they never drift from it.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

from glmtasks.errors import ConfigError
from glmtasks.registry import did_you_mean


@dataclass
class TaskConfig:
    """The ``task:`` section. The composed config fills every field from the registered
    :class:`glmtasks.specs.TaskSpec` (``task_defaults/<task>``); None also means "the task's own"."""

    name: str
    """Registered task name (``task=<name>``)."""
    head: Optional[str] = None
    """Head to use (``python -m glmtasks plugins`` lists them); default: the task's head."""
    metrics: Optional[list] = None
    """Metric names; default: the task's metrics."""
    monitor: Optional[str] = None
    """Metric that picks the best checkpoint; default: the task's."""
    mode: Optional[str] = None
    """``max`` or ``min`` for ``monitor``; default: the task's."""
    head_config: dict = field(default_factory=dict)
    """The head's options: the fields of its ``HeadSpec.config_class``, all declared with their defaults."""


@dataclass
class PeftConfig:
    """Parameter-efficient fine-tuning through the ``peft`` library (``peft=lora`` sets ``backbone.peft``)."""

    name: str = "lora"
    """Method; ``lora`` is supported."""
    r: int = 8
    """LoRA rank."""
    alpha: int = 16
    """LoRA scaling numerator (the update is scaled by alpha / r)."""
    dropout: float = 0.05
    """Dropout on the LoRA branch."""
    target_modules: Optional[list] = None
    """Module names to adapt; default: GLM's projections for GLM models, peft's defaults otherwise."""
    merge_on_export: bool = True
    """Merge the adapters into the weights in ``export/`` (a plain transformers model); else save adapters."""


@dataclass
class BackboneConfig:
    """The ``backbone:`` section: which transformers model and tokenizer to use."""

    name: str
    """Display name of the preset (``backbone=<file>`` sets it)."""
    name_or_path: Optional[str] = None
    """Hub id or local directory of a pretrained model; None builds ``model_type`` from ``model_config``."""
    model_type: str = "glm"
    """transformers model type for models built from a config (``glm``, ``glm4``, ``bert``, ...)."""
    model_config: dict = field(default_factory=dict)
    """Config fields for a model built from scratch, or overrides of a pretrained model's config."""
    tokenizer: Optional[str] = None
    """Hub id or directory of the tokenizer; default: ``name_or_path``; None with no model: train one."""
    tokenizer_vocab_size: int = 4000
    """Vocabulary size of the byte-level BPE tokenizer trained on the training text (from-scratch models)."""
    trust_remote_code: bool = False
    """Allow model code from the hub to run; off unless you trust the repository."""
    revision: Optional[str] = None
    """Hub revision (branch, tag or commit) to load."""
    dtype: Optional[str] = None
    """Weights dtype when loading (``bfloat16``, ``float16``, ``float32`` or ``auto``)."""
    attn_implementation: Optional[str] = None
    """Attention kernel (``eager``, ``sdpa``, ``flash_attention_2``)."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass to save memory."""
    peft: Optional[PeftConfig] = None
    """Adapters (LoRA) instead of full fine-tuning; set with ``peft=lora``."""


@dataclass
class DataConfig:
    """The ``data:`` keys every task has; a task's config class extends it with its own.

    The defaults written here are the only ones: the CLI declares every field of the task's
    config class (its data YAML sets only what differs), so no key needs a ``+``.
    """

    source: str = "files"
    """``files`` (the ``*_file`` keys), ``demo`` (the task's generated data set) or ``hub`` (``hub_dataset``; needs network)."""
    train_file: Optional[str] = None
    """Training data file; every ``*_file`` may name a member of a zip archive through it (``data.zip/train.tsv``)."""
    validation_file: Optional[str] = None
    """Validation data file; without it, ``validation_size`` training examples are held out."""
    test_file: Optional[str] = None
    """Test data file; without it, test metrics and predictions use the validation split."""
    predict_file: Optional[str] = None
    """Inputs to predict on (``mode=predict``; gold columns optional), whatever the source."""
    format: Optional[str] = None
    """File format: csv, tsv, json (also JSON lines), parquet or text; default: from the file suffix."""
    validation_size: Optional[int] = None
    """Hold out this many training examples (random, ``seed``) as validation when there is no validation file."""
    test_size: Optional[int] = None
    """Hold out this many training examples (random, ``seed``, disjoint from validation) as test when there is no test file."""
    hub_dataset: Optional[str] = None
    """Dataset name on the Hugging Face hub (``source=hub``)."""
    hub_config: Optional[str] = None
    """Configuration name of the hub dataset."""
    train_split: str = "train"
    """Hub split used for training."""
    validation_split: Optional[str] = "validation"
    """Hub split used for validation."""
    test_split: Optional[str] = None
    """Hub split used for testing (default: the validation split)."""
    max_length: int = 128
    """Tokens kept per input (longer inputs are truncated)."""
    batch_size: int = 32
    """Training batch size per device."""
    eval_batch_size: int = 64
    """Validation, test and prediction batch size per device."""
    group_by_length: bool = True
    """Batch examples of similar length together (less padding); the order is still shuffled."""
    pad_to_multiple_of: Optional[int] = None
    """Pad each batch to a multiple of N tokens, so few distinct shapes occur (``compile=true``
    defaults it to 16; Tensor Cores like multiples of 8)."""
    num_workers: int = 0
    """DataLoader worker processes."""
    max_train_samples: Optional[int] = None
    """Use a random subset of N training examples (``seed``)."""
    max_eval_samples: Optional[int] = None
    """Use only the first N validation and test examples."""
    seed: int = 0
    """Seed of subsampling, held-out validation and generated demo data."""
    demo_train_size: int = 2000
    """Training examples of the generated demo set (``source=demo``)."""
    demo_eval_size: int = 200
    """Validation (and test) examples of the generated demo set."""
    datamodule: Optional[str] = None
    """Registered datamodule to use instead of the task's own (``python -m glmtasks plugins`` lists them)."""
    invalid_rows: str = "error"
    """What an invalid row (an empty text, a missing label...) does: ``error`` stops with one line naming the
    file, the row and the column; ``skip`` drops it, logs it and counts it in metrics.json (``skipped_rows``)."""
    cache_features: bool = True
    """Keep encoded splits in an on-disk cache shared by runs and sweep trials (keyed by data, config, tokenizer and code)."""
    cache_dir: Optional[str] = None
    """Folder of that cache; default: ``$GLMTASKS_CACHE/features`` or ``~/.cache/glmtasks/features``."""


@dataclass
class OptimizerConfig:
    """The ``optimizer:`` section: a ``torch.optim`` class and its keyword arguments."""

    name: str = "AdamW"
    """Class in ``torch.optim`` (``AdamW``, ``Adam``, ``SGD``, ...)."""
    lr: float = 5e-5
    """Peak learning rate."""
    weight_decay: float = 0.01
    """Weight decay for all weights except biases and normalization weights."""
    kwargs: dict = field(default_factory=dict)
    """Further keyword arguments of the optimizer class (``betas``, ``eps``, ``momentum``)."""


@dataclass
class SchedulerConfig:
    """The ``scheduler:`` section: learning-rate schedule, stepped every optimizer step."""

    name: str = "linear"
    """``linear`` (warmup then linear decay to 0), ``cosine`` (warmup then cosine) or ``constant`` (warmup then flat)."""
    warmup_steps: float = 0.1
    """Warmup length: a step count (>= 1) or a fraction of all training steps (< 1)."""


@dataclass
class LoggerConfig:
    """The ``logger:`` section."""

    name: str = "csv"
    """``csv``, ``tensorboard``, ``mlflow``, ``wandb`` or ``none`` (all but ``none`` also write ``logs/metrics.csv``)."""
    experiment: str = "glmtasks"
    """MLflow experiment name / W&B project."""
    tracking_uri: Optional[str] = None
    """MLflow tracking URI (``http://host:5000``, ``sqlite:///mlflow.db``); default: the file store ``<paths.output_dir>/mlruns``."""
    offline: bool = True
    """W&B: write the run under ``<run dir>/wandb/`` without network (``wandb sync`` uploads it); false logs online."""
    log_export: bool = True
    """MLflow / W&B: log ``export/`` as an artifact (with metrics.json and the report)."""


@dataclass
class CheckpointConfig:
    """Model checkpointing (``callbacks.checkpoint``)."""

    enabled: bool = True
    save_top_k: int = 1
    """How many best checkpoints (by the task's monitor) to keep."""
    save_last: bool = True
    """Also keep ``last.ckpt`` for resuming."""
    every_n_train_steps: Optional[int] = None
    """Also refresh ``last.ckpt`` every N optimizer steps (mid-epoch resume points)."""


@dataclass
class EarlyStoppingConfig:
    """Early stopping on the task's monitor (``callbacks.early_stopping``)."""

    enabled: bool = False
    patience: int = 3
    min_delta: float = 0.0


@dataclass
class CallbacksConfig:
    """The ``callbacks:`` section."""

    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    progress_bar: bool = True
    """Show a progress bar (turn off for logs written to files: plain progress lines are printed instead)."""
    progress_interval: float = 30.0
    """Seconds between those plain progress lines (``progress_bar=false``): step, loss, rate, ETA."""
    lr_monitor: bool = True
    """Log the learning rate each step."""


@dataclass
class PathsConfig:
    """The ``paths:`` section."""

    output_dir: str = "outputs"
    """Root of run directories."""
    shared_data: str = "../shared/data"
    """Folder with the public datasets the data configs read."""
    run_dir: Optional[str] = None
    """This run's directory (set by Hydra from ``hydra.run.dir``)."""


@dataclass
class RunConfig:
    """The whole validated run configuration (``data`` is validated by the datamodule)."""

    task: TaskConfig
    backbone: BackboneConfig
    trainer: dict
    optimizer: OptimizerConfig
    scheduler: SchedulerConfig
    logger: LoggerConfig
    callbacks: CallbacksConfig
    paths: PathsConfig
    data: dict = field(default_factory=dict)
    mode: str = "train"
    """``train`` (fit, test the best checkpoint, predict, export), ``evaluate``, ``predict``, ``export``, or
    ``chat`` (talk with a trained conversational model in the terminal)."""
    checkpoint: Optional[str] = None
    """Model for evaluate/predict/export: a ``.ckpt`` file, an ``export/`` folder, or a run directory."""
    eval_split: str = "validation"
    """Split scored by ``mode=evaluate``: ``validation`` or ``test``."""
    resume: Optional[str] = None
    """``auto`` continues the latest unfinished run of the same config; or a ``.ckpt`` path."""
    seed: int = 42
    """Seed for Python, NumPy and torch (every rank)."""
    export: bool = True
    """Write ``export/`` (a folder plain transformers loads) at the end of training."""
    compile: bool = False
    """``torch.compile`` the backbone in place (batches padded to multiples of
    ``data.pad_to_multiple_of``, 16 unless set, so shapes repeat). Off by default: on this
    project's CPU benchmarks the compile time outweighs the faster steps (bench/RESULTS.md)."""


# ---------------------------------------------------------------------------------------
# Generic dataclass building with collected errors.


def build_dataclass(cls: type, values: Mapping[str, Any], section: str, errors: list[str]) -> Any:
    """Build ``cls`` from ``values``; append one message per problem to ``errors``.

    Returns the instance, or None when a required field is missing.
    """
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    prefix = f"{section}." if section else ""
    for key, value in values.items():
        if key not in fields:
            errors.append(
                f"unknown key '{prefix}{key}'{did_you_mean(key, fields)}; "
                f"valid keys{f' of {section!r}' if section else ''}: {', '.join(fields)}"
            )
            continue
        kwargs[key] = _coerce(value, hints[key], f"{prefix}{key}", errors)
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and name not in kwargs:
            errors.append(f"missing key '{prefix}{name}'; set it with {prefix}{name}=<value>")
            return None
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, where: str, errors: list[str]) -> Any:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        hint = next(o for o in options if o is not type(None))
        origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            errors.append(f"'{where}' must be a mapping, got {value!r}")
            return hint()
        return build_dataclass(hint, value, where, errors) or hint()
    expected = origin or hint
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected in (list, tuple) and isinstance(value, (list, tuple)):
        return list(value)
    if expected is dict and isinstance(value, Mapping):
        return dict(value)
    if expected is Any or (isinstance(expected, type) and isinstance(value, expected)):
        if expected is int and isinstance(value, bool):
            errors.append(f"'{where}' must be an integer, got {value!r}")
        return value
    errors.append(f"'{where}' must be {getattr(expected, '__name__', expected)}, got {value!r}; fix it with {where}=<value>")
    return value


def check_keywords(target: Any, values: Mapping[str, Any], section: str, errors: list[str]) -> None:
    """Append an error for each key of ``values`` that ``target``'s signature does not take."""
    parameters = inspect.signature(target).parameters
    accepted = [name for name, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in values:
        if key not in accepted:
            errors.append(f"unknown key '{section}.{key}'{did_you_mean(key, accepted)}; it is not an argument of {getattr(target, '__qualname__', target)}")


def raise_if_errors(errors: list[str]) -> None:
    """Raise one :class:`ConfigError` listing every collected problem."""
    if errors:
        raise ConfigError("invalid config: " + "; ".join(errors))


MODES = ("train", "evaluate", "predict", "export", "chat")


def parse_run_config(raw: Mapping[str, Any]) -> RunConfig:
    """Validate a composed config (a plain dict, interpolations resolved) into a RunConfig."""
    errors: list[str] = []
    values = dict(raw)
    values.pop("hydra", None)
    for optional in ("experiment", "hparams_search"):
        values.pop(optional, None)
    config = build_dataclass(RunConfig, values, "", errors)
    if config is not None:
        _check_trainer(config.trainer, errors)
        if config.mode not in MODES:
            errors.append(f"unknown mode '{config.mode}'{did_you_mean(config.mode, MODES)}; use mode={'|'.join(MODES)}")
        elif config.mode != "train" and not config.checkpoint:
            errors.append(f"mode={config.mode} needs a model: checkpoint=<.ckpt file, export/ folder or run directory>")
        if config.eval_split not in ("validation", "test"):
            errors.append(f"eval_split must be validation or test, got '{config.eval_split}'")
    raise_if_errors(errors)
    return config


def _check_trainer(trainer: Mapping[str, Any], errors: list[str]) -> None:
    from lightning import Trainer

    reserved = {"callbacks", "logger", "default_root_dir", "enable_checkpointing", "enable_progress_bar"}
    for key in reserved & set(trainer):
        errors.append(f"'trainer.{key}' is set by glmtasks; use the '{'callbacks' if key != 'logger' else 'logger'}' config group instead")
    check_keywords(Trainer.__init__, {k: v for k, v in trainer.items() if k not in reserved}, "trainer", errors)
    from glmtasks.distributed import check_strategy

    check_strategy(trainer.get("strategy"), errors)
