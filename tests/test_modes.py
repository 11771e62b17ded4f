"""mode=evaluate|predict|export from checkpoints and exports; LoRA; safe and atomic checkpoint I/O."""

from __future__ import annotations

import json
import os

import pytest
import torch

from conftest import TINY
from glmtasks.testing import run_task

SMALL = ["data.demo_train_size=200", "data.demo_eval_size=48"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run = run_task("sentiment", SMALL, tmp_path_factory.mktemp("trained"))
    assert len(run.run_dirs()) == 1
    return run.run_dir


def test_evaluate_a_checkpoint_reproduces_the_training_metrics(trained_run, run_cli):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    result = run_cli("task=sentiment", "mode=evaluate", f"checkpoint={metrics['best_checkpoint']}", *TINY, *SMALL)
    assert result.returncode == 0, result.stderr[-3000:]
    evaluated = result.metrics
    assert evaluated["split"] == "validation"
    assert evaluated["metrics"]["val/accuracy"] == pytest.approx(metrics["val"]["val/accuracy"])
    # one epoch: the metrics.json figures are those of the validation during fit (no second pass)
    assert evaluated["metrics"]["val/loss"] == pytest.approx(metrics["val"]["val/loss"], rel=1e-5)


def test_evaluate_an_export_on_the_test_split(trained_run, run_cli):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    result = run_cli("task=sentiment", "mode=evaluate", "eval_split=test", f"checkpoint={trained_run / 'export'}", *TINY, *SMALL)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.metrics["metrics"]["test/accuracy"] == pytest.approx(metrics["test"]["test/accuracy"], abs=1e-6)


def test_predict_from_a_run_directory_keeps_input_order(trained_run, run_cli, tmp_path):
    texts = ["the plot was far from dull", "a", "the cast seemed extremely charming, but the ending was tedious and the score was bland"]
    (tmp_path / "inputs.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    result = run_cli("task=sentiment", "mode=predict", f"checkpoint={trained_run}", f"data.predict_file={tmp_path / 'inputs.jsonl'}")
    assert result.returncode == 0, result.stderr[-3000:]
    (run_dir,) = result.run_dirs()
    lines = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert [line["text"] for line in lines] == texts
    assert all(line["prediction"] in ("negative", "positive") for line in lines)


def test_export_from_a_checkpoint_matches_the_runs_own_export(trained_run, run_cli):
    from transformers import pipeline

    metrics = json.loads((trained_run / "metrics.json").read_text())
    result = run_cli("task=sentiment", "mode=export", f"checkpoint={metrics['best_checkpoint']}")
    assert result.returncode == 0, result.stderr[-3000:]
    (export_dir,) = list(result.output_dir.rglob("export"))
    texts = [json.loads(line)["text"] for line in (trained_run / "predictions.jsonl").read_text().splitlines()]
    original = pipeline("text-classification", model=str(trained_run / "export"), device="cpu")(texts)
    again = pipeline("text-classification", model=str(export_dir), device="cpu")(texts)
    assert [o["label"] for o in original] == [a["label"] for a in again]
    assert all(abs(o["score"] - a["score"]) < 1e-5 for o, a in zip(original, again))


def test_mode_errors_are_one_line(run_cli, tmp_path):
    result = run_cli("task=sentiment", "mode=predict")
    assert result.returncode == 2 and "mode=predict needs a model: checkpoint=" in result.stderr
    result = run_cli("task=sentiment", "mode=evaluate", f"checkpoint={tmp_path}")
    assert result.returncode == 2 and "is not a .ckpt file, an export/ folder or a run directory" in result.stderr
    result = run_cli("task=sentiment", "mode=predic", "checkpoint=x")
    assert result.returncode == 2 and "unknown mode 'predic' (did you mean 'predict'?)" in result.stderr


def test_checkpoints_are_loaded_without_running_pickled_code(trained_run, tmp_path):
    from glmtasks.errors import DataError
    from glmtasks.run import locate_trained_model

    evil_run = tmp_path / "run"
    (evil_run / "checkpoints").mkdir(parents=True)
    for name in ("glmtasks.json", "config.yaml"):
        (evil_run / name).write_bytes((trained_run / name).read_bytes())
    torch.save({"state_dict": {}, "payload": os.system}, evil_run / "checkpoints" / "evil.ckpt")
    with pytest.raises(DataError, match="cannot read checkpoint"):
        locate_trained_model(str(evil_run / "checkpoints" / "evil.ckpt"))


def test_a_failed_export_leaves_no_complete_looking_folder(tmp_path):
    from glmtasks.run import export_head

    class FailingModel:
        def save_pretrained(self, directory):
            (directory / "config.json").write_text("{}")
            raise KeyboardInterrupt("killed")

    class Head:
        model, tokenizer = FailingModel(), None

    with pytest.raises(KeyboardInterrupt):
        export_head(Head(), tmp_path / "export", {})
    assert not (tmp_path / "export").exists()


# ---------------------------------------------------------------------------------------
# LoRA


def _tiny_glm_classifier(peft=None):
    from glmtasks.backbone import load_model, train_bpe_tokenizer
    from glmtasks.config import BackboneConfig, PeftConfig

    tokenizer = train_bpe_tokenizer(["the movie was good", "the plot was dull"] * 10, vocab_size=300)
    model_config = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16}
    backbone = BackboneConfig(name="g", model_config=model_config, peft=PeftConfig(dropout=0.0) if peft else None)
    torch.manual_seed(0)
    return load_model(backbone, "AutoModelForSequenceClassification", tokenizer, num_labels=2), tokenizer


def test_lora_trains_only_adapters_and_the_classifier():
    model, _ = _tiny_glm_classifier(peft=True)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name or ".score." in name for name in trainable), trainable
    adapted = {name.split(".lora_A")[0].rsplit(".", 1)[-1] for name in trainable if "lora_A" in name}
    assert adapted == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_up_proj", "down_proj"}


def test_merged_lora_export_equals_adapter_inference(tmp_path):
    from transformers import AutoModelForSequenceClassification

    from glmtasks.head import save_head

    model, tokenizer = _tiny_glm_classifier(peft=True)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(std=0.5)  # B starts at zero: make the adapters matter
    model.eval()
    batch = tokenizer(["the movie was good", "the plot"], padding=True, return_tensors="pt")
    with torch.no_grad():
        adapted = model(**batch).logits
    head = torch.nn.Module()
    head.model, head.tokenizer = model, tokenizer
    save_head(head, tmp_path)
    assert not (tmp_path / "adapter_config.json").exists()
    assert any("lora_" in name for name in model.state_dict()), "save_head leaves the run's own model untouched"
    merged = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    assert not any("lora_" in name for name in merged.state_dict())
    with torch.no_grad():
        assert torch.allclose(merged(**batch).logits, adapted, atol=1e-5)


def test_lora_run_exports_a_merged_classifier_that_reproduces_the_predictions(run_cli):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    result = run_cli("task=sentiment", "peft=lora", *TINY, *SMALL)
    assert result.returncode == 0, result.stderr[-3000:]
    (run_dir,) = result.run_dirs()
    export = run_dir / "export"
    assert (export / "model.safetensors").is_file() and not (export / "adapter_config.json").exists()
    checkpoint = torch.load(next((run_dir / "checkpoints").glob("best-*.ckpt")), map_location="cpu", weights_only=True)
    assert any("lora_" in name for name in checkpoint["state_dict"]), "the run trained adapters"
    model = AutoModelForSequenceClassification.from_pretrained(export).eval()
    assert not any("lora_" in name for name in model.state_dict())
    tokenizer = AutoTokenizer.from_pretrained(export)
    predictions = result.predictions()[:16]
    with torch.no_grad():
        probabilities = model(**tokenizer([p["text"] for p in predictions], padding=True, return_tensors="pt")).logits.softmax(-1)
    scores, ids = probabilities.max(-1)
    assert [model.config.id2label[int(i)] for i in ids] == [p["prediction"] for p in predictions]
    assert scores.tolist() == pytest.approx([p["score"] for p in predictions], abs=1e-4)
