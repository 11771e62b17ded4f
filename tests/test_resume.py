"""resume=auto: a run killed mid-epoch (SIGKILL) continues to the same final metrics as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import TINY

ARGS = [
    "task=sentiment", *TINY, "trainer.max_epochs=2", "data.demo_train_size=640", "data.demo_eval_size=64",
    "data.batch_size=32", "callbacks.checkpoint.every_n_train_steps=4", "logger=none",
]


def glmtasks(*args, cwd):
    return [sys.executable, "-m", "glmtasks", *args], dict(cwd=cwd, env=os.environ.copy())


@pytest.fixture(scope="module")
def straight_metrics(tmp_path_factory):
    """metrics.json of the run uninterrupted (40 steps)."""
    out = tmp_path_factory.mktemp("straight")
    cmd, kw = glmtasks(*ARGS, f"paths.output_dir={out}", cwd=out)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, done.stderr[-3000:]
    (metrics,) = [json.loads(p.read_text()) for p in out.rglob("metrics.json")]
    return metrics


def start_and_signal(out, tmp_path, signum):
    """Start the run, wait for its first periodic last.ckpt, then send ``signum``; returns (process, that checkpoint)."""
    cmd, kw = glmtasks(*ARGS, f"paths.output_dir={out}", cwd=tmp_path)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)
    deadline = time.time() + 300
    last = None
    while time.time() < deadline and proc.poll() is None:
        found = list(out.rglob("checkpoints/last.ckpt"))
        if found:
            last = found[0]
            size = last.stat().st_size
            time.sleep(0.05)
            if last.stat().st_size == size:
                break
        time.sleep(0.02)
    proc.send_signal(signum)
    proc.wait(timeout=120)
    assert last is not None, "the run ended before writing a mid-epoch checkpoint"
    assert not list(out.rglob("metrics.json")), "the run was stopped before it finished"
    return proc, last


def assert_resumes_to(straight_metrics, out, tmp_path, last):
    cmd, kw = glmtasks(*ARGS, f"paths.output_dir={out}", "resume=auto", cwd=tmp_path)
    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    (resumed_file,) = list(out.rglob("metrics.json"))
    resumed_metrics = json.loads(resumed_file.read_text())
    assert resumed_file.parent == last.parent.parent, "resumed in the stopped run's own directory"
    assert resumed_metrics["resumed_from"].endswith("last.ckpt")
    assert resumed_metrics["global_steps"] == straight_metrics["global_steps"] == 40
    for split in ("val", "test"):
        for key, value in straight_metrics[split].items():
            assert resumed_metrics[split][key] == pytest.approx(value, abs=1e-6), key


def test_killed_run_resumes_to_the_same_metrics_as_an_uninterrupted_one(tmp_path, straight_metrics):
    out = tmp_path / "killed"
    proc, last = start_and_signal(out, tmp_path, signal.SIGKILL)
    assert_resumes_to(straight_metrics, out, tmp_path, last)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_run_stopped_by_ctrl_c_or_sigterm_saves_its_batch_and_resumes_to_the_same_metrics(tmp_path, straight_metrics, signum, code):
    out = tmp_path / "stopped"
    proc, last = start_and_signal(out, tmp_path, signum)
    lines = [line for line in proc.stderr.read().splitlines() if line.startswith("error: ")]
    assert proc.returncode == code, lines
    assert len(lines) == 1 and f"interrupted by {signal.Signals(signum).name} at step" in lines[0] and "resume=auto" in lines[0]
    stopped_at = int(lines[0].split("at step ")[1].split()[0])
    checkpoint = torch.load(last, map_location="cpu", weights_only=True)
    assert checkpoint["global_step"] == stopped_at, "last.ckpt holds the batch the run stopped at"
    assert_resumes_to(straight_metrics, out, tmp_path, last)


def test_resume_auto_without_an_unfinished_run_starts_fresh(run_cli):
    result = run_cli(*ARGS[:2], "data.demo_train_size=64", "data.demo_eval_size=16", "resume=auto", "logger=none")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.metrics["resumed_from"] is None
