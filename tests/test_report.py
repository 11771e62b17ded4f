"""The run report (report.png and plugin figures), status.json, mode=evaluate's report, and a quiet, truthful console."""

from __future__ import annotations

import json
import logging
import os
import sys

import pytest

from glmtasks.report import REPORT_FILE, draw_run, metric_panels, write_report
from glmtasks.runinfo import RunFiles
from glmtasks.testing import run_task

PNG = b"\x89PNG\r\n\x1a\n"
NO_MATPLOTLIB = """
# As if matplotlib were not installed: importing it fails, find_spec finds nothing, no distribution metadata.
import importlib.metadata as metadata
import sys

sys.modules["matplotlib"] = None
_version = metadata.version


def version(name):
    if name.lower() == "matplotlib":
        raise metadata.PackageNotFoundError(name)
    return _version(name)


metadata.version = version
"""


def is_png(path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG and path.stat().st_size < 150_000


@pytest.fixture(scope="module")
def trained(sentiment_task_run):
    return sentiment_task_run


@pytest.fixture(scope="module")
def evaluated_without_matplotlib(trained, tmp_path_factory):
    """mode=evaluate of the trained run in a process where importing matplotlib fails."""
    tmp = tmp_path_factory.mktemp("without-mpl")
    site = tmp / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_MATPLOTLIB)
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return run_task("sentiment", ["mode=evaluate", f"checkpoint={trained.run_dir}", "data.demo_eval_size=64"], tmp, env={"PYTHONPATH": path})


def test_training_writes_the_report_and_the_confusion_matrix(trained):
    run_dir = trained.run_dir
    assert is_png(run_dir / REPORT_FILE)
    assert is_png(run_dir / "report-confusion_matrix.png")
    assert "report: report.png, report-confusion_matrix.png" in trained.stdout + trained.stderr


def test_status_json_says_finished_with_the_wall_time(trained):
    status = json.loads((trained.run_dir / "status.json").read_text())
    assert status["status"] == "finished" and status["mode"] == "train" and status["wall_seconds"] > 0
    assert RunFiles(trained.run_dir).status == "finished"


def test_the_report_panels_hold_the_loss_learning_rate_and_every_validation_metric(trained):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    run = RunFiles(trained.run_dir)
    figure = Figure()
    FigureCanvasAgg(figure)
    draw_run(run, figure)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[:3] == ["loss", "learning rate", "validation metrics"]
    labels = {line.get_label() for ax in figure.axes for line in ax.get_lines()}
    assert {"train/loss", "val/loss", "val/accuracy", "val/macro_f1"} <= labels
    assert any(label.startswith("lr-") for label in labels)


def test_metric_panels_put_the_monitor_first_and_hold_at_most_six():
    history = [{f"val/m{i}": 0.0 for i in range(8)} | {"val/loss": 1.0, "train/loss": 1.0}]
    panels = metric_panels(history, "val/m7")
    assert panels[0][0] == "val/m7" and [len(p) for p in panels] == [6, 2]
    assert "val/loss" not in sum(panels, [])


def test_progress_lines_replace_the_progress_bar_and_the_noise_is_gone(trained):
    err = trained.stdout + trained.stderr
    assert "step 1/" in err and "samples/s" in err and "ETA" in err, err[-3000:]
    assert "validation at step" in err and "test: batch" in err
    for noise in ("_pytree.py", "Total FLOPs", "FLOPs", "litlogger", "Writing model shards"):
        assert noise not in err, noise


def test_evaluate_without_matplotlib_works_and_says_so_in_one_line(evaluated_without_matplotlib):
    run = evaluated_without_matplotlib
    assert run.returncode == 0 and run.metrics["mode"] == "evaluate"
    mentions = [line for line in (run.stdout + run.stderr).splitlines() if "matplotlib" in line]
    assert len(mentions) == 1 and "skipped the run report" in mentions[0], mentions
    assert not list(run.run_dir.glob("*.png"))
    assert len(run.predictions()) == 64 and {"label", "prediction"} <= set(run.predictions()[0])


def test_evaluate_report_has_the_training_curves_and_the_evaluated_metrics(trained, evaluated_without_matplotlib):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    run = RunFiles(evaluated_without_matplotlib.run_dir)
    assert run.mode == "evaluate" and run.source_run.path.resolve() == trained.run_dir.resolve()
    figure = Figure()
    FigureCanvasAgg(figure)
    draw_run(run, figure)
    assert [ax.get_title() for ax in figure.axes] == ["loss", "learning rate", "validation metrics", "evaluated on validation"]
    written = write_report(run.path)
    assert [p.name for p in written] == [REPORT_FILE, "report-confusion_matrix.png"] and all(is_png(p) for p in written)


def test_without_matplotlib_write_report_writes_nothing_and_logs_one_line(trained, tmp_path, monkeypatch, caplog):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "metrics.json").write_text((trained.run_dir / "metrics.json").read_text())
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "matplotlib.figure", raising=False)
    monkeypatch.delitem(sys.modules, "matplotlib.backends.backend_agg", raising=False)
    with caplog.at_level(logging.INFO):
        assert write_report(run_dir) == []
    assert len(caplog.records) == 1 and "matplotlib" in caplog.records[0].getMessage()
    assert not list(run_dir.glob("*.png"))


def test_a_plugin_whose_figure_fails_costs_only_its_figure(trained, tmp_path, hermetic_registry, caplog):
    from glmtasks.api import ReportFigure, hookimpl

    class Plugin:
        @hookimpl
        def glmtasks_draw_figures(self, run):
            def broken(figure):
                raise ValueError("no data")

            return [ReportFigure("broken", broken), ReportFigure("fine", lambda figure: figure.add_subplot(1, 1, 1).plot([1, 2])),
                    ReportFigure("../bad name", lambda figure: None)]

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name in ("metrics.json", "glmtasks.json"):
        (run_dir / name).write_text((trained.run_dir / name).read_text())
    with caplog.at_level(logging.WARNING):
        written = write_report(run_dir, hermetic_registry(Plugin()))
    assert [p.name for p in written] == [REPORT_FILE, "report-fine.png"]
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert "could not draw report-broken.png: ValueError: no data" in messages and "bad name" in messages
    assert "no logs/metrics.csv" not in messages  # the missing curves are said in the figure, not as a warning


def test_the_report_command_redraws_a_run_and_refuses_an_unfinished_one(trained, tmp_path):
    import shutil
    import subprocess

    copy = tmp_path / "copy"
    shutil.copytree(trained.run_dir, copy, ignore=shutil.ignore_patterns("*.png", "checkpoints", "export", "tokenizer"))
    result = subprocess.run([sys.executable, "-m", "glmtasks", "report", str(copy)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"{copy}: report.png, report-confusion_matrix.png", result.stderr
    assert is_png(copy / REPORT_FILE)
    (copy / "metrics.json").unlink()
    result = subprocess.run([sys.executable, "-m", "glmtasks", "report", str(copy)], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [f"error: {copy} has no metrics.json: only a finished run has a report (python -m glmtasks runs lists them)"]
