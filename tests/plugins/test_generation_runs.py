"""End-to-end runs of task=translation and task=summarization on tiny models: outputs, metrics.json, export round trip."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from omegaconf import OmegaConf

from conftest import TINY

SMALL_T5 = [
    "backbone=t5-tiny", "backbone.tokenizer_vocab_size=600", "backbone.model_config.d_model=64", "backbone.model_config.d_ff=128",
    "backbone.model_config.num_layers=1", "backbone.model_config.num_decoder_layers=1", "backbone.model_config.d_kv=16",
    "trainer.max_epochs=1", "callbacks.progress_bar=false",
]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def train_in_process(overrides, tmp_path):
    """``python -m glmtasks <overrides>`` without a new interpreter (the run's directory is returned)."""
    from glmtasks.cli import compose, validate
    from glmtasks.run import train

    config = validate(OmegaConf.to_container(compose([*overrides, f"paths.output_dir={tmp_path}"]), resolve=True))
    return train(config)


def regenerate_from_export(export_dir, auto_class, predictions):
    """What a user of plain transformers does: load export/, format prompts, generate with the saved settings."""
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(export_dir)
    model = getattr(transformers, auto_class).from_pretrained(export_dir).eval()
    template = json.loads((export_dir / "glmtasks.json").read_text())["task_info"]["prompt"]
    inputs = tokenizer([template.format(source=p["source"]) for p in predictions], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs)
    if not model.config.is_encoder_decoder:
        out = out[:, inputs["input_ids"].shape[1]:]
    return [text.strip() for text in tokenizer.batch_decode(out, skip_special_tokens=True)]


@pytest.fixture(scope="module")
def translation_run(tmp_path_factory):
    """``python -m glmtasks task=translation`` (the demo corpus) with a tiny GLM, through the CLI."""
    out = tmp_path_factory.mktemp("translation")
    proc = subprocess.run(
        [sys.executable, "-m", "glmtasks", "task=translation", *TINY, "data.demo_train_size=300", "data.demo_eval_size=24",
         "task.head_config.num_beams=2", "task.head_config.length_penalty=0.8", f"paths.output_dir={out}"],
        cwd=out, capture_output=True, text=True, env=os.environ.copy(), timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = [p.parent for p in out.rglob("metrics.json")]
    return run_dir, proc.stdout


def test_translation_run_writes_bleu_its_signature_and_streamed_predictions(translation_run):
    run_dir, stdout = translation_run
    assert "test/sacrebleu=" in stdout and "test/chrf=" in stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["monitor"] == "val/sacrebleu" and 0 <= metrics["test"]["test/sacrebleu"] <= 100
    signature = metrics["metric_metadata"]["sacrebleu"]["signature"]
    assert signature.startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:")
    predictions = read_jsonl(run_dir / "predictions.jsonl")
    assert [p["index"] for p in predictions] == list(range(24))
    assert set(predictions[0]) == {"index", "source", "references", "hypothesis"}
    assert len(predictions[0]["references"]) == 1 and predictions[0]["source"].endswith(".")
    assert (run_dir / "export" / "tokenizer.json").is_file(), "the tokenizer trained on the training text is exported"
    generation = json.loads((run_dir / "export" / "generation_config.json").read_text())
    assert (generation["num_beams"], generation["length_penalty"], generation["do_sample"]) == (2, 0.8, False)


def test_translation_export_generates_the_same_strings_with_plain_transformers(translation_run):
    run_dir, _ = translation_run
    predictions = read_jsonl(run_dir / "predictions.jsonl")
    regenerated = regenerate_from_export(run_dir / "export", "AutoModelForCausalLM", predictions)
    assert regenerated == [p["hypothesis"] for p in predictions]


def test_summarization_with_an_encoder_decoder_backbone_and_its_export(tmp_path):
    result = train_in_process(["task=summarization", *SMALL_T5, "data.demo_train_size=150", "data.demo_eval_size=12"], tmp_path)
    from pathlib import Path

    run_dir = Path(result["run_dir"])
    assert {"test/rouge1", "test/rouge2", "test/rougeL", "test/rougeLsum"} <= set(result["test"])
    assert result["monitor"] == "val/rougeLsum"
    predictions = read_jsonl(run_dir / "predictions.jsonl")
    assert len(predictions) == 12 and all(isinstance(p["hypothesis"], str) for p in predictions)
    config = json.loads((run_dir / "export" / "config.json").read_text())
    assert config["model_type"] == "t5" and config["is_encoder_decoder"]
    regenerated = regenerate_from_export(run_dir / "export", "AutoModelForSeq2SeqLM", predictions)
    assert regenerated == [p["hypothesis"] for p in predictions]


def test_chinese_title_generation_on_real_data_scores_characters(shared_data, tmp_path):
    overrides = ["data=csl", f"paths.shared_data={shared_data}", *TINY, "data.max_train_samples=64", "data.max_eval_samples=16",
                 "data.max_length=96", "data.max_target_length=16", "export=false"]
    result = train_in_process(overrides, tmp_path)
    assert result["task"] == "summarization" and 0 <= result["test"]["test/rouge1"] <= 100
    from pathlib import Path

    predictions = read_jsonl(Path(result["run_dir"]) / "predictions.jsonl")
    assert len(predictions) == 16 and any("\u4e00" <= ch <= "\u9fff" for ch in predictions[0]["references"][0])
