"""Shared fixtures: offline mode, the shared datasets folder, a hermetic plugin manager, CLI runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("GLMTASKS_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()

# Small, fast settings for end-to-end runs of the CLI on glm-tiny.
TINY = [
    "trainer.max_epochs=1",
    "callbacks.progress_bar=false",
    "backbone.tokenizer_vocab_size=600",
    "backbone.model_config.hidden_size=64",
    "backbone.model_config.intermediate_size=128",
    "backbone.model_config.num_hidden_layers=1",
    "backbone.model_config.head_dim=16",
]


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


class CliResult:
    """Exit code, output and the run directory of one ``python -m glmtasks`` call."""

    def __init__(self, proc: subprocess.CompletedProcess, output_dir: Path):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.output_dir = output_dir

    def run_dirs(self) -> list[Path]:
        return sorted(p.parent for p in self.output_dir.rglob("metrics.json"))

    def metrics(self) -> dict:
        (run_dir,) = self.run_dirs()
        return json.loads((run_dir / "metrics.json").read_text())


@pytest.fixture
def run_cli(tmp_path):
    """Run ``python -m glmtasks <args>`` in a temporary directory; outputs go under it."""

    def run(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: int = 600) -> CliResult:
        output_dir = tmp_path / "outputs"
        full_env = {**os.environ, "GLMTASKS_SHARED_DATA": str(SHARED_DATA), **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "glmtasks", *args, f"paths.output_dir={output_dir}"]
            if args and args[0] != "plugins" else [sys.executable, "-m", "glmtasks", *args],
            cwd=cwd or tmp_path, env=full_env, capture_output=True, text=True, timeout=timeout,
        )
        return CliResult(proc, output_dir)

    return run
