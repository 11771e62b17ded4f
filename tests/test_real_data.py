"""Proof of learning: pretrained MiniLM fine-tuned on 2,000 SST-2 sentences, scored on the full SST-2 dev set."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_minilm_on_sst2_subset_reaches_80_percent_dev_accuracy(shared_data, run_cli):
    result = run_cli("experiment=sst2_minilm", "callbacks.progress_bar=false", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = result.metrics
    assert metrics["val"]["val/accuracy"] >= 0.80, metrics
    predictions = (result.run_dirs()[0] / "predictions.jsonl").read_text().splitlines()
    assert len(predictions) == 872, "every SST-2 dev sentence is scored"
