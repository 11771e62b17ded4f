"""``python -m glmtasks runs`` and ``compare``: statuses, filters, differences, the curve plot, and no heavy import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glmtasks.errors import ConfigError
from glmtasks.runinfo import RunFiles, find_runs, recorded_run
from glmtasks.runs import compare, differing_keys, format_runs, parse_since, run_labels, select_runs

HEAVY = ("torch", "lightning", "transformers", "datasets", "hydra", "mlflow", "wandb", "matplotlib.pyplot")

CSV = """epoch,lr-AdamW,step,train/loss,val/accuracy,val/loss
,0.001,9,,,
0,,9,0.70,,
0,,15,,{a1},0.69
1,,31,,{a2},0.60
"""


def make_run(root: Path, name: str, *, task="sentiment", lr=0.001, status="finished", score=0.8, started=None, checkpoint=False) -> Path:
    """A run directory as glmtasks writes it (config, overrides, metrics, curves, status), without training."""
    run_dir = root / task / name
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text(f"- task={task}\n- data=sst2\n- optimizer.lr={lr}\n- paths.output_dir={root}\n")
    (run_dir / "config.yaml").write_text(
        f"task:\n  name: {task}\n  monitor: accuracy\nbackbone:\n  name: glm-tiny\noptimizer:\n  lr: {lr}\n  name: AdamW\n"
        f"data:\n  source: files\n  train_file: train.csv\npaths:\n  run_dir: {run_dir}\nmode: train\n"
    )
    (run_dir / "logs").mkdir()
    (run_dir / "logs" / "metrics.csv").write_text(CSV.format(a1=score - 0.1, a2=score))
    if status == "finished":
        metrics = {"task": task, "monitor": "val/accuracy", "mode": "max", "score": score, "val": {"val/accuracy": score, "val/loss": 0.6},
                   "test": {"test/accuracy": score - 0.02}, "global_steps": 31}
        (run_dir / "metrics.json").write_text(json.dumps(metrics))
    if checkpoint:
        (run_dir / "checkpoints").mkdir()
        (run_dir / "checkpoints" / "last.ckpt").write_bytes(b"x")
    started = time.time() if started is None else started
    record = {"status": "running" if status == "running" else ("failed" if status == "failed" else "finished"), "started_at": started,
              "wall_seconds": 125.0, "pid": os.getpid(), "host": os.uname().nodename, "reason": "boom" if status == "failed" else None}
    if status in ("finished", "failed", "running"):
        (run_dir / "status.json").write_text(json.dumps(record))
    os.utime(run_dir / ".hydra", (started, started))  # runs without status.json are dated by Hydra's folder
    return run_dir


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("outputs")
    now = time.time()
    make_run(root, "old", lr=0.001, score=0.7, started=now - 5 * 86400)
    make_run(root, "new", lr=0.0005, score=0.8, started=now - 60)
    make_run(root, "stopped", status="interrupted", checkpoint=True, started=now - 3600)
    make_run(root, "killed", status="interrupted", started=now - 7200)
    make_run(root, "broken", status="failed", started=now - 7300)
    make_run(root, "ner-run", task="ner", started=now - 10)
    (root / "mlruns" / "0").mkdir(parents=True)  # a tracking store is not a run
    return root


def test_runs_are_listed_newest_first_with_their_status(outputs):
    runs = find_runs(outputs)
    assert [r.path.name for r in runs] == ["ner-run", "new", "stopped", "killed", "broken", "old"]
    assert [r.status for r in runs] == ["finished", "finished", "resumable", "interrupted", "failed", "finished"]


def test_a_running_run_is_told_by_its_live_process(tmp_path):
    run_dir = make_run(tmp_path, "live", status="running")
    assert RunFiles(run_dir).status == "running"
    record = json.loads((run_dir / "status.json").read_text())
    (run_dir / "status.json").write_text(json.dumps({**record, "pid": 2**22 + 12345}))
    assert RunFiles(run_dir).status == "interrupted"


def test_the_table_has_task_backbone_data_overrides_monitor_status_and_wall_time(outputs):
    root, runs = select_runs([str(outputs), "task=sentiment"])
    text = format_runs(root, runs)
    header, first = text.splitlines()[:2]
    for column in ("started", "status", "task", "backbone", "data", "monitored", "wall", "run", "overrides"):
        assert column in header
    assert "finished" in first and "glm-tiny" in first and "sst2" in first and "val/accuracy=0.8" in first
    assert "2m05s" in first and "optimizer.lr=0.0005" in first and "paths.output_dir" not in first and "task=" not in first
    assert "ner" not in text and text.endswith(f"5 run(s) under {outputs}")


def test_filters_since_task_and_status(outputs):
    assert [r.path.name for r in select_runs([str(outputs), "since=1d"])[1]] == ["ner-run", "new", "stopped", "killed", "broken"]
    assert [r.path.name for r in select_runs([str(outputs), "since=2h", "task=sentiment"])[1]] == ["new", "stopped"]
    assert [r.path.name for r in select_runs([f"dir={outputs}", "status=resumable"])[1]] == ["stopped"]
    day = time.strftime("%Y-%m-%d", time.localtime(time.time() - 3 * 86400))
    assert "old" not in [r.path.name for r in select_runs([str(outputs), f"since={day}"])[1]]


@pytest.mark.parametrize("args, message", [
    (["since=yesterday"], "since=yesterday is neither a date"),
    (["colour=red"], "unknown option 'colour'"),
    (["/no/such/dir"], "no output directory /no/such/dir"),
])
def test_bad_arguments_fail_in_one_line(outputs, args, message):
    with pytest.raises(ConfigError, match=message):
        select_runs([*([str(outputs)] if not args[0].startswith("/") else []), *args])


def test_parse_since_reads_dates_and_ages():
    assert abs(parse_since("3h") - (time.time() - 3 * 3600)) < 5
    assert parse_since("2026-12-01") == parse_since("2026-12-01T00:00")


def test_compare_prints_metrics_side_by_side_the_differing_keys_and_plots_the_curves(outputs, tmp_path):
    text = compare([str(outputs / "sentiment" / "old"), str(outputs / "sentiment" / "new"), f"out={tmp_path / 'cmp.png'}"])
    lines = text.splitlines()
    accuracy = next(line for line in lines if line.strip().startswith("val/accuracy"))
    assert accuracy.split()[1:] == ["0.7", "0.8"]
    assert any(line.split()[:3] == ["optimizer.lr", "0.001", "0.0005"] for line in lines)
    assert not any(line.strip().startswith("paths.") for line in lines), "where runs are written is no difference"
    assert (tmp_path / "cmp.png").read_bytes()[:4] == b"\x89PNG" and f"plot: {tmp_path / 'cmp.png'}" in text
    again = compare([str(outputs / "sentiment" / "old"), str(outputs / "sentiment" / "new"), f"out={tmp_path / 'cmp.png'}"])
    assert "cmp-2.png" in again, "an earlier plot is not overwritten"


def test_compare_needs_two_run_directories(outputs, tmp_path):
    with pytest.raises(ConfigError, match="at least two run directories"):
        compare([str(outputs / "sentiment" / "old")])
    with pytest.raises(ConfigError, match="is not a run directory"):
        compare([str(outputs / "sentiment" / "old"), str(tmp_path)])


def test_differing_keys_and_labels():
    a, b = RunFiles("a"), RunFiles("b")
    a.__dict__["config"] = {"optimizer": {"lr": 1, "name": "AdamW"}, "paths": {"run_dir": "x"}}
    b.__dict__["config"] = {"optimizer": {"lr": 2, "name": "AdamW"}, "paths": {"run_dir": "y"}, "seed": 3}
    assert differing_keys([a, b]) == [("optimizer.lr", [1, 2]), ("seed", ["(absent)", 3])]
    assert run_labels(28)[:3] == ["A", "B", "C"] and run_labels(28)[26:] == ["AA", "AB"]


def test_recorded_run_adds_up_resumed_parts_and_records_interruptions(tmp_path):
    from glmtasks.errors import RunInterrupted

    with pytest.raises(RunInterrupted):
        with recorded_run(tmp_path, "train", started_at=time.time() - 10):
            raise RunInterrupted("interrupted by SIGINT at step 3", 130)
    first = json.loads((tmp_path / "status.json").read_text())
    assert first["status"] == "interrupted" and first["reason"].startswith("interrupted by SIGINT") and first["wall_seconds"] >= 10
    with recorded_run(tmp_path, "train", started_at=time.time() - 5):
        pass
    second = json.loads((tmp_path / "status.json").read_text())
    assert second["status"] == "finished" and second["parts"] == 2 and second["wall_seconds"] >= first["wall_seconds"] + 5


def test_runs_compare_help_and_plugins_import_nothing_heavy(outputs, tmp_path):
    code = (
        "import sys\n"
        "from glmtasks.cli import main\n"
        "main(['--help'])\n"
        "main(['plugins'])\n"
        f"main(['runs', {str(outputs)!r}])\n"
        f"main(['compare', {str(outputs / 'sentiment' / 'old')!r}, {str(outputs / 'sentiment' / 'new')!r}, 'out=' + {str(tmp_path / 'c.png')!r}])\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ner-run" in result.stdout and "config keys that differ" in result.stdout and "runs task=sentiment" in result.stdout


def test_the_cli_lists_a_real_run(sentiment_task_run):
    result = subprocess.run([sys.executable, "-m", "glmtasks", "runs", str(sentiment_task_run.output_dir)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    row = result.stdout.splitlines()[1]
    assert "finished" in row and "sentiment" in row and "demo" in row and "val/accuracy=" in row and sentiment_task_run.run_dir.name in row
