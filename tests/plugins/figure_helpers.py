"""Run directories written by hand for the plugins' report-figure tests, and drawing a ReportFigure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from glmtasks.report import save_figure
from glmtasks.runinfo import RunFiles


def fake_run(directory: Path, task: str, predictions: Iterable[dict], metrics: dict | None = None, task_info: dict | None = None) -> RunFiles:
    """A run directory with predictions.jsonl, metrics.json and glmtasks.json, as a finished run of ``task`` has."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "predictions.jsonl").write_text("".join(json.dumps(p) + "\n" for p in predictions))
    (directory / "metrics.json").write_text(json.dumps({"task": task, "test": {}, "val": {}, **(metrics or {})}))
    (directory / "glmtasks.json").write_text(json.dumps({"task": task, "task_info": task_info or {}}))
    return RunFiles(directory)


def draw(figure: Any, path: Path) -> Any:
    """Draw a ReportFigure to ``path``; returns the matplotlib figure for inspection."""
    drawn = {}

    def keep(fig: Any) -> None:
        figure.draw(fig)
        drawn["figure"] = fig

    save_figure(path, keep, title=figure.title)
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size < 150_000
    return drawn["figure"]
