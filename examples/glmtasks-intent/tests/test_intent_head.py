"""The head on the tiny backbone: pooling options, option errors, export and reload."""

from __future__ import annotations

import pytest
import torch

from glmtasks.api import ConfigError, PadCollator, run_task, save_head, train_bpe_tokenizer
from glmtasks_intent.config import IntentSlotsHeadConfig
from glmtasks_intent.data import encode_words
from glmtasks_intent.heads import make_intent_slots_head, pool
from glmtasks_intent.inference import IntentSlotsPredictor

INFO = {"intents": ["greet", "leave"], "slot_tags": ["O", "B-name", "I-name"]}
TEXTS = ["hello ana lima", "goodbye jonas", "hi there maya cole", "bye bye"]


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe_tokenizer(TEXTS * 5, vocab_size=300)


def batch_of(tokenizer, texts):
    rows = [encode_words(tokenizer, text.split(), 32) for text in texts]
    for index, row in enumerate(rows):
        del row["word_starts"]
        row["index"] = index
    return PadCollator(pad_id=tokenizer.pad_token_id)(rows)


def test_pooling_reads_mean_first_and_last_real_token():
    hidden = torch.arange(12, dtype=torch.float).view(1, 3, 4).repeat(2, 1, 1)  # (B=2, T=3, H=4)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    assert pool(hidden, mask, "first").tolist() == hidden[:, 0].tolist()
    assert pool(hidden, mask, "last")[1].tolist() == hidden[1, 1].tolist()
    assert pool(hidden, mask, "mean")[1].tolist() == hidden[1, :2].mean(0).tolist()


def test_bad_head_options_fail_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match="pooling must be one of mean, first, last"):
        IntentSlotsHeadConfig(pooling="max")
    # Unknown keys are glmtasks' to report: it knows the declared fields of IntentSlotsHeadConfig.
    run = run_task("intent_slots", ["task.head_config.poling=last"], tmp_path, plugins={"intent": "glmtasks_intent.plugin"}, check=False)
    assert run.returncode != 0 and run.run_dir is None
    assert "unknown config key 'task.head_config.poling' (did you mean 'pooling'?)" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_export_reloads_into_a_predictor_that_agrees_with_the_head(tiny_backbone, tokenizer, tmp_path):
    head = make_intent_slots_head(tiny_backbone, tokenizer, INFO, IntentSlotsHeadConfig(pooling="last")).eval()
    batch = batch_of(tokenizer, TEXTS[:2])
    expected = head.predict(batch)
    save_head(head, tmp_path)  # what a run's export does: encoder, tokenizer, then head.save_extras
    predictor = IntentSlotsPredictor.from_pretrained(tmp_path)
    results = predictor(TEXTS[:2])
    for record, result in zip(expected, results):
        assert result["intent"] == record["predicted_intent"]
        assert result["tags"] == record["predicted_tags"]
        assert result["intent_score"] == pytest.approx(record["intent_score"], abs=1e-5)
    assert predictor.head.config.pooling == "last"
