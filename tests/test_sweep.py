"""Multirun sweeps: one directory per job, failures recorded while the sweep goes on, summary and plot,
Optuna searches with the task's metric and direction, parallel (joblib) jobs, and DDP jobs."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import yaml

from conftest import TINY

SMALL = ["data.demo_train_size=256", "data.demo_eval_size=64"]


def sweep_root(output_dir: Path, task: str = "sentiment") -> Path:
    (root,) = (output_dir / "multirun" / task).iterdir()
    return root


def jobs_of(root: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in root.glob("*/job.json")}


def test_grid_sweep_records_failed_jobs_and_goes_on(run_cli):
    # Job 0 trains; job 1 diverges (NaN loss); job 2 has a value only the job itself rejects.
    result = run_cli("-m", "task=sentiment", *TINY, *SMALL, "optimizer.lr=1e-3,1e30,fast")
    assert result.returncode == 0, result.stderr[-3000:]
    root = sweep_root(result.output_dir)
    jobs = jobs_of(root)
    assert sorted(jobs) == ["0", "1", "2"], "each job in its own directory"
    assert jobs["0"]["status"] == "completed" and jobs["0"]["metric"] == "val/accuracy"
    metrics = json.loads((root / "0" / "metrics.json").read_text())
    assert jobs["0"]["score"] == metrics["score"] == metrics["val"]["val/accuracy"]
    assert jobs["1"]["status"] == "failed" and "training diverged: the loss is nan" in jobs["1"]["reason"]
    assert jobs["2"]["status"] == "failed" and "'optimizer.lr' must be float, got 'fast'" in jobs["2"]["reason"]
    assert not (root / "1" / "metrics.json").exists() and not (root / "2" / "metrics.json").exists()

    with open(root / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["job"] for r in rows] == ["0", "1", "2"]
    assert [r["status"] for r in rows] == ["completed", "failed", "failed"]
    assert float(rows[0]["val/accuracy"]) == pytest.approx(metrics["score"], rel=1e-5)
    assert [r["optimizer.lr"] for r in rows] == ["0.001", "1e+30", "fast"]
    assert rows[1]["run_dir"] == str(root / "1") and "optimizer.lr=1e+30" in rows[1]["overrides"]
    markdown = (root / "summary.md").read_text()
    assert "3 jobs: 1 completed, 2 failed" in markdown and "Best: job 0" in markdown
    assert (root / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "sweep summary:" in result.stdout


def test_optuna_search_in_parallel_jobs_returns_the_tasks_metric(run_cli):
    result = run_cli(
        "-m", "hparams_search=classification", "task=sentiment", *TINY, *SMALL,
        "hydra.sweeper.n_trials=2", "hydra.sweeper.n_jobs=2", "hydra/launcher=parallel",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    root = sweep_root(result.output_dir)
    jobs = jobs_of(root)
    assert sorted(jobs) == ["0", "1"] and all(j["status"] == "completed" for j in jobs.values())
    assert len({j["run_dir"] for j in jobs.values()}) == 2
    best = yaml.safe_load((root / "optimization_results.yaml").read_text())
    assert best["best_value"] == pytest.approx(max(j["score"] for j in jobs.values()))
    assert set(best["best_params"]) == {"optimizer.lr", "optimizer.weight_decay", "scheduler.warmup_steps", "data.batch_size"}
    rows = list(csv.DictReader(open(root / "summary.csv", newline="")))
    assert {"optimizer.lr", "optimizer.weight_decay"} <= set(rows[0])
    assert (root / "summary.png").is_file()


def test_ddp_jobs_in_a_sweep_each_get_their_own_process_group(run_cli):
    # Two DDP jobs one after the other in one sweep; the second diverges on both ranks.
    result = run_cli("-m", "task=sentiment", "trainer=ddp_cpu", *TINY, *SMALL, "optimizer.lr=1e-3,1e30")
    assert result.returncode == 0, result.stderr[-3000:]
    root = sweep_root(result.output_dir)
    jobs = jobs_of(root)
    assert jobs["0"]["status"] == "completed" and (root / "0" / "train_ddp_process_1.log").is_file()
    metrics = json.loads((root / "0" / "metrics.json").read_text())
    assert metrics["global_steps"] == 256 // 32 // 2
    assert jobs["1"]["status"] == "failed" and jobs["1"]["reason"].startswith("training diverged: the loss is nan")
    assert [p.name for p in result.output_dir.iterdir()] == ["multirun"], "ranks wrote nowhere else"
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["0", "1"]


# ---------------------------------------------------------------------------------------
# Configs and the summary on its own.


def search_spaces() -> list[str]:
    """Every hparams_search option, in the core's conf/ or a plugin's config dir."""
    from glmtasks.searchpath import config_search_dirs

    return sorted({p.stem for directory in config_search_dirs() for p in (directory / "hparams_search").glob("*.yaml")})


def test_the_plugins_bring_their_search_spaces():
    assert {"classification", "ner", "qa", "summarization", "translation"} <= set(search_spaces())


@pytest.mark.parametrize("name", search_spaces())
def test_hparams_search_configs_compose_with_the_tasks_direction(name):
    from omegaconf import OmegaConf

    from glmtasks.cli import compose, validate
    from glmtasks.registry import default_registry

    cfg = compose([f"hparams_search={name}"], with_hydra=True)
    if cfg.task.name not in [t.name for t in default_registry().tasks]:
        pytest.skip(f"task {cfg.task.name} is not installed")
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper") and sweeper.params
    mode = default_registry().tasks.get(cfg.task.name).mode
    assert sweeper.direction == ("maximize" if mode == "max" else "minimize")
    raw = OmegaConf.to_container(compose([f"hparams_search={name}"]), resolve=True)
    validate(raw)
    flipped = compose([f"hparams_search={name}", f"task.mode={'min' if mode == 'max' else 'max'}"], with_hydra=True)
    assert flipped.hydra.sweeper.direction != sweeper.direction


@pytest.mark.parametrize("launcher,target", [("parallel", "JoblibLauncher"), ("slurm", "SlurmLauncher")])
def test_launcher_configs_compose(launcher, target):
    from glmtasks.cli import compose

    cfg = compose([f"hydra/launcher={launcher}", "trainer=ddp", "trainer.devices=4"], with_hydra=True)
    assert cfg.hydra.launcher._target_.endswith(target)
    if launcher == "slurm":
        assert cfg.hydra.launcher.tasks_per_node == 4 and cfg.hydra.launcher.gpus_per_node == 4 and cfg.hydra.launcher.nodes == 1


def _job(root: Path, num: int, status: str, lr: str, score=None, reason=None) -> None:
    (root / str(num)).mkdir(parents=True)
    record = {"job": str(num), "status": status, "overrides": ["task=sentiment", f"optimizer.lr={lr}", "data.batch_size=16"],
              "run_dir": str(root / str(num))}
    if score is not None:
        record.update(score=score, metric="val/loss", mode="min")
    if reason:
        record["reason"] = reason
    (root / str(num) / "job.json").write_text(json.dumps(record))


def test_summary_of_jobs_on_disk(tmp_path):
    from glmtasks.sweep import collect_jobs, swept_parameters, write_summary

    _job(tmp_path, 0, "completed", "1e-4", score=0.5)
    _job(tmp_path, 1, "completed", "1e-3", score=0.3)
    _job(tmp_path, 2, "failed", "1e-2", reason="training diverged")
    _job(tmp_path, 10, "running", "1e-1")  # killed: it never finished
    (tmp_path / "11" / ".hydra").mkdir(parents=True)  # made by Hydra, the job never started
    (tmp_path / "11" / ".hydra" / "overrides.yaml").write_text("- task=sentiment\n- optimizer.lr=1.0\n- data.batch_size=16\n")

    assert [j["status"] for j in collect_jobs(tmp_path, final=False)] == ["completed", "completed", "failed", "running", "running"]
    jobs = write_summary(tmp_path)
    assert [j["job"] for j in jobs] == ["0", "1", "2", "10", "11"]
    assert [j["status"] for j in jobs] == ["completed", "completed", "failed", "failed", "failed"]
    assert "ended without a result" in jobs[3]["reason"]
    assert swept_parameters(jobs) == ["optimizer.lr"]
    markdown = (tmp_path / "summary.md").read_text()
    assert "Metric: `val/loss` (lower is better)" in markdown and "Best: job 1, val/loss = 0.3" in markdown
    assert "| 1 | completed | 0.3 | 1e-3 | optimizer.lr=1e-3 | 1 |  |" in markdown
    rows = list(csv.DictReader(open(tmp_path / "summary.csv", newline="")))
    assert list(rows[0]) == ["job", "status", "val/loss", "optimizer.lr", "overrides", "run_dir", "reason"]
    assert rows[4]["optimizer.lr"] == "1.0"
    assert (tmp_path / "summary.png").stat().st_size > 1000


def test_run_sweep_job_records_failures_and_returns_none(tmp_path):
    from glmtasks.errors import DataError
    from glmtasks.sweep import run_sweep_job

    class Config:
        trainer = {"accelerator": "cpu", "devices": 1}

    def fail(_):
        raise DataError("data file not found: x.csv (data.train_file)")

    assert run_sweep_job(lambda: Config(), fail, tmp_path / "0", ["a=1"]) is None
    record = json.loads((tmp_path / "0" / "job.json").read_text())
    assert record["status"] == "failed" and record["reason"] == "data file not found: x.csv (data.train_file)"

    def bug(_):
        raise ZeroDivisionError("division by zero")

    assert run_sweep_job(lambda: Config(), bug, tmp_path / "1", ["a=2"]) is None
    assert json.loads((tmp_path / "1" / "job.json").read_text())["reason"] == "ZeroDivisionError: division by zero"

    def nan_metric(_):
        return {"score": math.nan, "monitor": "val/accuracy", "mode": "max"}

    assert run_sweep_job(lambda: Config(), nan_metric, tmp_path / "2", ["a=3"]) is None
    assert json.loads((tmp_path / "2" / "job.json").read_text())["status"] == "failed"

    def ok(_):
        return {"score": 0.75, "monitor": "val/accuracy", "mode": "max", "test": {}}

    assert run_sweep_job(lambda: Config(), ok, tmp_path / "3", ["a=4"]) == 0.75
    assert json.loads((tmp_path / "3" / "job.json").read_text())["score"] == 0.75


def test_finite_loss_check_stops_every_rank_together():
    import torch

    from glmtasks.errors import TrainingError
    from glmtasks.trainer import FiniteLossCheck

    class Strategy:
        def reduce_boolean_decision(self, decision, all=True):
            return True  # another rank saw NaN

    class Trainer:
        world_size, global_step, current_epoch, strategy = 2, 7, 0, Strategy()

    check = FiniteLossCheck()
    with pytest.raises(TrainingError, match="not finite on another rank at step 7"):
        check.on_train_batch_end(Trainer(), object(), {"loss": torch.tensor(0.5)}, None, 0)
    Trainer.world_size = 1
    check.on_train_batch_end(Trainer(), object(), {"loss": torch.tensor(0.5)}, None, 0)
    with pytest.raises(TrainingError, match="the loss is inf"):
        check.on_train_batch_end(Trainer(), object(), torch.tensor(float("inf")), None, 0)
