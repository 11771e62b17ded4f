"""The example plugin (examples/glmtasks-intent), installed the way a user installs it.

``pip install --target`` into an empty folder (build isolation fetches the build backend, as
for any user), then ``python -m glmtasks`` from an unrelated directory with only that folder
added to the path: the entry point, the packaged configs and the task must all work. The
example's own tests run as part of this suite (``examples`` is in pytest's testpaths).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from glmtasks.testing import run_task

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "glmtasks-intent"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A target folder holding only the installed example package (no glmtasks, no sources)."""
    root = tmp_path_factory.mktemp("example-install")
    source = root / "glmtasks-intent"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist"))
    target = root / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input", "-q", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return target


def user_env(site: Path) -> dict[str, str]:
    """The user's environment plus the install target (the example's sources are not on it)."""
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)}


def test_the_installed_package_ships_its_entry_point_and_configs(site):
    (dist_info,) = site.glob("glmtasks_intent-*.dist-info")
    assert "[glmtasks]\nintent = glmtasks_intent.plugin" in (dist_info / "entry_points.txt").read_text()
    for config in ("task/intent_slots.yaml", "data/intent_slots.yaml", "experiment/intent_slots_minilm.yaml"):
        assert (site / "glmtasks_intent" / "conf" / config).is_file(), config


def test_plugins_listing_shows_the_installed_task(site, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "glmtasks", "plugins"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, **user_env(site)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split()[:2] for line in proc.stdout.splitlines()]
    for name in ("intent_slots", "frame_accuracy", "intent_accuracy", "slot_f1"):
        assert [name, "intent"] in rows, f"{name} from plugin 'intent' missing:\n{proc.stdout}"
    assert f"{site / 'glmtasks_intent' / 'conf'}  (intent)" in proc.stdout  # configs come from the installed copy


def test_the_installed_task_runs_end_to_end_from_the_cli(site, tmp_path):
    run = run_task("intent_slots", ["data.demo_train_size=64", "data.demo_eval_size=16"], tmp_path, env=user_env(site))
    assert run.metrics["task"] == "intent_slots" and run.metrics["monitor"] == "val/frame_accuracy"
    for name in ("frame_accuracy", "intent_accuracy", "slot_f1"):
        assert 0.0 <= run.metrics["test"][f"test/{name}"] <= 1.0
    export = run.run_dir / "export"
    assert json.loads((export / "intent_slots.json").read_text())["slot_tags"][0] == "O"
    assert (export / "config.json").is_file() and (export / "intent_slots_head.safetensors").is_file()
    assert len(run.predictions()) == 16
