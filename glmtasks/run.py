"""Train, evaluate and export as plain functions of a validated :class:`RunConfig` (no Hydra).

``train(config)`` builds data, tokenizer, head, metrics, module and trainer from the
registry; fits; evaluates the best checkpoint on validation and test data; streams test
predictions to ``predictions.jsonl``; and writes ``metrics.json`` and ``export/``.
Only rank 0 writes run files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

from glmtasks.config import RunConfig, build_dataclass, raise_if_errors
from glmtasks.errors import ConfigError, RunDirError
from glmtasks.registry import Registry, default_registry
from glmtasks.specs import TaskSpec, resolve_factory

log = logging.getLogger(__name__)

RUN_OUTPUTS = ("metrics.json", "checkpoints", "export", "predictions.jsonl")


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


def build_datamodule(config: RunConfig, task: ResolvedTask, registry: Registry):
    """The task's datamodule, with the ``data:`` section validated against its config class."""
    spec = registry.datamodules.get(task.datamodule)
    values = {k: v for k, v in config.data.items() if k not in ("datamodule", "name")}
    errors: list[str] = []
    data_config = build_dataclass(resolve_factory(spec.config_class), values, "data", errors)
    raise_if_errors(errors)
    return resolve_factory(spec.factory)(data_config, task.spec)


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


def export_head(head: Any, directory: Path, metadata: dict[str, Any]) -> None:
    """Save the head's model and tokenizer to ``directory`` atomically.

    Everything is written to a sibling temporary folder first and renamed at the end: a
    killed export never leaves a folder named ``export`` that looks complete.
    """
    tmp = directory.with_name(directory.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    head.save_pretrained(tmp)
    write_json_atomic(tmp / "glmtasks.json", metadata)
    os.replace(tmp, directory)


def train(config: RunConfig, registry: Optional[Registry] = None) -> dict[str, Any]:
    """Fit the configured task and write the run's outputs; returns the metrics written.

    The returned dict has ``val`` and ``test`` metric dicts, the ``monitor`` name and its
    best validation ``score``, and the ``run_dir``.
    """
    import lightning as L

    from glmtasks.backbone import load_tokenizer
    from glmtasks.module import TaskModule
    from glmtasks.trainer import JsonlPredictionWriter, best_checkpoint, build_trainer

    registry = registry or default_registry()
    task = resolve_task(config, registry)
    L.seed_everything(config.seed, workers=True, verbose=False)
    datamodule = build_datamodule(config, task, registry)
    tokenizer = load_tokenizer(config.backbone, datamodule.training_texts)
    datamodule.set_tokenizer(tokenizer)
    head_factory = resolve_factory(registry.heads.get(task.head).factory)
    head = head_factory(config.backbone, tokenizer, datamodule.task_info, dict(config.task.head_config))
    metrics = {name: resolve_factory(registry.metrics.get(name).factory)(datamodule.task_info) for name in task.metrics}
    module = TaskModule(head, metrics, config.optimizer, config.scheduler)

    run_dir = prepare_run_dir(config)
    predictions = run_dir / "predictions.jsonl"
    writer = JsonlPredictionWriter(predictions, lambda index: datamodule.example_record("test", index))
    trainer = build_trainer(config, run_dir, task.monitor, task.mode, extra_callbacks=[writer])
    if trainer.is_global_zero:
        _write_config(config, run_dir)

    started = time.perf_counter()
    trainer.fit(module, datamodule=datamodule)
    fit_seconds = time.perf_counter() - started
    best = best_checkpoint(trainer)
    ckpt = best if best else None
    val = _scalars(trainer.validate(module, datamodule=datamodule, ckpt_path=ckpt, verbose=False))
    test = _scalars(trainer.test(module, datamodule=datamodule, ckpt_path=ckpt, verbose=False))
    trainer.predict(module, dataloaders=datamodule.predict_dataloader(), ckpt_path=ckpt, return_predictions=False)

    result = {
        "task": task.spec.name,
        "monitor": f"val/{task.monitor}",
        "mode": task.mode,
        "score": val.get(f"val/{task.monitor}"),
        "val": val,
        "test": test,
        "best_checkpoint": best,
        "train_samples_per_second": round(trainer.global_step * _train_batch_size(datamodule) * trainer.world_size / fit_seconds, 2)
        if fit_seconds > 0 else None,
        "fit_seconds": round(fit_seconds, 2),
        "global_steps": trainer.global_step,
        "run_dir": str(run_dir),
    }
    if trainer.is_global_zero:
        write_json_atomic(run_dir / "metrics.json", result)
        if config.export:
            metadata = {"task": task.spec.name, "head": task.head, "task_info": datamodule.task_info, "glmtasks_version": _version()}
            export_head(module.head, run_dir / "export", metadata)
        log.info("run directory: %s", run_dir)
    trainer.strategy.barrier()
    return result


def _write_config(config: RunConfig, run_dir: Path) -> None:
    from omegaconf import OmegaConf

    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(asdict(config))), encoding="utf-8")


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
