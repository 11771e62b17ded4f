"""`python -m glmtasks task=intent_slots` end to end on the tiny backbone, and its export."""

from __future__ import annotations

import pytest

from glmtasks.api import run_task
from glmtasks_intent.demo import INTENTS
from glmtasks_intent.inference import IntentSlotsPredictor

# What pyproject.toml declares; lets the run find the plugin even before `pip install -e .`.
PLUGINS = {"intent": "glmtasks_intent.plugin"}
DATA = ["data.demo_train_size=96", "data.demo_eval_size=24"]


def test_task_runs_from_the_command_line_and_its_export_reloads(glmtasks_run, tmp_path):
    run = glmtasks_run("intent_slots", DATA, plugins=PLUGINS)

    assert run.metrics["monitor"] == "val/frame_accuracy" and run.metrics["mode"] == "max"
    for split in ("val", "test"):
        for name in ("frame_accuracy", "intent_accuracy", "slot_f1", "slot_precision", "slot_recall"):
            assert 0.0 <= run.metrics[split][f"{split}/{name}"] <= 1.0

    predictions = run.predictions()
    assert [p["index"] for p in predictions] == list(range(24))
    for p in predictions:
        assert p["predicted_intent"] in INTENTS and len(p["predicted_tags"]) == len(p["tokens"])

    # The export reloads (encoder and tokenizer through plain transformers) and predicts
    # exactly what the run wrote to predictions.jsonl.
    predictor = IntentSlotsPredictor.from_pretrained(run.run_dir / "export")
    for p in predictions[:4]:
        result = predictor(p["text"])
        assert (result["intent"], result["tags"]) == (p["predicted_intent"], p["predicted_tags"])

    # glmtasks scores the export itself the same as the run's best checkpoint.
    evaluation = run_task("intent_slots", [*DATA, "mode=evaluate", f"checkpoint={run.run_dir / 'export'}"], tmp_path / "evaluate", plugins=PLUGINS)
    for name in ("frame_accuracy", "intent_accuracy", "slot_f1"):
        assert evaluation.metrics["metrics"][f"val/{name}"] == pytest.approx(run.metrics["val"][f"val/{name}"], abs=1e-6)
