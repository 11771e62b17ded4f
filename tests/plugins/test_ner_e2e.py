"""End-to-end runs of task=ner: the offline demo on glm-tiny (full and LoRA), and pretrained MiniLM learning CoNLL-2003 (real data)."""

from __future__ import annotations

import json

import pytest
import yaml

from glmtasks.api import run_task
from glmtasks_ner.data import NERDataConfig, NERDataModule
from glmtasks_ner.metrics import EntityScores
from glmtasks_ner.tags import spans_to_tags, tags_to_spans

NER_TINY = ["data.demo_train_size=300", "data.demo_eval_size=64"]
CONLL_SUBSET = [
    "data=conll2003", "backbone=minilm", "callbacks.progress_bar=false",
    "data.max_train_samples=1000", "data.max_eval_samples=400", "data.batch_size=16", "optimizer.lr=2e-4",
    "trainer.max_epochs=1",
]


@pytest.fixture(scope="module")
def ner_demo_run(tmp_path_factory):
    """``python -m glmtasks task=ner`` (the offline default) with a tiny model."""
    return run_task("ner", NER_TINY, tmp_path_factory.mktemp("ner"))


def test_demo_run_reports_entity_scores_and_readable_predictions(ner_demo_run):
    assert "val/entity_f1=" in ner_demo_run.stdout and "val/PER_f1=" in ner_demo_run.stdout
    metrics = ner_demo_run.metrics
    assert metrics["monitor"] == "val/entity_f1"
    assert {"test/entity_precision", "test/entity_recall", "test/LOC_f1", "test/MISC_recall"} <= set(metrics["test"])
    predictions = ner_demo_run.predictions()
    assert [p["index"] for p in predictions] == list(range(64))
    for p in predictions:
        words = p["text"].split(" ")
        assert len(p["tags"]) == len(p["gold_tags"]) == len(words), "one predicted tag per word"
        for entity in p["entities"]:
            assert " ".join(words[entity["start"] : entity["end"]]) == entity["text"]
            assert f"[{entity['text']}|{entity['type']}]" in p["marked"]


def test_glm_export_loads_as_a_token_classifier_with_the_labels(ner_demo_run):
    from transformers import AutoModelForTokenClassification, pipeline

    export = ner_demo_run.run_dir / "export"
    model = AutoModelForTokenClassification.from_pretrained(export)
    assert type(model).__name__ == "GlmForTokenClassification"
    labels = json.loads((export / "glmtasks.json").read_text())["task_info"]["labels"]
    assert [model.config.id2label[i] for i in range(len(labels))] == labels
    tagger = pipeline("token-classification", model=str(export), device="cpu")
    assert all(item["entity"] in labels for item in tagger("Peter Tor joined Velvik Bank in Ostra .", ignore_labels=[]))


def test_lora_export_is_a_plain_token_classifier_that_reproduces_the_predictions(tmp_path):
    """``peft=lora``: the export has the adapters merged, and plain transformers predicts what the run wrote."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    run = run_task("ner", ["peft=lora", *NER_TINY], tmp_path)
    export = run.run_dir / "export"
    assert not (export / "adapter_config.json").exists() and not (export / "adapter_model.safetensors").exists()
    model = AutoModelForTokenClassification.from_pretrained(export).eval()
    tokenizer = AutoTokenizer.from_pretrained(export)
    assert not [name for name, _ in model.named_parameters() if "lora_" in name]
    max_length = yaml.safe_load((run.run_dir / "config.yaml").read_text())["data"]["max_length"]
    for p in run.predictions()[:8]:
        words = p["text"].split(" ")
        encoded = tokenizer(p["text"], truncation=True, max_length=max_length, return_tensors="pt")
        with torch.no_grad():
            ids = model(**encoded).logits[0].argmax(-1).tolist()  # (T,)
        starts = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words))]
        tokens = [encoded.char_to_token(0, start) for start in starts]  # each word's first sub-token
        raw = [model.config.id2label[ids[t]] if t is not None else "O" for t in tokens]
        assert spans_to_tags(tags_to_spans(raw, "iob2"), len(words), "iob2") == p["tags"], p["text"]


def capitalized_runs_baseline(records, entity_type: str) -> float:
    """Entity F1 of tagging every run of capitalized words as one entity of ``entity_type``."""
    metric = EntityScores(["PER", "ORG", "LOC", "MISC"])
    predicted = []
    for record in records:
        spans, start = [], None
        for i, word in enumerate(record["words"] + ["."]):
            capital = word[:1].isupper()
            if capital and start is None:
                start = i
            if not capital and start is not None:
                spans.append((entity_type, start, i))
                start = None
        predicted.append(spans)
    metric.update(predicted, [record["spans"] for record in records])
    return float(metric.compute()["entity_f1"])


@pytest.mark.slow
def test_minilm_learns_conll2003_from_1000_sentences(shared_data, glmtasks_run):
    """MiniLM, 1,000 training sentences, one epoch (63 steps); scored on 400 valid sentences."""
    run = glmtasks_run("ner", CONLL_SUBSET, tiny=False, env={"GLMTASKS_SHARED_DATA": str(shared_data)}, timeout=2400)
    f1 = run.metrics["val"]["val/entity_f1"]
    valid = NERDataModule(
        NERDataConfig(
            train_file=str(shared_data / "conll2003/train.txt"),
            validation_file=str(shared_data / "conll2003/valid.txt"),
            max_eval_samples=400,
        )
    ).splits["validation"]
    baseline = max(capitalized_runs_baseline(valid, t) for t in ("PER", "ORG", "LOC", "MISC"))
    assert f1 >= max(0.4, baseline + 0.15), (f1, baseline)

    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(run.run_dir / "export")
    assert type(model).__name__ == "BertForTokenClassification" and model.config.id2label[1] == "B-PER"
