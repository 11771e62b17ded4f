"""End-to-end runs of task=qa: the offline demo on glm-tiny (fully fine-tuned and with LoRA), and pretrained MiniLM learning SQuAD (real data)."""

from __future__ import annotations

import json

import pytest

from glmtasks.api import run_task
from glmtasks_qa.data import QADataConfig, QADataModule
from glmtasks_qa.metrics import score_answer

QA_TINY = ["data.demo_train_size=120", "data.demo_eval_size=50", "data.max_length=96", "data.doc_stride=24"]
SQUAD_SUBSET = [
    "data=squad", "backbone=minilm", "callbacks.progress_bar=false",
    "data.max_train_samples=800", "data.max_eval_samples=150", "data.max_length=128", "data.doc_stride=48",
    "data.max_query_length=32", "data.batch_size=16", "optimizer.lr=2e-4", "scheduler=constant", "trainer.max_epochs=1",
]


@pytest.fixture(scope="module")
def qa_demo_run(tmp_path_factory):
    """``python -m glmtasks task=qa`` (the offline default) with a tiny model, shared by the tests below."""
    return run_task("qa", QA_TINY, tmp_path_factory.mktemp("qa"))


@pytest.fixture(scope="module")
def qa_lora_run(tmp_path_factory):
    """The same run with LoRA adapters on glm-tiny (the span layer trains fully, outside the adapters)."""
    return run_task("qa", [*QA_TINY, "peft=lora"], tmp_path_factory.mktemp("qa-lora"))


def test_demo_run_reports_squad_scores_and_readable_predictions(qa_demo_run):
    assert "val/squad_f1=" in qa_demo_run.stdout and "val/squad_em=" in qa_demo_run.stdout
    metrics = qa_demo_run.metrics
    assert metrics["monitor"] == "val/squad_f1"
    assert 0 <= metrics["test"]["test/squad_em"] <= metrics["test"]["test/squad_f1"] <= 100
    predictions = qa_demo_run.predictions()
    questions = QADataModule(QADataConfig(source="demo", demo_train_size=120, demo_eval_size=50)).splits["test"]
    assert [p["index"] for p in predictions] == list(range(len(questions))) and len(questions) == 50, "one line per question, in order"
    for p, question in zip(predictions, questions):
        assert p["question"] == question["question"] and p["answers"] == question["answers"]["text"]
        assert p["context"][p["start_char"] : p["end_char"]] == p["prediction"], "the answer is an exact span of the context"
        assert f"[[{p['prediction']}]]" in p["marked"] and p["n_best"][0]["text"] == p["prediction"]
        assert 0 < p["probability"] <= 1


def test_glm_export_loads_with_plain_transformers_plus_the_span_layer(qa_demo_run):
    import torch
    import transformers
    from safetensors.torch import load_file

    from glmtasks_qa.heads import load_exported

    export = qa_demo_run.run_dir / "export"
    assert not hasattr(transformers, "GlmForQuestionAnswering"), "transformers 5 has no GLM QA class (hence the span layer)"
    backbone = transformers.AutoModel.from_pretrained(export)
    assert type(backbone).__name__ == "GlmModel"
    assert load_file(str(export / "qa_outputs.safetensors"))["weight"].shape == (2, backbone.config.hidden_size)
    assert json.loads((export / "qa_outputs.json").read_text())["hidden_size"] == backbone.config.hidden_size
    tokenizer = transformers.AutoTokenizer.from_pretrained(export)
    model = load_exported(export)
    inputs = tokenizer("Where was Ana born?", "Ana Tor was born in Velvik in 1901.", return_tensors="pt")
    with torch.no_grad():
        start, end = model(**inputs)
    assert start.shape == end.shape == inputs["input_ids"].shape


def test_lora_export_is_a_plain_merged_model_that_reproduces_the_run_s_predictions(qa_lora_run):
    """glm-tiny has no ``*ForQuestionAnswering`` class, so the export is a merged ``GlmModel`` plus the span layer.

    It loads with ``AutoModel`` / :func:`load_exported` without peft; its weights are the
    checkpoint's base weights plus the trained adapters' product (merged, not dropped); and
    decoding the test questions with it gives the run's predictions.
    """
    import torch
    import transformers
    import yaml
    from safetensors.torch import load_file

    from glmtasks_qa.heads import SpanExtractionHead, load_exported

    run_dir = qa_lora_run.run_dir
    export = run_dir / "export"
    assert not (export / "adapter_config.json").exists() and not (export / "adapter_model.safetensors").exists()
    weights = load_file(str(export / "model.safetensors"))
    assert not [k for k in weights if "lora_" in k or k.startswith("base_model.")], "plain GlmModel weight names"
    backbone = transformers.AutoModel.from_pretrained(export)
    assert type(backbone).__name__ == "GlmModel"
    assert not [name for name, _ in backbone.named_parameters() if "lora_" in name]

    # Merged: W_export = W_base + (alpha / r) * B @ A, with B trained away from its zero start.
    (checkpoint,) = sorted((run_dir / "checkpoints").glob("best-*.ckpt"))[-1:]
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    prefix = "head.model.base_model.model.layers.0.self_attn.q_proj."
    lora_a, lora_b = state[prefix + "lora_A.default.weight"], state[prefix + "lora_B.default.weight"]
    assert lora_b.abs().sum() > 0, "the adapters trained"
    peft_config = yaml.safe_load((run_dir / "config.yaml").read_text())["backbone"]["peft"]
    merged = state[prefix + "base_layer.weight"] + peft_config["alpha"] / peft_config["r"] * lora_b @ lora_a
    torch.testing.assert_close(weights["layers.0.self_attn.q_proj.weight"], merged)

    # The export reproduces the run's predictions (the plugin's decoder over its windows).
    data_config = yaml.safe_load((run_dir / "config.yaml").read_text())["data"]
    data = QADataModule(QADataConfig(**data_config))
    tokenizer = transformers.AutoTokenizer.from_pretrained(export)
    data.set_tokenizer(tokenizer)
    data.setup("predict")
    model = load_exported(export)
    decoder = SpanExtractionHead(model.model, tokenizer, model.qa_outputs).eval()
    reproduced = {r["index"]: r for batch in data.predict_dataloader() for r in decoder.predict(batch)}
    predictions = qa_lora_run.predictions()
    assert len(predictions) == len(reproduced) == 50
    for p in predictions:
        mine = reproduced[p["index"]]
        assert (mine["prediction"], mine["start_char"], mine["end_char"]) == (p["prediction"], p["start_char"], p["end_char"])
        assert mine["probability"] == pytest.approx(p["probability"], abs=2e-4)


def test_missing_data_file_is_a_one_line_error(glmtasks_run, tmp_path):
    result = glmtasks_run("qa", ["data=squad", f"paths.shared_data={tmp_path / 'nowhere'}"], tiny=False, check=False)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: data file not found") and "data.train_file=" in lines[0], result.stderr


def first_words_baseline(questions, words: int = 3) -> float:
    """SQuAD F1 (percent) of answering every question with the first words of its context."""
    scores = [score_answer(" ".join(q["context"].split()[:words]), q["answers"]["text"])[1] for q in questions]
    return 100 * sum(scores) / len(scores)


@pytest.mark.slow
def test_minilm_learns_squad_from_800_training_questions(shared_data, glmtasks_run):
    """MiniLM, 800 questions of articles 0-39, one epoch (~90 steps); scored on 150 questions of articles 40-47."""
    result = glmtasks_run("qa", [*SQUAD_SUBSET, f"paths.shared_data={shared_data}"], tiny=False, timeout=2400)
    zip_file = str(shared_data / "squad_v1.1/dev-v1.1.json.zip")
    held_out = QADataModule(
        QADataConfig(source="files", train_file=zip_file, validation_file=zip_file, validation_articles="40:48", max_eval_samples=150)
    ).splits["validation"]
    baseline = first_words_baseline(held_out)
    f1 = result.metrics["val"]["val/squad_f1"]
    assert baseline < 10 and f1 >= max(15.0, 3 * baseline), (f1, baseline, result.metrics)

    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from glmtasks_qa.heads import best_spans

    export = result.run_dir / "export"
    model = AutoModelForQuestionAnswering.from_pretrained(export).eval()
    assert type(model).__name__ == "BertForQuestionAnswering"
    tokenizer = AutoTokenizer.from_pretrained(export)  # transformers 5 has no question-answering pipeline
    question = held_out[0]
    inputs = tokenizer(question["question"], question["context"], truncation="only_second", max_length=384, return_offsets_mapping=True, return_tensors="pt")
    offsets = inputs.pop("offset_mapping")[0]
    context_mask = torch.tensor([[int(s == 1) for s in inputs.sequence_ids(0)]])
    with torch.no_grad():
        out = model(**inputs)
    _, starts, ends = best_spans(out.start_logits, out.end_logits, context_mask, 30, 1)
    answer = question["context"][int(offsets[starts[0, 0], 0]) : int(offsets[ends[0, 0], 1])]
    assert answer and answer in question["context"]


def test_the_plugin_satisfies_the_contracts_with_several_windows_per_question():
    """``check_plugin`` on the tiny backbone; demo contexts at max_length=128 give several windows per question,
    so prediction batches hold more windows than questions (one prediction record per question)."""
    from glmtasks.api import check_plugin

    report = check_plugin("glmtasks_qa.plugin", data={"qa": {"demo_train_size": 40, "demo_eval_size": 20}})
    assert not report.problems
