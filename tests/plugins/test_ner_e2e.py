"""End-to-end runs of task=ner: the offline demo on glm-tiny, and pretrained MiniLM learning CoNLL-2003 (real data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import TINY

from glmtasks_ner.data import NERDataConfig, NERDataModule
from glmtasks_ner.metrics import EntityScores

NER_TINY = [*TINY, "data.demo_train_size=300", "data.demo_eval_size=64"]
CONLL_SUBSET = [
    "task=ner", "data=conll2003", "backbone=minilm", "callbacks.progress_bar=false",
    "data.max_train_samples=1000", "data.max_eval_samples=400", "data.batch_size=16", "optimizer.lr=2e-4",
    "trainer.max_epochs=1",
]


@pytest.fixture(scope="module")
def ner_demo_run(tmp_path_factory):
    """``python -m glmtasks task=ner`` (the offline default) with a tiny model."""
    out = tmp_path_factory.mktemp("ner")
    proc = subprocess.run(
        [sys.executable, "-m", "glmtasks", "task=ner", *NER_TINY, f"paths.output_dir={out}"],
        cwd=out, capture_output=True, text=True, env=os.environ.copy(), timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = [p.parent for p in out.rglob("metrics.json")]
    return run_dir, proc.stdout


def test_demo_run_reports_entity_scores_and_readable_predictions(ner_demo_run):
    run_dir, stdout = ner_demo_run
    assert "val/entity_f1=" in stdout and "val/PER_f1=" in stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["monitor"] == "val/entity_f1"
    assert {"test/entity_precision", "test/entity_recall", "test/LOC_f1", "test/MISC_recall"} <= set(metrics["test"])
    predictions = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert [p["index"] for p in predictions] == list(range(64))
    for p in predictions:
        words = p["text"].split(" ")
        assert len(p["tags"]) == len(p["gold_tags"]) == len(words), "one predicted tag per word"
        for entity in p["entities"]:
            assert " ".join(words[entity["start"] : entity["end"]]) == entity["text"]
            assert f"[{entity['text']}|{entity['type']}]" in p["marked"]


def test_glm_export_loads_as_a_token_classifier_with_the_labels(ner_demo_run):
    from transformers import AutoModelForTokenClassification, pipeline

    run_dir, _ = ner_demo_run
    export = run_dir / "export"
    model = AutoModelForTokenClassification.from_pretrained(export)
    assert type(model).__name__ == "GlmForTokenClassification"
    labels = json.loads((export / "glmtasks.json").read_text())["task_info"]["labels"]
    assert [model.config.id2label[i] for i in range(len(labels))] == labels
    tagger = pipeline("token-classification", model=str(export), device="cpu")
    assert all(item["entity"] in labels for item in tagger("Peter Tor joined Velvik Bank in Ostra ."))


def capitalized_runs_baseline(examples, entity_type: str) -> float:
    """Entity F1 of tagging every run of capitalized words as one entity of ``entity_type``."""
    metric = EntityScores(["PER", "ORG", "LOC", "MISC"])
    predicted = []
    for ex in examples:
        spans, start = [], None
        for i, word in enumerate(ex.words + ["."]):
            capital = word[:1].isupper()
            if capital and start is None:
                start = i
            if not capital and start is not None:
                spans.append((entity_type, start, i))
                start = None
        predicted.append(spans)
    metric.update(predicted, [ex.spans for ex in examples])
    return float(metric.compute()["entity_f1"])


def test_minilm_learns_conll2003_from_1000_sentences(shared_data, run_cli):
    """MiniLM, 1,000 training sentences, one epoch (63 steps); scored on 400 valid sentences."""
    result = run_cli(*CONLL_SUBSET, timeout=2400)
    assert result.returncode == 0, result.stderr[-3000:]
    f1 = result.metrics()["val"]["val/entity_f1"]
    valid = NERDataModule(
        NERDataConfig(
            source="files",
            train_file=str(shared_data / "conll2003/train.txt"),
            validation_file=str(shared_data / "conll2003/valid.txt"),
            max_eval_samples=400,
        ),
        None,
    ).examples["validation"]
    baseline = max(capitalized_runs_baseline(valid, t) for t in ("PER", "ORG", "LOC", "MISC"))
    assert f1 >= max(0.4, baseline + 0.15), (f1, baseline)

    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(result.run_dirs()[0] / "export")
    assert type(model).__name__ == "BertForTokenClassification" and model.config.id2label[1] == "B-PER"
