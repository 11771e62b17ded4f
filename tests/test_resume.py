"""resume=auto: a run killed mid-epoch (SIGKILL) continues to the same final metrics as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import TINY

ARGS = [
    "task=sentiment", *TINY, "trainer.max_epochs=2", "data.demo_train_size=640", "data.demo_eval_size=64",
    "data.batch_size=32", "callbacks.checkpoint.every_n_train_steps=4", "logger=none",
]


def glmtasks(*args, cwd):
    return [sys.executable, "-m", "glmtasks", *args], dict(cwd=cwd, env=os.environ.copy())


def test_killed_run_resumes_to_the_same_metrics_as_an_uninterrupted_one(tmp_path):
    straight_out, killed_out = tmp_path / "straight", tmp_path / "killed"
    cmd, kw = glmtasks(*ARGS, f"paths.output_dir={straight_out}", cwd=tmp_path)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, done.stderr[-3000:]
    (straight_metrics,) = [json.loads(p.read_text()) for p in straight_out.rglob("metrics.json")]

    cmd, kw = glmtasks(*ARGS, f"paths.output_dir={killed_out}", cwd=tmp_path)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    deadline = time.time() + 300
    last = None
    while time.time() < deadline and proc.poll() is None:
        found = list(killed_out.rglob("checkpoints/last.ckpt"))
        if found:
            last = found[0]
            size = last.stat().st_size
            time.sleep(0.05)
            if last.stat().st_size == size:
                break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert last is not None, "the run ended before writing a mid-epoch checkpoint"
    assert not list(killed_out.rglob("metrics.json")), "the run was killed before it finished"

    cmd, kw = glmtasks(*ARGS, f"paths.output_dir={killed_out}", "resume=auto", cwd=tmp_path)
    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    (resumed_file,) = list(killed_out.rglob("metrics.json"))
    resumed_metrics = json.loads(resumed_file.read_text())
    assert resumed_file.parent == last.parent.parent, "resumed in the killed run's own directory"
    assert resumed_metrics["resumed_from"].endswith("last.ckpt")
    assert resumed_metrics["global_steps"] == straight_metrics["global_steps"] == 40
    for split in ("val", "test"):
        for key, value in straight_metrics[split].items():
            assert resumed_metrics[split][key] == pytest.approx(value, abs=1e-6), key


def test_resume_auto_without_an_unfinished_run_starts_fresh(run_cli):
    result = run_cli(*ARGS[:2], "data.demo_train_size=64", "data.demo_eval_size=16", "resume=auto", "logger=none")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.metrics["resumed_from"] is None
