"""The similarity example: its contract, its data checks, and a real run through `python -m glmtasks task=similarity`."""

import json

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from glmtasks.api import DataError, check_plugin, run_task
from glmtasks_similarity.config import SentencePairsConfig
from glmtasks_similarity.data import SentencePairs, generate_pairs

PLUGIN = {"similarity": "glmtasks_similarity.plugin"}


def test_contract():
    check_plugin("glmtasks_similarity.plugin", data={"similarity": {"demo_train_size": 64, "demo_eval_size": 32}})


def test_demo_scores_follow_the_changed_parts():
    config = SentencePairsConfig()
    for record in generate_pairs(200, seed=1, config=config):
        same = sum(a == b for a, b in zip(record["sentence1"].split(), record["sentence2"].split()))
        assert 0.0 <= record["score"] <= 5.0
        if record["score"] == 5.0:
            assert record["sentence1"] == record["sentence2"]
        assert record["score"] < 5.0 or same == len(record["sentence1"].split())


def test_a_score_that_is_not_a_number_names_its_row(tmp_path):
    rows = [{"sentence1": "a", "sentence2": "b", "score": 1.0}, {"sentence1": "c", "sentence2": "d", "score": "high"}]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(DataError, match=r"line 2 of .*train.jsonl: score 'high' \(data.score_column\) is not a number"):
        SentencePairs(SentencePairsConfig(train_file=str(train), validation_file=str(train)))


def test_missing_column_is_one_line(tmp_path):
    train = tmp_path / "train.csv"
    train.write_text("first,second,score\na,b,1\n")
    with pytest.raises(DataError, match=r"column 'sentence1' \(data.sentence1_column\) not found"):
        SentencePairs(SentencePairsConfig(train_file=str(train), validation_file=str(train)))


def test_learns_and_exports_a_plain_transformers_regressor(tmp_path):
    run = run_task("similarity", [], tmp_path, plugins=PLUGIN, tiny=False)  # the task's defaults: 6,000 pairs, 5 epochs
    assert run.metrics["test"]["test/pearson"] > 0.6, run.metrics  # measured 0.76-0.89 over 5 seeds (mean 0.81)
    export = run.run_dir / "export"
    model = AutoModelForSequenceClassification.from_pretrained(export).eval()
    tokenizer = AutoTokenizer.from_pretrained(export)
    predictions = run.predictions()[:8]
    inputs = tokenizer([p["sentence1"] for p in predictions], [p["sentence2"] for p in predictions], padding=True, return_tensors="pt")
    with torch.no_grad():
        scores = model(**inputs).logits.squeeze(-1)
    assert scores.tolist() == pytest.approx([p["prediction"] for p in predictions], abs=1e-3)
