"""Metric loggers of a run (``logger=csv|tensorboard|mlflow|wandb|none``): the run's config, metrics and, for the
tracking services, the export and report as artifacts.

Every logger except ``none`` also writes ``logs/metrics.csv``, which the run report and
``python -m glmtasks compare`` read. MLflow defaults to a local file store,
``<paths.output_dir>/mlruns`` (``mlflow ui --backend-store-uri <that dir>``), or logs to
``logger.tracking_uri``; W&B runs offline by default, writing under ``<run dir>/wandb/``
(``wandb sync <run dir>/wandb/offline-run-*`` uploads it later). A resumed run logs into the
same MLflow run / W&B run (their ids are kept in ``<run dir>/logs/tracking.json``).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Optional, Sequence

from glmtasks.config import RunConfig
from glmtasks.errors import ConfigError

log = logging.getLogger(__name__)

PACKAGES = {"mlflow": ("mlflow", "glmtasks[mlflow]"), "wandb": ("wandb", "glmtasks[wandb]"), "tensorboard": ("tensorboard", "glmtasks[tensorboard]")}
"""logger name -> (module it needs, what to pip install)."""
TRACKING_FILE = "tracking.json"


def check_logger(config: RunConfig) -> None:
    """Raise :class:`ConfigError` in one line when the chosen logger's package is not installed."""
    needed = PACKAGES.get(config.logger.name)
    if needed and find_spec(needed[0]) is None:
        raise ConfigError(f"logger={config.logger.name} needs the {needed[0]} package: pip install '{needed[1]}' (or choose logger=csv)")


def mlflow_tracking_uri(config: RunConfig) -> str:
    """``logger.tracking_uri``, else the file store ``<paths.output_dir>/mlruns`` as an absolute ``file:`` URI."""
    if config.logger.tracking_uri:
        return config.logger.tracking_uri
    return (Path(config.paths.output_dir) / "mlruns").resolve().as_uri()


def build_loggers(config: RunConfig, run_dir: Path) -> Any:
    """The Lightning loggers of ``config.logger`` (a list), or False for ``logger=none``."""
    from lightning.pytorch.loggers import CSVLogger

    name = config.logger.name
    if name == "none":
        return False
    loggers: list[Any] = [CSVLogger(save_dir=str(run_dir), name="logs", version="")]
    ids = _read_ids(run_dir)
    run_name = f"{config.task.name}/{run_dir.name}"
    if name == "tensorboard":
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(save_dir=str(run_dir), name="tensorboard", version=""))
    elif name == "mlflow":
        from lightning.pytorch.loggers import MLFlowLogger

        uri = mlflow_tracking_uri(config)
        if uri.startswith("file:"):
            # MLflow 3 refuses its file store unless asked; the local store is what logger=mlflow promises.
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        loggers.append(MLFlowLogger(experiment_name=config.logger.experiment, tracking_uri=uri, run_name=run_name,
                                    run_id=ids.get("mlflow_run_id"), tags={"glmtasks.run_dir": str(run_dir), "glmtasks.task": config.task.name}))
    elif name == "wandb":
        from lightning.pytorch.loggers import WandbLogger

        os.environ.setdefault("WANDB_SILENT", "true")
        loggers.append(WandbLogger(project=config.logger.experiment, name=run_name, save_dir=str(run_dir), offline=config.logger.offline,
                                   id=ids.get("wandb_id"), resume="allow" if ids.get("wandb_id") else None, log_model=False))
    return loggers


def _read_ids(run_dir: Path) -> dict[str, str]:
    path = run_dir / "logs" / TRACKING_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _flat(values: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(values, dict) and values:
        flat: dict[str, Any] = {}
        for key, value in values.items():
            flat.update(_flat(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): values if isinstance(values, (int, float, str, bool)) or values is None else json.dumps(values, default=str)}


def log_config(loggers: Sequence[Any], config: RunConfig, run_dir: Path) -> None:
    """Log the run's whole config (flattened: ``optimizer.lr``...) to every logger, and remember tracking ids for resuming."""
    params = _flat(json.loads(json.dumps(asdict(config), default=str)))
    ids: dict[str, str] = {}
    for logger in loggers:
        logger.log_hyperparams(params)
        if type(logger).__name__ == "MLFlowLogger":
            ids["mlflow_run_id"] = logger.run_id
        elif type(logger).__name__ == "WandbLogger":
            ids["wandb_id"] = logger.experiment.id
    if ids:
        (run_dir / "logs").mkdir(parents=True, exist_ok=True)
        (run_dir / "logs" / TRACKING_FILE).write_text(json.dumps(ids) + "\n", encoding="utf-8")


def run_files(run_dir: Path) -> list[Path]:
    """metrics.json and the report's PNGs: the files logged beside the export."""
    return [path for path in [run_dir / "metrics.json", *sorted(run_dir.glob("report*.png"))] if path.is_file()]


def log_artifacts(loggers: Sequence[Any], run_dir: Path, export_dir: Optional[Path]) -> None:
    """Log ``export/`` (as an artifact named ``export``), metrics.json and the report to MLflow / W&B, then close W&B's run."""
    for logger in loggers:
        kind = type(logger).__name__
        if kind == "MLFlowLogger":
            client, run_id = logger.experiment, logger.run_id
            if export_dir is not None:
                client.log_artifacts(run_id, str(export_dir), artifact_path="export")
            for path in run_files(run_dir):
                client.log_artifact(run_id, str(path), artifact_path="report")
            logger.finalize("success")
        elif kind == "WandbLogger":
            import wandb

            run = logger.experiment
            if export_dir is not None:
                model = wandb.Artifact(f"export-{run.id}", type="model", metadata={"run_dir": str(run_dir)})
                model.add_dir(str(export_dir))
                run.log_artifact(model)
            report = wandb.Artifact(f"report-{run.id}", type="report")
            for path in run_files(run_dir):
                report.add_file(str(path))
            run.log_artifact(report)
            run.finish()
