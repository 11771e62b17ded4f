"""Distributed training on 2 CPU processes (gloo): one run directory, data tokenized once, exact metrics.

Also the helpers of :mod:`glmtasks.distributed` (launcher ranks, shared run names under
torchrun/srun, strategies from config) and :func:`glmtasks.data.compute_once`.
"""

from __future__ import annotations

import json

import pytest

from conftest import TINY
from glmtasks.testing import run_task

# 61 validation examples in batches of 16 on 2 ranks: shards of 31 and 30, uneven last batches.
DDP_DATA = ["data.demo_train_size=256", "data.demo_eval_size=61", "data.eval_batch_size=16", "optimizer.lr=3e-3"]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """One ``trainer=ddp_cpu`` run (Lightning starts the second process), shared by the tests below."""
    run = run_task("sentiment", ["trainer=ddp_cpu", *DDP_DATA], tmp_path_factory.mktemp("ddp"))
    return run.output_dir, run.stdout + run.stderr


def test_all_ranks_share_one_run_directory(ddp_run):
    out, _ = ddp_run
    runs = [p for p in (out / "sentiment").iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    run_dir = runs[0]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["global_steps"] == 256 // 32 // 2, "each rank took half of the batches"
    assert (run_dir / "train_ddp_process_1.log").is_file(), "rank 1 ran in the same directory"
    assert not list(out.rglob("*.rank*.jsonl")) and not list(out.rglob("*.partial")), "no leftovers of rank parts"
    assert len(list((run_dir / "checkpoints").glob("best-*.ckpt"))) == 1
    assert (run_dir / "export" / "model.safetensors").is_file()


def test_each_split_is_tokenized_once_and_read_by_the_other_rank(ddp_run):
    out, output = ddp_run
    (run_dir,) = [p for p in (out / "sentiment").iterdir() if p.is_dir()]
    for split in ("train", "validation", "test"):
        assert output.count(f"rank 0 computed features-{split} ") == 1, output[-3000:]
        assert output.count(f"rank 1 read features-{split} ") >= 1
        assert "computed features" not in "".join(line for line in output.splitlines() if "rank 1" in line)
        assert (run_dir / "cache" / f"features-{split}.pkl").is_file()


def test_predictions_cover_each_test_example_exactly_once(ddp_run):
    out, _ = ddp_run
    (path,) = out.rglob("predictions.jsonl")
    indices = [json.loads(line)["index"] for line in path.read_text().splitlines()]
    assert indices == list(range(61))


def validate_in_one_process(checkpoint: str, overrides: list[str]) -> dict[str, float]:
    """Validation metrics of ``checkpoint`` computed by this (single) process, through the same core pieces."""
    import lightning as L
    from glmtasks.backbone import load_tokenizer
    from glmtasks.cli import compose_dict, validate
    from glmtasks.module import TaskModule
    from glmtasks.registry import default_registry
    from glmtasks.run import build_datamodule, build_head_config, resolve_task
    from glmtasks.specs import resolve_factory

    config = validate(compose_dict(overrides))
    registry = default_registry()
    task = resolve_task(config, registry)
    datamodule = build_datamodule(config, task, registry)
    tokenizer = load_tokenizer(config.backbone, datamodule.training_texts)  # deterministic: the run's vocabulary
    datamodule.set_tokenizer(tokenizer)
    head_config = build_head_config(config.task.head_config, task, registry, [])
    head = resolve_factory(registry.heads.get(task.head).factory)(config.backbone, tokenizer, datamodule.task_info, head_config)
    metrics = {name: registry.metrics.get(name).build(datamodule.task_info) for name in task.metrics}
    module = TaskModule(head, metrics, config.optimizer, config.scheduler)
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, use_distributed_sampler=False)
    (result,) = trainer.validate(module, datamodule=datamodule, ckpt_path=checkpoint, verbose=False)
    return {key: float(value) for key, value in result.items()}


def test_validation_metrics_equal_one_process_on_the_same_checkpoint(ddp_run):
    out, _ = ddp_run
    (metrics_file,) = out.rglob("metrics.json")
    ddp = json.loads(metrics_file.read_text())
    # The same checkpoint scored by one process, in batches of another size (7 instead of 16).
    one = validate_in_one_process(ddp["best_checkpoint"], ["task=sentiment", *TINY, *DDP_DATA[:2], "data.eval_batch_size=7"])
    assert set(one) == set(ddp["val"]) == {"val/loss", "val/accuracy", "val/macro_f1"}
    for key, value in ddp["val"].items():
        assert one[key] == pytest.approx(value, abs=1e-5), key


# ---------------------------------------------------------------------------------------
# Helpers (no processes started).


def test_launch_rank_reads_the_launchers_variables(monkeypatch):
    from glmtasks.distributed import is_rank_zero, launch_rank

    for name in ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert launch_rank() == 0 and is_rank_zero()
    monkeypatch.setenv("LOCAL_RANK", "1")  # Lightning's subprocess launcher
    assert launch_rank() == 1 and not is_rank_zero()
    monkeypatch.setenv("RANK", "0")  # torchrun sets both; RANK is global
    assert launch_rank() == 0


def test_run_directory_name_is_shared_by_all_processes_of_a_torchrun_or_srun_launch(monkeypatch):
    from glmtasks.distributed import run_stamp

    for name in ("WORLD_SIZE", "TORCHELASTIC_RUN_ID", "SLURM_NTASKS", "SLURM_JOB_ID", "SLURM_STEP_ID"):
        monkeypatch.delenv(name, raising=False)
    assert run_stamp() != run_stamp(), "a plain run gets a fresh timestamp"
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "none")
    assert not run_stamp().startswith("torchrun"), "torchrun without a rendezvous id names nothing"
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "abc123")
    assert run_stamp() == run_stamp() == "torchrun-abc123"
    monkeypatch.delenv("WORLD_SIZE")
    monkeypatch.setenv("SLURM_NTASKS", "8")
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_STEP_ID", "0")
    assert run_stamp() == "slurm-4242.0"


def test_hydra_run_dir_uses_the_shared_name(monkeypatch):
    from glmtasks.cli import compose

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "xyz")
    cfg = compose(["paths.output_dir=out"], with_hydra=True)
    assert cfg.hydra.run.dir == "out/sentiment/torchrun-xyz"


def test_strategy_mapping_builds_fsdp_with_layer_class_names():
    from lightning.pytorch.strategies import FSDPStrategy

    from glmtasks.distributed import build_strategy

    strategy = build_strategy({"name": "fsdp", "sharding_strategy": "SHARD_GRAD_OP", "auto_wrap_policy": ["GlmDecoderLayer"]})
    assert isinstance(strategy, FSDPStrategy)
    assert strategy.sharding_strategy.name == "SHARD_GRAD_OP"
    assert build_strategy("ddp") == "ddp"


def test_fsdp_reads_full_checkpoints_without_lightnings_lazy_loader(tmp_path):
    """Lightning 2.6's lazy loader fails on checkpoints of torch >= 2.11; FSDP runs read them with torch.load."""
    import torch
    from lightning.pytorch.strategies import fsdp as fsdp_module

    from glmtasks.distributed import _full_checkpoint_load, build_strategy

    path = tmp_path / "best.ckpt"
    torch.save({"state_dict": {"head.w": torch.ones(2)}, "epoch": 0}, path)
    assert _full_checkpoint_load(path)["state_dict"]["head.w"].tolist() == [1.0, 1.0]
    strategy = build_strategy({"name": "fsdp"})
    seen = []

    def parent_load(self, checkpoint_path, weights_only=None):
        seen.append(fsdp_module._lazy_load(checkpoint_path))
        return {}

    original = type(strategy).__mro__[1].load_checkpoint
    try:
        type(strategy).__mro__[1].load_checkpoint = parent_load
        strategy.load_checkpoint(path)
    finally:
        type(strategy).__mro__[1].load_checkpoint = original
    assert seen[0]["epoch"] == 0 and fsdp_module._lazy_load is not _full_checkpoint_load


@pytest.mark.parametrize(
    "strategy,message",
    [
        ({"name": "fsdpp"}, "unknown strategy 'trainer.strategy.name=fsdpp' (did you mean 'fsdp'?)"),
        ({"name": "fsdp", "shard_strategy": "FULL_SHARD"}, "unknown key 'trainer.strategy.shard_strategy'"),
        ({"sharding_strategy": "FULL_SHARD"}, "needs a name"),
    ],
)
def test_bad_strategy_mappings_fail_in_one_line(strategy, message):
    from glmtasks.distributed import check_strategy

    errors: list[str] = []
    check_strategy(strategy, errors)
    assert len(errors) == 1 and message in errors[0], errors


@pytest.mark.parametrize(
    "trainer,expected",
    [
        ({"accelerator": "cpu", "devices": 2, "strategy": "ddp"}, True),
        ({"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn"}, True),
        ({"accelerator": "cpu", "devices": 1}, False),
    ],
)
def test_launches_processes(trainer, expected, monkeypatch):
    from glmtasks.distributed import launches_processes

    for name in ("LOCAL_RANK", "WORLD_SIZE", "TORCHELASTIC_RUN_ID", "SLURM_NTASKS", "SLURM_JOB_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert launches_processes(trainer) is expected


class _FakeStrategy:
    def __init__(self, log):
        self.log = log

    def barrier(self, name=None):
        self.log.append("barrier")


class _FakeTrainer:
    def __init__(self, rank, root, log):
        self.global_rank, self.world_size, self.default_root_dir = rank, 2, str(root)
        self.strategy = _FakeStrategy(log)


def test_compute_once_pickles_on_rank_zero_and_the_other_rank_loads_it(tmp_path):
    from glmtasks.data import compute_once

    calls: list[int] = []

    def features():
        calls.append(1)
        return [{"input_ids": [1, 2, 3], "index": 0}]

    log: list[str] = []
    zero = compute_once("toy", features, _FakeTrainer(0, tmp_path, log))
    one = compute_once("toy", features, _FakeTrainer(1, tmp_path, log))
    assert calls == [1] and zero == one == features() and log == ["barrier", "barrier"]
    assert (tmp_path / "cache" / "toy.pkl").is_file() and not list((tmp_path / "cache").glob("*.tmp"))


def test_without_test_data_the_last_validation_stands_in_for_the_test_pass_on_every_rank(tmp_path):
    """Rank 0 keeps the merged validation predictions; every rank skips the test pass the same way."""
    import random

    rng = random.Random(3)
    words = {"positive": ["great", "moving", "superb"], "negative": ["dull", "boring", "awful"]}
    rows = [(f"a {rng.choice(words[label])} {rng.choice(['film', 'plot'])}", label) for label in ["positive", "negative"] * 80]
    for name, part in (("train.tsv", rows[:99]), ("dev.tsv", rows[99:])):
        (tmp_path / name).write_text("sentence\tlabel\n" + "".join(f"{text}\t{label}\n" for text, label in part))
    run = run_task("sentiment", ["trainer=ddp_cpu", "data=sst2", f"data.train_file={tmp_path / 'train.tsv'}",
                                 f"data.validation_file={tmp_path / 'dev.tsv'}", "data.labels=[negative,positive]",
                                 "data.eval_batch_size=16"], tmp_path / "out")
    metrics = json.loads((run.run_dir / "metrics.json").read_text())
    assert metrics["test"] == {"test/" + k[4:]: v for k, v in metrics["val"].items()}
    indices = [json.loads(line)["index"] for line in (run.run_dir / "predictions.jsonl").read_text().splitlines()]
    assert indices == list(range(61)), "each of the 61 validation examples once, from both ranks"
    assert not list(run.run_dir.glob("*fit-validation*")) and not list(run.run_dir.glob("*.rank*.jsonl"))
