"""Train, evaluate, predict and export as plain functions of a validated :class:`RunConfig` (no Hydra).

``train(config)`` builds data, tokenizer, head, metrics, module and trainer from the
registry; fits (or resumes); evaluates the best checkpoint on validation and test data;
streams test predictions to ``predictions.jsonl``; and writes ``metrics.json`` and
``export/``. ``evaluate``, ``predict`` and ``export`` start from a trained model: a
``.ckpt`` file, an ``export/`` folder or a run directory. Only rank 0 writes run files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Optional

from glmtasks.config import BackboneConfig, RunConfig, build_dataclass, raise_if_errors
from glmtasks.errors import ConfigError, DataError, RunDirError, WriteError
from glmtasks.registry import Registry, default_registry
from glmtasks.report import write_report
from glmtasks.runinfo import recorded_run
from glmtasks.specs import TaskSpec, resolve_factory

log = logging.getLogger(__name__)

RUN_OUTPUTS = ("metrics.json", "checkpoints", "export", "predictions.jsonl")
METADATA = "glmtasks.json"
TOKENIZER_DIR = "tokenizer"


@dataclass
class ResolvedTask:
    """The task spec with the config's choices of head, metrics and monitor applied."""

    spec: TaskSpec
    head: str
    datamodule: str
    metrics: list[str]
    monitor: str
    mode: str


def resolve_task(config: RunConfig, registry: Registry) -> ResolvedTask:
    """Apply ``task.*`` and ``data.datamodule`` overrides to the registered task's defaults."""
    spec = registry.tasks.get(config.task.name)
    head = config.task.head or spec.head
    registry.heads.get(head)
    datamodule = config.data.get("datamodule") or spec.datamodule
    registry.datamodules.get(datamodule)
    metrics = list(config.task.metrics or spec.metrics)
    for name in metrics:
        registry.metrics.get(name)
    monitor = config.task.monitor or spec.monitor
    if monitor not in metrics:
        raise ConfigError(f"task.monitor '{monitor}' is not one of the metrics {metrics}; set task.monitor=<metric>")
    mode = config.task.mode or spec.mode
    if mode not in ("min", "max"):
        raise ConfigError(f"task.mode must be min or max, got '{mode}'")
    return ResolvedTask(spec, head, datamodule, metrics, monitor, mode)


def build_data_config(config: RunConfig, task: ResolvedTask, registry: Registry, errors: list[str]) -> Any:
    """The ``data:`` section as the datamodule's config class; problems are appended to ``errors``."""
    spec = registry.datamodules.get(task.datamodule)
    return build_dataclass(resolve_factory(spec.config_class), dict(config.data), "data", errors)


def build_head_config(values: Mapping[str, Any], task: ResolvedTask, registry: Registry, errors: list[str]) -> Any:
    """``task.head_config`` as the head's config class (a dict for a head without one).

    When the config picks a head other than the task's own, the default head's options that
    still have their default values (the declared keys every config carries) are dropped.
    """
    spec = registry.heads.get(task.head)
    values = dict(values)
    default_head = registry.heads.get(task.spec.head)
    if task.head != task.spec.head and default_head.config_class:
        defaults = _option_defaults(default_head.config_class)
        values = {k: v for k, v in values.items() if not (k in defaults and defaults[k] == v)}
    if spec.config_class is None:
        for key in values:
            errors.append(f"unknown key 'task.head_config.{key}': head '{spec.name}' takes no options")
        return {}
    return build_dataclass(resolve_factory(spec.config_class), values, "task.head_config", errors)


def check_config(config: RunConfig, registry: Registry) -> ResolvedTask:
    """Resolve the task and validate its data and head sections; all problems in one :class:`ConfigError`."""
    from glmtasks.loggers import check_logger

    task = resolve_task(config, registry)
    check_logger(config)
    errors: list[str] = []
    build_data_config(config, task, registry, errors)
    build_head_config(config.task.head_config, task, registry, errors)
    peft = config.backbone.peft
    if peft is not None and not peft.merge_on_export and config.backbone.name_or_path is None and config.export:
        errors.append(
            "backbone.peft.merge_on_export=false exports only the adapters, but a model built from scratch has its base "
            "weights nowhere else; keep backbone.peft.merge_on_export=true (or start from a saved model: backbone.name_or_path=<dir>)"
        )
    raise_if_errors(errors)
    return task


def build_datamodule(config: RunConfig, task: ResolvedTask, registry: Registry):
    """The task's datamodule, with the ``data:`` section validated against its config class."""
    errors: list[str] = []
    data_config = build_data_config(config, task, registry, errors)
    raise_if_errors(errors)
    return resolve_factory(registry.datamodules.get(task.datamodule).factory)(data_config)


def prepare_run_dir(config: RunConfig) -> Path:
    """The run directory; refuses one that already holds another run's outputs."""
    if config.paths.run_dir:
        run_dir = Path(config.paths.run_dir)
    else:
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S") + f"_{time.time_ns() % 1_000_000_000:09d}"
        run_dir = Path(config.paths.output_dir) / config.task.name / stamp
    refuse_used_run_dir(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def refuse_used_run_dir(run_dir: Path) -> None:
    """Raise :class:`RunDirError` if ``run_dir`` holds outputs of an earlier run.

    Only rank 0 checks: the other ranks of a distributed run share rank 0's directory
    (Lightning starts them with the same ``hydra.run.dir``) and may start after it wrote.
    """
    from glmtasks.distributed import is_rank_zero

    if not is_rank_zero():
        return
    existing = [name for name in RUN_OUTPUTS if (run_dir / name).exists()]
    if existing:
        raise RunDirError(
            f"run directory {run_dir} already holds {', '.join(existing)} from an earlier run; "
            "choose a new one with hydra.run.dir=<dir> (or leave it unset for a fresh one)"
        )


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON through a temporary file and a rename, so readers never see half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def export_head(head: Any, directory: Path, metadata: dict[str, Any], merge_adapters: bool = True) -> None:
    """Save the head's model and tokenizer to ``directory`` atomically (:func:`glmtasks.head.save_head`).

    Everything is written to a sibling temporary folder first and renamed at the end: a
    killed export never leaves a folder named ``export`` that looks complete.
    """
    from glmtasks.head import save_head

    tmp = directory.with_name(directory.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tmp.mkdir(parents=True)
        save_head(head, tmp, merge_adapters)
        write_json_atomic(tmp / METADATA, metadata)
        os.replace(tmp, directory)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise WriteError(f"cannot write the export {directory}: {exc.strerror or exc}; nothing of it was kept (an earlier export is intact); free space and rerun with mode=export checkpoint=<run>") from exc


def merges_adapters(backbone: BackboneConfig) -> bool:
    """Whether an export merges LoRA adapters into the weights (``backbone.peft.merge_on_export``, default yes)."""
    return backbone.peft.merge_on_export if backbone.peft else True


def run(config: RunConfig, registry: Optional[Registry] = None) -> dict[str, Any]:
    """Run ``config.mode``: train, evaluate, predict, export or chat; returns what it wrote to metrics.json."""
    from glmtasks.progress import set_progress_bars

    set_progress_bars(config.callbacks.progress_bar)
    modes = {"train": train, "evaluate": evaluate, "predict": predict, "export": export, "chat": chat}
    return modes[config.mode](config, registry)


def config_hash(config: RunConfig) -> str:
    """Fingerprint of everything that defines a training run (not where it is written or resumed from)."""
    values = asdict(config)
    values["paths"] = {k: v for k, v in values["paths"].items() if k != "run_dir"}
    for key in ("resume", "checkpoint"):
        values.pop(key, None)
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:16]


def find_resumable_run(config: RunConfig) -> Optional[Path]:
    """The newest unfinished run of the same config (same hash, a ``last.ckpt``, no ``metrics.json``)."""
    root = Path(config.paths.output_dir) / config.task.name
    wanted = config_hash(config)
    for meta in sorted(root.glob(f"*/{METADATA}"), reverse=True):
        run_dir = meta.parent
        if (run_dir / "metrics.json").exists() or not (run_dir / "checkpoints" / "last.ckpt").is_file():
            continue
        if json.loads(meta.read_text(encoding="utf-8")).get("config_hash") == wanted:
            return run_dir
    return None


def _resume_point(config: RunConfig) -> tuple[Optional[Path], Optional[Path]]:
    """(run directory, checkpoint) to continue from, or (None, None) for a fresh run."""
    if not config.resume:
        return None, None
    if config.resume == "auto":
        run_dir = find_resumable_run(config)
        if run_dir is None:
            log.info("resume=auto: no unfinished run of this config; starting a new run")
            return None, None
        return run_dir, run_dir / "checkpoints" / "last.ckpt"
    ckpt = Path(config.resume)
    if not ckpt.is_file():
        raise ConfigError(f"resume checkpoint not found: {ckpt}; use resume=auto or resume=<path to .ckpt>")
    return ckpt.parent.parent, ckpt


def _metadata(task: ResolvedTask, task_info: dict[str, Any], config: RunConfig, head_config: Any) -> dict[str, Any]:
    return {
        "task": task.spec.name,
        "head": task.head,
        "task_info": task_info,
        "head_config": _as_dict(head_config),
        "config_hash": config_hash(config),
        "glmtasks_version": _version(),
    }


def train(config: RunConfig, registry: Optional[Registry] = None) -> dict[str, Any]:
    """Fit the configured task (or resume it) and write the run's outputs; returns the metrics written.

    The returned dict has ``val`` and ``test`` metric dicts, the ``monitor`` name and its
    best validation ``score``, and the ``run_dir``.
    """
    import lightning as L

    from glmtasks.backbone import load_tokenizer
    from glmtasks.module import TaskModule
    from glmtasks.trainer import JsonlPredictionWriter, build_trainer

    started_at = time.time()
    registry = registry or default_registry()
    task = resolve_task(config, registry)
    L.seed_everything(config.seed, workers=True, verbose=False)
    resume_dir, resume_ckpt = _resume_point(config)
    datamodule = build_datamodule(config, task, registry)
    tokenizer_config = config.backbone
    if resume_dir is not None and (resume_dir / TOKENIZER_DIR).is_dir():
        tokenizer_config = replace(config.backbone, tokenizer=str(resume_dir / TOKENIZER_DIR))
    tokenizer = load_tokenizer(tokenizer_config, datamodule.training_texts)
    datamodule.set_tokenizer(tokenizer)
    errors: list[str] = []
    head_config = build_head_config(config.task.head_config, task, registry, errors)
    raise_if_errors(errors)
    head = _make_head(registry, task, config.backbone, tokenizer, datamodule.task_info, head_config)
    compile_backbone(config, head, datamodule)
    module = TaskModule(head, _make_metrics(registry, task, datamodule.task_info), config.optimizer, config.scheduler)

    run_dir = resume_dir or prepare_run_dir(config)
    predict_split = _predict_split(config)
    writer = JsonlPredictionWriter(run_dir / "predictions.jsonl", lambda index: datamodule.example_record(predict_split, index))
    trainer = build_trainer(config, run_dir, task.monitor, task.mode, extra_callbacks=[writer], model=head)
    # The test pass writes the test split's predictions (when the head builds them from its
    # evaluation forward) unless a predict_file is set or the pass skips batches (an int
    # limit counts batches, a float is a fraction: 1 is one batch, 1.0 all of them).
    full_test = isinstance(trainer.limit_test_batches, float) and trainer.limit_test_batches == 1.0
    writer.from_test = predict_split == "test" and full_test
    # Without test data the test split is the validation split: the last validation of the
    # fit, when it scored the best weights, stands in for the test pass (same data, same weights).
    writer.from_fit_validation = writer.from_test and getattr(datamodule, "test_is_validation", False)
    if trainer.is_global_zero and resume_dir is None:
        _write_config(config, run_dir)
        write_json_atomic(run_dir / METADATA, _metadata(task, datamodule.task_info, config, head_config))
        tokenizer.save_pretrained(run_dir / TOKENIZER_DIR)
    if trainer.is_global_zero and trainer.loggers:
        from glmtasks.loggers import log_config

        log_config(trainer.loggers, config, run_dir)

    with recorded_run(run_dir, "train", started_at, write=trainer.is_global_zero):
        result = _fit_and_test(config, registry, task, datamodule, module, trainer, writer, run_dir, resume_ckpt, head_config)
    trainer.strategy.barrier()
    return result


def _fit_and_test(config: RunConfig, registry: Registry, task: ResolvedTask, datamodule: Any, module: Any, trainer: Any,
                  writer: Any, run_dir: Path, resume_ckpt: Optional[Path], head_config: Any) -> dict[str, Any]:
    """Fit, score the best weights on validation and test data, write metrics.json, export/ and the report."""
    from glmtasks.precision import choose_precision
    from glmtasks.trainer import best_checkpoint, best_is_current

    started = time.perf_counter()
    trainer.fit(module, datamodule=datamodule, ckpt_path=str(resume_ckpt) if resume_ckpt else None)
    fit_seconds = time.perf_counter() - started
    best = best_checkpoint(trainer)
    if best and best_is_current(trainer):
        # The last validation scored the very weights in memory: no reload, no second pass.
        val = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        weights = None
    else:
        val = _scalars(trainer.validate(module, datamodule=datamodule, ckpt_path=best, verbose=False))
        weights = best
    if weights is None and writer.from_fit_validation and writer.fit_validation_complete:
        test = {"test/" + name[len("val/"):]: value for name, value in val.items()}
        test_metrics = module.val_metrics
        writer.adopt_fit_validation()
        log.info("test: the test split is the validation split and the best weights are the last validated, so its scores are reused")
    else:
        writer.discard_fit_validation()
        test = _scalars(trainer.test(module, datamodule=datamodule, ckpt_path=weights, verbose=False))
        test_metrics = module.test_metrics
    if not writer.complete:
        trainer.predict(module, dataloaders=datamodule.predict_dataloader(), ckpt_path=weights, return_predictions=False)

    result = {
        "task": task.spec.name,
        "monitor": f"val/{task.monitor}",
        "mode": task.mode,
        "score": val.get(f"val/{task.monitor}"),
        "val": val,
        "test": test,
        "metric_metadata": metric_metadata(test_metrics),
        "best_checkpoint": best,
        "resumed_from": str(resume_ckpt) if resume_ckpt else None,
        "train_samples_per_second": round(trainer.global_step * _train_batch_size(datamodule) * trainer.world_size / fit_seconds, 2)
        if fit_seconds > 0 else None,
        "fit_seconds": round(fit_seconds, 2),
        "precision": choose_precision(config.trainer, module.head).as_dict(),
        "global_steps": trainer.global_step,
        "skipped_rows": getattr(datamodule, "skipped_rows", {}),
        "run_dir": str(run_dir),
    }
    if trainer.is_global_zero:
        write_json_atomic(run_dir / "metrics.json", result)
        if config.export:
            export_head(module.head, run_dir / "export", _metadata(task, datamodule.task_info, config, head_config), merges_adapters(config.backbone))
        write_report(run_dir, registry)
        if trainer.loggers:
            from glmtasks.loggers import log_artifacts

            log_artifacts(trainer.loggers, run_dir, run_dir / "export" if config.export and config.logger.log_export else None)
        log.info("run directory: %s", run_dir)
    return result


# ---------------------------------------------------------------------------------------
# Starting from a trained model.


@dataclass
class TrainedModel:
    """Where a trained model comes from and what it needs to be rebuilt.

    Attributes:
        backbone: the backbone config that rebuilds the model (an export folder, or the
            training run's backbone with its saved tokenizer).
        metadata: the run's ``glmtasks.json`` (task, head, task_info, head_config).
        head_state: weights of the head from a ``.ckpt`` (None for an export folder, whose
            weights load with the model).
        source: the path the user gave.
    """

    backbone: BackboneConfig
    metadata: dict[str, Any]
    head_state: Optional[dict[str, Any]]
    source: str


def locate_trained_model(path: str) -> TrainedModel:
    """Resolve ``checkpoint=`` (a ``.ckpt``, an ``export/`` folder or a run directory).

    Checkpoints are read with ``torch.load(weights_only=True)``: no code in a checkpoint runs.
    """
    location = Path(path)
    if location.is_dir() and (location / METADATA).is_file() and (location / "config.json").is_file():
        metadata = json.loads((location / METADATA).read_text(encoding="utf-8"))
        backbone = BackboneConfig(name="export", name_or_path=str(location))
        return TrainedModel(backbone, metadata, None, path)
    if location.is_dir() and (location / "export" / METADATA).is_file():
        return locate_trained_model(str(location / "export"))
    if location.is_dir() and (location / "checkpoints").is_dir():
        checkpoints = sorted((location / "checkpoints").glob("best-*.ckpt")) or sorted((location / "checkpoints").glob("last.ckpt"))
        if checkpoints:
            return locate_trained_model(str(checkpoints[-1]))
    if location.is_file() and location.suffix == ".ckpt":
        return _from_checkpoint(location)
    raise ConfigError(
        f"checkpoint={path} is not a .ckpt file, an export/ folder or a run directory with either; "
        "point it at one of those"
    )


def _from_checkpoint(ckpt: Path) -> TrainedModel:
    import torch
    import yaml

    run_dir = ckpt.parent.parent
    meta_file, config_file = run_dir / METADATA, run_dir / "config.yaml"
    if not (meta_file.is_file() and config_file.is_file()):
        raise DataError(f"checkpoint {ckpt} is not inside a glmtasks run directory ({METADATA} and config.yaml are missing next to checkpoints/)")
    errors: list[str] = []
    backbone_values = yaml.safe_load(config_file.read_text(encoding="utf-8"))["backbone"]
    backbone = build_dataclass(BackboneConfig, backbone_values, "backbone", errors)
    raise_if_errors(errors)
    if (run_dir / TOKENIZER_DIR).is_dir():
        backbone = replace(backbone, tokenizer=str(run_dir / TOKENIZER_DIR))
    try:
        state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    except Exception as exc:  # noqa: BLE001 - truncated or foreign files
        raise DataError(f"cannot read checkpoint {ckpt}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    head_state = {k[len("head."):]: v for k, v in state.items() if k.startswith("head.")}
    return TrainedModel(backbone, json.loads(meta_file.read_text(encoding="utf-8")), head_state, str(ckpt))


def _trained_task(config: RunConfig, registry: Optional[Registry]):
    """Registry, task (with the head it was trained with) and the trained model of ``checkpoint=``."""
    registry = registry or default_registry()
    trained = locate_trained_model(config.checkpoint)
    trained_task = trained.metadata["task"]
    if trained_task != config.task.name:
        raise ConfigError(f"{trained.source} was trained for task '{trained_task}', not '{config.task.name}'; pass task={trained_task}")
    task = resolve_task(config, registry)
    task.head = trained.metadata.get("head", task.head)
    return registry, task, trained


def changed_head_options(config: RunConfig, task: ResolvedTask, registry: Registry) -> dict[str, Any]:
    """The ``task.head_config`` options this command sets to other than their defaults, e.g.
    ``task.head_config.num_beams=4`` to evaluate a model trained with greedy decoding by beam search."""
    spec = registry.heads.get(task.head)
    if spec is None or spec.config_class is None:
        return {}
    defaults = _option_defaults(spec.config_class)
    return {k: v for k, v in config.task.head_config.items() if k in defaults and defaults[k] != v}


def _option_defaults(config_class: Any) -> dict[str, Any]:
    """Every option of a head's config class with its default value."""
    return dataclasses.asdict(resolve_factory(config_class)())


def _trained_head(registry: Registry, task: ResolvedTask, trained: TrainedModel, tokenizer: Any, overrides: Optional[Mapping[str, Any]] = None):
    """The head of a trained model with its weights, in evaluation mode; ``overrides`` replace
    options of the trained run's head config (decoding settings, say)."""
    errors: list[str] = []
    head_config = build_head_config({**trained.metadata.get("head_config", {}), **(overrides or {})}, task, registry, errors)
    raise_if_errors(errors)
    head = _make_head(registry, task, trained.backbone, tokenizer, trained.metadata["task_info"], head_config)
    if trained.head_state is not None:
        head.load_state_dict(trained.head_state)
    return head.eval()


def _trained_setup(config: RunConfig, registry: Optional[Registry]):
    """Registry, task, datamodule and head of a trained model, with the data encoded its way."""
    from glmtasks.backbone import load_tokenizer

    registry, task, trained = _trained_task(config, registry)
    datamodule = build_datamodule(config, task, registry)
    datamodule.adopt_task_info(trained.metadata["task_info"])
    tokenizer = load_tokenizer(trained.backbone)
    datamodule.set_tokenizer(tokenizer)
    overrides = changed_head_options(config, task, registry)
    if overrides:
        log.info("head options of this command replace the trained run's: %s", ", ".join(f"{k}={v}" for k, v in overrides.items()))
    head = _trained_head(registry, task, trained, tokenizer, overrides)
    compile_backbone(config, head, datamodule)
    return registry, task, datamodule, head, trained


def _inference_trainer(config: RunConfig, run_dir: Path, callbacks: list = (), model: Any = None):
    import lightning as L

    from glmtasks.distributed import lightning_trainer_kwargs
    from glmtasks.precision import resolve_precision
    from glmtasks.trainer import progress_callbacks

    inference_keys = ("accelerator", "devices", "precision", "strategy", "num_nodes")
    kwargs = lightning_trainer_kwargs(resolve_precision({k: v for k, v in config.trainer.items() if k in inference_keys}, model, announce=True))
    return L.Trainer(default_root_dir=str(run_dir), logger=False, enable_checkpointing=False,
                     enable_progress_bar=config.callbacks.progress_bar, use_distributed_sampler=False,
                     callbacks=list(callbacks) + progress_callbacks(config), **kwargs)


def evaluate(config: RunConfig, registry: Optional[Registry] = None) -> dict[str, Any]:
    """Metrics of a trained model on ``config.eval_split``, written to ``metrics.json``."""
    from glmtasks.module import TaskModule
    from glmtasks.precision import choose_precision
    from glmtasks.trainer import JsonlPredictionWriter

    started_at = time.time()
    registry, task, datamodule, head, trained = _trained_setup(config, registry)
    module = TaskModule(head, _make_metrics(registry, task, trained.metadata["task_info"]), config.optimizer, config.scheduler)
    run_dir = prepare_run_dir(config)
    validation = config.eval_split == "validation"
    # The evaluated split's predictions come from the scoring pass itself (heads with a prediction builder).
    writer = JsonlPredictionWriter(run_dir / "predictions.jsonl", lambda index: datamodule.example_record(config.eval_split, index),
                                   from_test=not validation, from_validation=validation)
    trainer = _inference_trainer(config, run_dir, [writer], model=head)
    with recorded_run(run_dir, "evaluate", started_at, write=trainer.is_global_zero):
        scoring_started = time.perf_counter()
        if validation:
            metrics = _scalars(trainer.validate(module, datamodule=datamodule, verbose=False))
        else:
            metrics = _scalars(trainer.test(module, datamodule=datamodule, verbose=False))
        result = {"task": task.spec.name, "mode": "evaluate", "checkpoint": trained.source, "split": config.eval_split,
                  "eval_seconds": round(time.perf_counter() - scoring_started, 3),
                  "metrics": metrics, "score": metrics.get(f"{'val' if validation else 'test'}/{task.monitor}"),
                  "monitor": f"{'val' if validation else 'test'}/{task.monitor}",
                  "precision": choose_precision(config.trainer, head).as_dict(),
                  "skipped_rows": getattr(datamodule, "skipped_rows", {}), "run_dir": str(run_dir)}
        if trainer.is_global_zero:
            write_json_atomic(run_dir / "metrics.json", result)
            write_report(run_dir, registry)
    return result


def predict(config: RunConfig, registry: Optional[Registry] = None) -> dict[str, Any]:
    """Predictions of a trained model for ``data.predict_file`` (or the test split), streamed to ``predictions.jsonl``."""
    from glmtasks.module import TaskModule
    from glmtasks.trainer import JsonlPredictionWriter

    registry, task, datamodule, head, trained = _trained_setup(config, registry)
    module = TaskModule(head, {}, config.optimizer, config.scheduler)
    run_dir = prepare_run_dir(config)
    split = _predict_split(config)
    writer = JsonlPredictionWriter(run_dir / "predictions.jsonl", lambda index: datamodule.example_record(split, index))
    trainer = _inference_trainer(config, run_dir, [writer], model=head)
    started = time.perf_counter()  # predict_seconds: tokenizing (every configured split), the model, writing the file
    datamodule.setup("predict")
    trainer.predict(module, dataloaders=datamodule.predict_dataloader(), return_predictions=False)
    seconds = time.perf_counter() - started
    count = sum(1 for _ in (run_dir / "predictions.jsonl").open(encoding="utf-8")) if trainer.is_global_zero else None
    result = {"task": task.spec.name, "mode": "predict", "checkpoint": trained.source, "predictions": count,
              "predict_seconds": round(seconds, 3), "skipped_rows": getattr(datamodule, "skipped_rows", {}),
              "run_dir": str(run_dir), "score": None}
    if trainer.is_global_zero:
        write_json_atomic(run_dir / "metrics.json", result)
    return result


def export(config: RunConfig, registry: Optional[Registry] = None) -> dict[str, Any]:
    """Write ``export/`` (a folder plain transformers loads) from a trained model."""
    registry, task, _, head, trained = _trained_setup(config, registry)
    run_dir = prepare_run_dir(config)
    metadata = {**trained.metadata, "exported_from": trained.source}
    export_head(head, run_dir / "export", metadata, merges_adapters(trained.backbone))
    return {"task": task.spec.name, "mode": "export", "checkpoint": trained.source, "export": str(run_dir / "export"),
            "run_dir": str(run_dir), "score": None}


def chat(config: RunConfig, registry: Optional[Registry] = None, stdin: Any = None, stdout: Any = None) -> dict[str, Any]:
    """Talk with a trained model in the terminal (:mod:`glmtasks.interactive`); the exchanges go to ``conversation.jsonl``."""
    import sys

    from glmtasks.backbone import load_tokenizer
    from glmtasks.interactive import converse, head_reply

    registry, task, trained = _trained_task(config, registry)
    overrides = changed_head_options(config, task, registry)
    reply = head_reply(_trained_head(registry, task, trained, load_tokenizer(trained.backbone), overrides))
    run_dir = prepare_run_dir(config)
    system = config.data.get("system_prompt")
    turns = converse(reply, stdin or sys.stdin, stdout or sys.stdout, system, run_dir / "conversation.jsonl")
    return {"task": task.spec.name, "mode": "chat", "checkpoint": trained.source, "replies": turns, "run_dir": str(run_dir), "score": None}


def compile_backbone(config: RunConfig, head: Any, datamodule: Any) -> None:
    """With ``compile=true``: ``torch.compile`` the head's model in place (parameter names, and so
    checkpoints and exports, unchanged) and pad batches to multiples of 16 unless
    ``data.pad_to_multiple_of`` says otherwise, so that few distinct shapes are compiled."""
    if not config.compile:
        return
    data_config = getattr(datamodule, "config", None)
    if data_config is not None and getattr(data_config, "pad_to_multiple_of", 0) is None:
        data_config.pad_to_multiple_of = 16
    log.info("compile: torch.compile of the backbone; batches padded to multiples of %s", getattr(data_config, "pad_to_multiple_of", None))
    head.model.compile()


def _make_head(registry: Registry, task: ResolvedTask, backbone: BackboneConfig, tokenizer: Any, task_info: dict, head_config: Any):
    factory = resolve_factory(registry.heads.get(task.head).factory)
    return factory(backbone, tokenizer, task_info, head_config)


def _as_dict(head_config: Any) -> dict[str, Any]:
    return asdict(head_config) if dataclasses.is_dataclass(head_config) else dict(head_config)


def _make_metrics(registry: Registry, task: ResolvedTask, task_info: dict) -> dict[str, Any]:
    return {name: registry.metrics.get(name).build(task_info) for name in task.metrics}


def _write_config(config: RunConfig, run_dir: Path) -> None:
    import yaml

    text = yaml.safe_dump(json.loads(json.dumps(asdict(config), default=str)), sort_keys=False, allow_unicode=True)
    (run_dir / "config.yaml").write_text(text, encoding="utf-8")


def metric_metadata(metrics: Any) -> dict[str, Any]:
    """Non-scalar facts that metrics expose through an optional ``metadata()`` method, by metric name.

    For example a sacreBLEU signature; written under ``metric_metadata`` in metrics.json.
    """
    return {name: metric.metadata() for name, metric in metrics.items() if callable(getattr(metric, "metadata", None))}


def _predict_split(config: RunConfig) -> str:
    """The split whose predictions ``predictions.jsonl`` holds: ``predict`` with a ``data.predict_file``, else ``test``."""
    return "predict" if config.data.get("predict_file") else "test"


def _scalars(results: list[dict[str, Any]]) -> dict[str, float]:
    merged: dict[str, float] = {}
    for result in results:
        merged.update({k: float(v) for k, v in result.items()})
    return merged


def _train_batch_size(datamodule: Any) -> int:
    return int(getattr(getattr(datamodule, "config", None), "batch_size", 0))


def _version() -> str:
    from glmtasks import __version__

    return __version__
