"""A non-editable install works from any directory: configs and plugins ship inside the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_ships_configs_and_plugins_and_runs_from_elsewhere(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(REPO)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("glmtasks-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "glmtasks/conf/config.yaml",
        "glmtasks/conf/backbone/glm-tiny.yaml",
        "glmtasks_classification/plugin.py",
        "glmtasks_classification/conf/task/sentiment.yaml",
        "hydra_plugins/glmtasks_searchpath/__init__.py",
    ):
        assert expected in names, f"{expected} missing from the wheel"

    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import glmtasks.searchpath as s; print(s.core_config_dir())"],
        cwd=elsewhere, env=env, capture_output=True, text=True,
    )
    assert where.stdout.strip() == str(site / "glmtasks" / "conf"), where.stderr
    composed = subprocess.run(
        [sys.executable, "-m", "glmtasks", "task=classification", "backbone=minilm", "--cfg", "job"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
    )
    assert composed.returncode == 0, composed.stderr[-2000:]
    assert "name: classification" in composed.stdout and "name: minilm" in composed.stdout
