"""logger=mlflow (local file store) and logger=wandb (offline): a tiny run logs its config, metrics and export."""

from __future__ import annotations

import pytest
import yaml

from glmtasks.testing import run_task

SMALL = ["data.demo_train_size=64", "data.demo_eval_size=16", "trainer.max_epochs=2", "trainer.log_every_n_steps=1"]


def test_mlflow_logs_config_metrics_export_and_report_to_the_local_store(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 reads its file store only when asked to

    run = run_task("sentiment", ["logger=mlflow", "logger.experiment=tests", *SMALL], tmp_path)
    store = run.output_dir / "mlruns"
    assert store.is_dir() and (run.run_dir / "logs" / "metrics.csv").is_file(), "the CSV log is kept for the report"
    client = MlflowClient(tracking_uri=store.resolve().as_uri())
    experiment = client.get_experiment_by_name("tests")
    (logged,) = client.search_runs([experiment.experiment_id])
    assert logged.info.status == "FINISHED" and logged.info.run_name == f"sentiment/{run.run_dir.name}"
    config = yaml.safe_load((run.run_dir / "config.yaml").read_text())
    assert float(logged.data.params["optimizer.lr"]) == config["optimizer"]["lr"]
    assert logged.data.params["task.name"] == "sentiment" and logged.data.params["backbone.name"] == "glm-tiny"
    assert {"train/loss", "val/accuracy", "val/macro_f1", "test/accuracy"} <= set(logged.data.metrics)
    assert logged.data.metrics["test/accuracy"] == pytest.approx(run.metrics["test"]["test/accuracy"])
    exported = {a.path for a in client.list_artifacts(logged.info.run_id, "export")}
    assert {"export/model.safetensors", "export/config.json", "export/tokenizer.json", "export/glmtasks.json"} <= exported
    report = {a.path for a in client.list_artifacts(logged.info.run_id, "report")}
    assert {"report/metrics.json", "report/report.png"} <= report
    assert logged.data.tags["glmtasks.run_dir"] == str(run.run_dir)


def test_wandb_offline_writes_config_metrics_and_the_export_artifact_under_the_run(tmp_path):
    pytest.importorskip("wandb")
    env = {f"WANDB_{key}_DIR": str(tmp_path / f"wandb-{key.lower()}") for key in ("DATA", "CACHE", "CONFIG", "ARTIFACT")}
    run = run_task("sentiment", ["logger=wandb", *SMALL], tmp_path, env={**env, "WANDB_MODE": ""})
    (offline,) = (run.run_dir / "wandb").glob("offline-run-*")
    (records,) = offline.glob("run-*.wandb")
    data = records.read_bytes()
    # The offline run file holds protobuf records: the config keys, metric names and artifact manifests appear verbatim.
    for needle in (b"optimizer", b"task", b"val/accuracy", b"test/macro_f1", b"train/loss", b"export-", b"model.safetensors", b"report.png"):
        assert needle in data, needle
    assert "wandb sync" not in run.stderr  # no upload was attempted or asked for
