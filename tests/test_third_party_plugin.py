"""A plugin outside glmtasks, found through its entry point, adds a task usable from the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import TINY

FIXTURE = Path(__file__).parent / "fixtures" / "topic_plugin"


@pytest.fixture
def plugin_env(tmp_path):
    """PYTHONPATH holding the plugin package and a dist-info that declares its entry point."""
    dist = tmp_path / "site" / "topic_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: topic-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[glmtasks]\ntopic = topic_plugin.plugin\n")
    return {"PYTHONPATH": os.pathsep.join([str(FIXTURE), str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")])}


def test_plugins_listing_shows_the_third_party_task(run_cli, plugin_env):
    result = run_cli("plugins", env=plugin_env)
    assert result.returncode == 0, result.stderr
    assert any(line.split()[:2] == ["topic", "topic"] for line in result.stdout.splitlines())
    assert any(line.split()[:2] == ["error_rate", "topic"] for line in result.stdout.splitlines())


def test_third_party_task_runs_from_the_cli_with_its_own_metric_and_configs(run_cli, plugin_env):
    result = run_cli("task=topic", *TINY, env=plugin_env)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = result.metrics
    assert metrics["monitor"] == "val/error_rate" and metrics["mode"] == "min"
    assert metrics["val"]["val/error_rate"] == pytest.approx(1 - metrics["val"]["val/accuracy"], abs=1e-6)


def test_autoload_switch_hides_the_third_party_task(run_cli, plugin_env):
    result = run_cli("task=topic", env={**plugin_env, "GLMTASKS_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert result.returncode == 2 and "unknown task 'topic'" in result.stderr
