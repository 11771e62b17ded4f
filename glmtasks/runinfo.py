"""What a run directory holds, read without torch or Lightning: config, metrics, curves, predictions, status.

:class:`RunFiles` is the read-only view that ``python -m glmtasks runs`` / ``compare``, the run
report and the plugins' report figures (:func:`glmtasks.hookspecs.glmtasks_draw_figures`) use.
:func:`recorded_run` writes ``status.json``, which says whether a run is running, finished,
interrupted or failed, and how long it took.
"""

from __future__ import annotations

import csv
import json
import math
import os
import socket
import time
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Optional

STATUS_FILE = "status.json"
"""``status.json`` in a run directory: ``status``, ``started``, ``ended``, ``wall_seconds``, ``pid``, ``host``, ``reason``."""

NOT_RUNS = ("mlruns", "wandb", "checkpoints", "export")
"""Folders :func:`find_runs` never searches (tracking stores and the insides of runs)."""

STATUSES = ("running", "finished", "resumable", "interrupted", "failed")
"""What :attr:`RunFiles.status` can say."""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _read_yaml(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None


def _number(text: str) -> Optional[float]:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


class RunFiles:
    """A run directory as plain Python values; every attribute is read on first use and absent files read as empty.

    Args:
        path: the run directory (the one holding ``metrics.json``, ``config.yaml``, ``logs/``...).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFiles({str(self.path)!r})"

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """``metrics.json`` (``val``, ``test``, ``score``, ``monitor``... for training; ``metrics`` and ``split`` for evaluate)."""
        return _read_json(self.path / "metrics.json")

    @cached_property
    def metadata(self) -> dict[str, Any]:
        """``glmtasks.json`` (task, head, ``task_info``), from the run or, for evaluate runs, from the model evaluated."""
        own = _read_json(self.path / "glmtasks.json")
        if own:
            return own
        source = self.source_run
        return source.metadata if source is not None else {}

    @cached_property
    def config(self) -> dict[str, Any]:
        """The run's config (``config.yaml``, else Hydra's ``.hydra/config.yaml``) as nested dicts."""
        for candidate in (self.path / "config.yaml", self.path / ".hydra" / "config.yaml"):
            value = _read_yaml(candidate)
            if isinstance(value, dict):
                return value
        return {}

    @cached_property
    def overrides(self) -> list[str]:
        """The command-line overrides (``.hydra/overrides.yaml``)."""
        value = _read_yaml(self.path / ".hydra" / "overrides.yaml")
        return [str(item) for item in value] if isinstance(value, list) else []

    @property
    def task(self) -> str:
        """The task name (from metrics.json, glmtasks.json or the config)."""
        return str(self.metrics.get("task") or self.metadata.get("task") or (self.config.get("task") or {}).get("name") or "?")

    @property
    def task_info(self) -> dict[str, Any]:
        """What the data defined (``{"labels": [...]}`` for classification, the tag set for NER...)."""
        return dict(self.metadata.get("task_info") or {})

    @property
    def mode(self) -> str:
        """``train``, ``evaluate``, ``predict``, ``export`` or ``chat``."""
        return str(self.metrics.get("mode") if self.metrics.get("mode") in ("evaluate", "predict", "export", "chat") else self.config.get("mode") or "train")

    @cached_property
    def source_run(self) -> Optional["RunFiles"]:
        """For evaluate/predict/export runs: the training run whose model they used (None if unknown)."""
        checkpoint = self.metrics.get("checkpoint") or self.config.get("checkpoint")
        if not checkpoint or not isinstance(checkpoint, str):
            return None
        location = Path(checkpoint)
        for candidate in (location, location.parent, location.parent.parent):
            if candidate != self.path and (candidate / "glmtasks.json").is_file() and (candidate / ".hydra").is_dir():
                return RunFiles(candidate)
            if candidate != self.path and (candidate / "glmtasks.json").is_file() and (candidate / "checkpoints").is_dir():
                return RunFiles(candidate)
        return None

    def history(self) -> list[dict[str, float]]:
        """Rows of ``logs/metrics.csv`` (the CSV logger), each with only the values it holds, as floats (read once)."""
        return self._history

    @cached_property
    def _history(self) -> list[dict[str, float]]:
        path = self.path / "logs" / "metrics.csv"
        if not path.is_file():
            return []
        with path.open(encoding="utf-8", newline="") as handle:
            rows = []
            for row in csv.DictReader(handle):
                values = {key: _number(value) for key, value in row.items() if key and value not in (None, "")}
                rows.append({key: value for key, value in values.items() if value is not None})
            return rows

    def curve(self, name: str) -> tuple[list[float], list[float]]:
        """(steps, values) of one logged quantity (``train/loss``, ``val/accuracy``, ``lr-AdamW/pg1``...)."""
        steps, values = [], []
        for row in self.history():
            if name in row and "step" in row:
                steps.append(row["step"])
                values.append(row[name])
        return steps, values

    def predictions(self) -> Iterator[dict[str, Any]]:
        """The records of ``predictions.jsonl`` (nothing when the run wrote none); lines that do not parse are skipped."""
        path = self.path / "predictions.jsonl"
        if not path.is_file():
            return
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    yield record

    @cached_property
    def status_record(self) -> dict[str, Any]:
        """``status.json`` as written by :func:`recorded_run` (empty for runs made before it existed)."""
        return _read_json(self.path / STATUS_FILE)

    @property
    def status(self) -> str:
        """One of :data:`STATUSES`: ``finished`` (metrics.json written), ``running`` (its process is alive),
        ``resumable`` (stopped with ``checkpoints/last.ckpt``: ``resume=auto`` continues it), ``failed``
        (an error stopped it) or ``interrupted`` (stopped with nothing to resume from)."""
        record = self.status_record
        if (self.path / "metrics.json").is_file():
            return "finished"
        if record.get("status") == "running" and _alive(record):
            return "running"
        if (self.path / "checkpoints" / "last.ckpt").is_file():
            return "resumable"
        return "failed" if record.get("status") == "failed" else "interrupted"

    @property
    def started(self) -> float:
        """When the run started (seconds since the epoch): ``status.json``, else the run directory's own time."""
        value = self.status_record.get("started_at")
        if isinstance(value, (int, float)):
            return float(value)
        hydra = self.path / ".hydra"
        return (hydra if hydra.exists() else self.path).stat().st_mtime

    @property
    def wall_seconds(self) -> Optional[float]:
        """Seconds the run took (summed over resumed parts), or None when unknown."""
        value = self.status_record.get("wall_seconds")
        if isinstance(value, (int, float)):
            return float(value)
        if self.status == "running":
            return time.time() - self.started
        return None

    @property
    def monitor(self) -> tuple[Optional[str], Optional[float]]:
        """(monitored metric, its value): the best validation value for training, the split's score for evaluate."""
        metrics = self.metrics
        if metrics.get("monitor"):
            return metrics["monitor"], metrics.get("score")
        if metrics.get("mode") == "evaluate" and metrics.get("score") is not None:
            split = "val" if metrics.get("split") == "validation" else "test"
            monitor = (self.config.get("task") or {}).get("monitor")
            return (f"{split}/{monitor}" if monitor else f"{split} score"), metrics.get("score")
        return None, None

    def scalars(self) -> dict[str, float]:
        """Every final metric of metrics.json by name (``val/...``, ``test/...``), for tables and comparisons."""
        metrics = self.metrics
        found: dict[str, float] = {}
        for section in ("val", "test", "metrics"):
            values = metrics.get(section)
            if isinstance(values, dict):
                found.update({k: float(v) for k, v in values.items() if isinstance(v, (int, float))})
        return found


def _alive(record: dict[str, Any]) -> bool:
    if record.get("host") != socket.gethostname() or not isinstance(record.get("pid"), int):
        return False
    try:
        os.kill(record["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@contextmanager
def recorded_run(run_dir: Path, mode: str, started_at: Optional[float] = None, write: bool = True) -> Iterator[None]:
    """Keep ``<run_dir>/status.json`` true while the block runs: ``running``, then ``finished``,
    ``interrupted`` (Ctrl-C, SIGTERM) or ``failed`` with a one-line reason (the exception goes on).

    A resumed run adds its time to the earlier parts' ``wall_seconds``. ``write=False`` (ranks
    other than 0) writes nothing.
    """
    path = run_dir / STATUS_FILE
    started_at = time.time() if started_at is None else started_at
    earlier = _read_json(path) if write else {}
    previous = float(earlier.get("wall_seconds") or 0.0)
    record = {
        "status": "running", "mode": mode, "pid": os.getpid(), "host": socket.gethostname(),
        "started_at": earlier.get("started_at", started_at), "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(earlier.get("started_at", started_at))),
        "parts": int(earlier.get("parts", 0)) + 1, "wall_seconds": round(previous, 2),
    }

    def finish(status: str, reason: Optional[str] = None) -> None:
        if not write:
            return
        ended = time.time()
        done = {**record, "status": status, "ended": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ended)),
                "wall_seconds": round(previous + ended - started_at, 2)}
        if reason:
            done["reason"] = reason
        _write(path, done)

    if write:
        run_dir.mkdir(parents=True, exist_ok=True)
        _write(path, record)
    try:
        yield
    except KeyboardInterrupt:
        finish("interrupted", "KeyboardInterrupt")
        raise
    except BaseException as exc:
        interrupted = type(exc).__name__ in ("RunInterrupted", "SystemExit")  # Lightning ends a Ctrl-C with SystemExit
        text = str(exc).strip().splitlines()
        finish("interrupted" if interrupted else "failed", text[0] if text else type(exc).__name__)
        raise
    finish("finished")


def find_runs(root: str | Path) -> list[RunFiles]:
    """Every run directory under ``root`` (a folder with ``.hydra/``, ``metrics.json`` or ``glmtasks.json``), newest first.

    Folders inside a run (``export/``, ``checkpoints/``) are not searched.
    """
    root = Path(root)
    found: list[RunFiles] = []
    if not root.is_dir():
        return found
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        if ".hydra" in subdirs or "metrics.json" in files or ("glmtasks.json" in files and here.name != "export"):
            found.append(RunFiles(here))
            subdirs[:] = []
            continue
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in NOT_RUNS)
    return sorted(found, key=lambda run: run.started, reverse=True)
