"""End-to-end runs of task=qa: the offline demo on glm-tiny, and pretrained MiniLM learning SQuAD (real data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import TINY

from glmtasks_qa.data import QADataConfig, QADataModule
from glmtasks_qa.metrics import score_answer

QA_TINY = [*TINY, "data.demo_train_articles=6", "data.demo_eval_articles=2", "data.max_length=96", "data.doc_stride=24"]
SQUAD_SUBSET = [
    "task=qa", "data=squad", "backbone=minilm", "callbacks.progress_bar=false",
    "data.max_train_samples=800", "data.max_eval_samples=150", "data.max_length=128", "data.doc_stride=48",
    "data.max_query_length=32", "data.batch_size=16", "optimizer.lr=2e-4", "scheduler=constant", "trainer.max_epochs=1",
]


@pytest.fixture(scope="module")
def qa_demo_run(tmp_path_factory):
    """``python -m glmtasks task=qa`` (the offline default) with a tiny model, shared by the tests below."""
    out = tmp_path_factory.mktemp("qa")
    proc = subprocess.run(
        [sys.executable, "-m", "glmtasks", "task=qa", *QA_TINY, f"paths.output_dir={out}"],
        cwd=out, capture_output=True, text=True, env=os.environ.copy(), timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = [p.parent for p in out.rglob("metrics.json")]
    return run_dir, proc.stdout


def test_demo_run_reports_squad_scores_and_readable_predictions(qa_demo_run):
    run_dir, stdout = qa_demo_run
    assert "val/squad_f1=" in stdout and "val/squad_em=" in stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["monitor"] == "val/squad_f1"
    assert 0 <= metrics["test"]["test/squad_em"] <= metrics["test"]["test/squad_f1"] <= 100
    predictions = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    questions = QADataModule(QADataConfig(source="demo", demo_eval_articles=2, demo_train_articles=6), None).examples["test"]
    assert [p["index"] for p in predictions] == list(range(len(questions))), "one line per question, in order"
    for p, question in zip(predictions, questions):
        assert p["question"] == question.question and p["answers"] == question.answers
        assert p["context"][p["start_char"] : p["end_char"]] == p["prediction"], "the answer is an exact span of the context"
        assert f"[[{p['prediction']}]]" in p["marked"] and p["n_best"][0]["text"] == p["prediction"]
        assert 0 < p["probability"] <= 1


def test_glm_export_loads_with_plain_transformers_plus_the_span_layer(qa_demo_run):
    import torch
    import transformers
    from safetensors.torch import load_file

    from glmtasks_qa.heads import load_exported

    run_dir, _ = qa_demo_run
    export = run_dir / "export"
    assert not hasattr(transformers, "GlmForQuestionAnswering"), "transformers 5 has no GLM QA class (hence the span layer)"
    backbone = transformers.AutoModel.from_pretrained(export)
    assert type(backbone).__name__ == "GlmModel"
    assert load_file(str(export / "qa_outputs.safetensors"))["weight"].shape == (2, backbone.config.hidden_size)
    tokenizer = transformers.AutoTokenizer.from_pretrained(export)
    model = load_exported(export)
    inputs = tokenizer("Where was Ana born?", "Ana Tor was born in Velvik in 1901.", return_tensors="pt")
    with torch.no_grad():
        start, end = model(**inputs)
    assert start.shape == end.shape == inputs["input_ids"].shape


def test_missing_data_file_is_a_one_line_error(run_cli, tmp_path):
    result = run_cli("task=qa", "data=squad", f"paths.shared_data={tmp_path / 'nowhere'}")
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: data file not found") and "data.train_file=" in lines[0], result.stderr


def first_words_baseline(questions, words: int = 3) -> float:
    """SQuAD F1 (percent) of answering every question with the first words of its context."""
    scores = [score_answer(" ".join(q.context.split()[:words]), q.answers)[1] for q in questions]
    return 100 * sum(scores) / len(scores)


def test_minilm_learns_squad_from_800_training_questions(shared_data, run_cli):
    """MiniLM, 800 questions of articles 0-39, one epoch (~90 steps); scored on 150 questions of articles 40-47."""
    result = run_cli(*SQUAD_SUBSET, timeout=2400)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = result.metrics()
    zip_file = str(shared_data / "squad_v1.1/dev-v1.1.json.zip")
    held_out = QADataModule(
        QADataConfig(source="files", train_file=zip_file, validation_file=zip_file, validation_articles="40:48", max_eval_samples=150), None
    ).examples["validation"]
    baseline = first_words_baseline(held_out)
    f1 = metrics["val"]["val/squad_f1"]
    assert baseline < 10 and f1 >= max(15.0, 3 * baseline), (f1, baseline, metrics)

    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from glmtasks_qa.heads import best_spans

    export = result.run_dirs()[0] / "export"
    model = AutoModelForQuestionAnswering.from_pretrained(export).eval()
    assert type(model).__name__ == "BertForQuestionAnswering"
    tokenizer = AutoTokenizer.from_pretrained(export)  # transformers 5 has no question-answering pipeline
    question = held_out[0]
    inputs = tokenizer(question.question, question.context, truncation="only_second", max_length=384, return_offsets_mapping=True, return_tensors="pt")
    offsets = inputs.pop("offset_mapping")[0]
    context_mask = torch.tensor([[int(s == 1) for s in inputs.sequence_ids(0)]])
    with torch.no_grad():
        out = model(**inputs)
    _, starts, ends = best_spans(out.start_logits, out.end_logits, context_mask, 30, 1)
    answer = question.context[int(offsets[starts[0, 0], 0]) : int(offsets[ends[0, 0], 1])]
    assert answer and answer in question.context
