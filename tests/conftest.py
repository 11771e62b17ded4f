"""Shared fixtures: offline mode, the shared datasets folder, a hermetic plugin manager, CLI runs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from glmtasks.testing import TINY_OVERRIDES

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The on-disk feature cache of this test session (runs in subprocesses share it), not the user's.
os.environ.setdefault("GLMTASKS_CACHE", tempfile.mkdtemp(prefix="glmtasks-test-cache-"))

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("GLMTASKS_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()

# Small, fast settings for end-to-end runs of the CLI on glm-tiny: the testing kit's, without the backbone choice.
TINY = [override for override in TINY_OVERRIDES if not override.startswith("backbone=")]


@pytest.fixture
def shared_data() -> Path:
    """The folder of real public datasets; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA} (set GLMTASKS_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def hermetic_registry():
    """Build a registry from explicit plugins only (no entry points are loaded)."""
    from glmtasks.plugins import create_plugin_manager
    from glmtasks.registry import Registry

    def build(*plugins):
        return Registry.from_plugin_manager(create_plugin_manager(plugins, load_entry_points=False))

    return build


@pytest.fixture
def run_cli(tmp_path):
    """``python -m glmtasks <args>`` through the testing kit (:func:`glmtasks.testing.run_glmtasks`), outputs under tmp_path."""
    from glmtasks.testing import run_glmtasks

    def run(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: int = 600):
        return run_glmtasks(list(args), tmp_path, env={"GLMTASKS_SHARED_DATA": str(SHARED_DATA), **(env or {})}, cwd=cwd, timeout=timeout)

    return run


SMALL_SENTIMENT = ["data.demo_train_size=300", "data.demo_eval_size=64", "callbacks.progress_interval=0"]
"""The shared tiny sentiment run: small demo data, a progress line after every step (progress_bar=false)."""


@pytest.fixture(scope="session")
def sentiment_task_run(tmp_path_factory):
    """One tiny sentiment run (a :class:`glmtasks.testing.TaskRun`) shared by every test file that only reads its outputs."""
    from glmtasks.testing import run_task

    return run_task("sentiment", SMALL_SENTIMENT, tmp_path_factory.mktemp("sentiment"))
