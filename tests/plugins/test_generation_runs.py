"""End-to-end runs of task=translation and task=summarization on tiny models: outputs, metrics.json, export round trip."""

from __future__ import annotations

import json

import pytest
import torch

from glmtasks.api import run_task

SMALL_T5 = [
    "backbone=t5-tiny", "backbone.tokenizer_vocab_size=600", "backbone.model_config.d_model=64", "backbone.model_config.d_ff=128",
    "backbone.model_config.num_layers=1", "backbone.model_config.num_decoder_layers=1", "backbone.model_config.d_kv=16",
    "trainer.max_epochs=1", "callbacks.progress_bar=false",
]


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
    """``python -m glmtasks task=translation`` (the demo corpus) with a tiny GLM, through the testing kit."""
    overrides = ["data.demo_train_size=300", "data.demo_eval_size=24", "data.prompt='translate: {source}'",
                 "task.head_config.num_beams=2", "task.head_config.length_penalty=0.8"]
    return run_task("translation", overrides, tmp_path_factory.mktemp("translation"))


def test_translation_run_writes_bleu_its_signature_and_streamed_predictions(translation_run):
    run_dir, stdout = translation_run.run_dir, translation_run.stdout
    assert "test/sacrebleu=" in stdout and "test/chrf=" in stdout
    metrics = translation_run.metrics
    assert metrics["monitor"] == "val/sacrebleu" and 0 <= metrics["test"]["test/sacrebleu"] <= 100
    signature = metrics["metric_metadata"]["sacrebleu"]["signature"]
    assert signature.startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:")
    predictions = translation_run.predictions()
    assert [p["index"] for p in predictions] == list(range(24))
    assert set(predictions[0]) == {"index", "source", "references", "hypothesis"}
    assert len(predictions[0]["references"]) == 1 and predictions[0]["source"].endswith(".")
    assert (run_dir / "export" / "tokenizer.json").is_file(), "the tokenizer trained on the training text is exported"
    generation = json.loads((run_dir / "export" / "generation_config.json").read_text())
    assert (generation["num_beams"], generation["length_penalty"], generation["do_sample"]) == (2, 0.8, False)


def test_translation_export_generates_the_same_strings_with_plain_transformers(translation_run):
    predictions = translation_run.predictions()
    regenerated = regenerate_from_export(translation_run.run_dir / "export", "AutoModelForCausalLM", predictions)
    assert regenerated == [p["hypothesis"] for p in predictions]


def test_predict_mode_formats_prompts_as_trained_and_needs_no_references(translation_run, tmp_path):
    trained = translation_run.predictions()[:5]
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text("".join(json.dumps({"en": p["source"]}) + "\n" for p in trained))
    run = run_task("translation", ["mode=predict", f"checkpoint={translation_run.run_dir}", f"data.predict_file={inputs}",
                                   "callbacks.progress_bar=false"], tmp_path, tiny=False)
    predictions = run.predictions()
    assert [p["source"] for p in predictions] == [p["source"] for p in trained] and all(p["references"] == [] for p in predictions)
    assert [p["hypothesis"] for p in predictions] == [p["hypothesis"] for p in trained], "the trained prompt template is used"


@pytest.mark.parametrize("task", ["translation", "summarization"])
def test_lora_export_is_merged_and_generates_the_same_strings_with_plain_transformers(task, tmp_path):
    """``peft=lora``: export/ holds merged weights (no adapter files, no lora_ parameters) that plain
    ``tokenizer(prompts, padding=True)`` + ``generate()`` turn into the run's own predictions."""
    import transformers

    run = run_task(task, ["peft=lora", "data.demo_train_size=120", "data.demo_eval_size=8"], tmp_path)
    trained = torch.load(run.metrics["best_checkpoint"], map_location="cpu", weights_only=True)["state_dict"]
    assert any("lora_" in name for name in trained), "the run trained LoRA adapters"
    export = run.run_dir / "export"
    files = sorted(path.name for path in export.iterdir())
    assert not [name for name in files if name.startswith("adapter_")], files
    model = transformers.AutoModelForCausalLM.from_pretrained(export)
    assert not [name for name, _ in model.named_parameters() if "lora_" in name]
    predictions = run.predictions()
    assert len(predictions) == 8
    assert regenerate_from_export(export, "AutoModelForCausalLM", predictions) == [p["hypothesis"] for p in predictions]


def test_summarization_with_an_encoder_decoder_backbone_and_its_export(tmp_path):
    run = run_task("summarization", [*SMALL_T5, "data.demo_train_size=150", "data.demo_eval_size=12"], tmp_path, tiny=False)
    result = run.metrics
    assert {"test/rouge1", "test/rouge2", "test/rougeL", "test/rougeLsum"} <= set(result["test"])
    assert result["monitor"] == "val/rougeLsum"
    assert result["metric_metadata"]["rougeL"] == {"tokenizer": "words", "units": "rouge-score words (a-z0-9)", "stemmer": True}
    predictions = run.predictions()
    assert len(predictions) == 12 and all(isinstance(p["hypothesis"], str) for p in predictions)
    config = json.loads((run.run_dir / "export" / "config.json").read_text())
    assert config["model_type"] == "t5" and config["is_encoder_decoder"]
    regenerated = regenerate_from_export(run.run_dir / "export", "AutoModelForSeq2SeqLM", predictions)
    assert regenerated == [p["hypothesis"] for p in predictions]


def test_chinese_title_generation_on_real_data_scores_words_and_records_it(shared_data, tmp_path):
    overrides = ["data=csl", f"paths.shared_data={shared_data}", "data.max_train_samples=64", "data.max_eval_samples=16",
                 "data.max_length=96", "data.max_target_length=16", "export=false", "data.scoring.rouge_tokenizer=zh_words"]
    run = run_task("summarization", overrides, tmp_path)
    assert run.metrics["task"] == "summarization" and 0 <= run.metrics["test"]["test/rouge1"] <= 100
    assert run.metrics["metric_metadata"]["rougeL"]["tokenizer"] == "zh_words"
    predictions = run.predictions()
    assert len(predictions) == 16 and any("\u4e00" <= ch <= "\u9fff" for ch in predictions[0]["references"][0])
