"""Trainer assembly: knowing whether the best checkpoint holds the weights in memory."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from glmtasks.trainer import BestCheckpoint, best_is_current


class ScriptedScore(L.LightningModule):
    """Trains a linear layer and logs a validation score scripted per epoch."""

    def __init__(self, scores):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)
        self.scores = scores

    def training_step(self, batch, batch_idx):
        return self.linear(batch).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        self.log("val/score", float(self.scores[self.current_epoch]))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


@pytest.mark.parametrize("scores, current", [([0.1, 0.5, 0.9], True), ([0.9, 0.5, 0.1], False)])
def test_best_is_current_only_when_the_last_validation_was_best(tmp_path, scores, current):
    data = torch.utils.data.DataLoader(torch.randn(8, 2), batch_size=4)
    callback = BestCheckpoint(dirpath=tmp_path, monitor="val/score", mode="max", save_top_k=1)
    trainer = L.Trainer(max_epochs=3, callbacks=[callback], logger=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(ScriptedScore(scores), train_dataloaders=data, val_dataloaders=data)
    assert best_is_current(trainer) is current
    assert callback.saved_at_step[callback.best_model_path] == (6 if current else 2)


def test_training_after_the_last_validation_means_the_best_is_not_current(tmp_path):
    data = torch.utils.data.DataLoader(torch.randn(8, 2), batch_size=4)
    callback = BestCheckpoint(dirpath=tmp_path, monitor="val/score", mode="max", save_top_k=1)
    trainer = L.Trainer(max_steps=5, val_check_interval=2, callbacks=[callback], logger=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(ScriptedScore([1.0, 2.0, 3.0]), train_dataloaders=data, val_dataloaders=data)
    assert trainer.global_step == 5 and not best_is_current(trainer)


class ScoresAndPredicts(L.LightningModule):
    """test_step returns a prediction builder (or None for the batches listed in ``without``)."""

    def __init__(self, without=()):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)
        self.without = set(without)

    def test_step(self, batch, batch_idx):
        if batch_idx in self.without:
            return None
        start = batch_idx * 4
        return lambda: [{"index": start + i, "value": round(float(v), 4)} for i, v in enumerate(self.linear(batch).squeeze(-1))]


def run_test_pass(tmp_path, module, previous=None):
    from glmtasks.trainer import JsonlPredictionWriter

    path = tmp_path / "predictions.jsonl"
    if previous is not None:
        path.write_text(previous)
    writer = JsonlPredictionWriter(path, lambda index: {"text": f"example {index}"}, from_test=True)
    trainer = L.Trainer(callbacks=[writer], logger=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.test(module, dataloaders=torch.utils.data.DataLoader(torch.randn(10, 2), batch_size=4), verbose=False)
    return writer, path


def test_the_test_pass_writes_predictions_when_every_batch_builds_them(tmp_path):
    import json

    module = ScoresAndPredicts()
    writer, path = run_test_pass(tmp_path, module)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert writer.complete and [line["index"] for line in lines] == list(range(10))
    assert lines[3]["text"] == "example 3"
    assert not list(tmp_path.glob("*.rank*.jsonl")), "part files are merged away"


def test_a_batch_without_predictions_leaves_the_file_to_a_predict_pass(tmp_path):
    writer, path = run_test_pass(tmp_path, ScoresAndPredicts(without={1}), previous="kept\n")
    assert not writer.complete
    assert path.read_text() == "kept\n", "an incomplete test pass writes nothing"
    assert not list(tmp_path.glob("*.rank*.jsonl"))


@pytest.mark.parametrize("links", [True, False])
def test_last_ckpt_is_a_hard_link_to_the_best_file_written_at_the_same_step(tmp_path, monkeypatch, links):
    """Scores 0.1, 0.9, 0.5. Lightning 2.6 writes last.ckpt only together with a new top-k file; then
    last.ckpt is a hard link to that file, or, where the file system cannot link, a full copy."""
    import os

    from glmtasks.trainer import AtomicCheckpointIO

    if not links:
        monkeypatch.setattr(os, "link", lambda *a, **k: (_ for _ in ()).throw(OSError("links not supported")))
    seen = []

    def inodes():
        files = {p.name: p.stat().st_ino for p in tmp_path.glob("*.ckpt")}
        seen.append(files.pop("last.ckpt") in set(files.values()))

    class Inodes(L.Callback):
        def on_train_epoch_start(self, trainer, module):  # after the previous epoch's checkpoints
            if trainer.current_epoch:
                inodes()

    data = torch.utils.data.DataLoader(torch.randn(8, 2), batch_size=4)
    callback = BestCheckpoint(dirpath=tmp_path, monitor="val/score", mode="max", save_top_k=1, save_last=True, filename="best-{epoch}-{step}")
    trainer = L.Trainer(max_epochs=3, callbacks=[callback, Inodes()], logger=False, enable_progress_bar=False, plugins=[AtomicCheckpointIO()],
                        enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(ScriptedScore([0.1, 0.9, 0.5]), train_dataloaders=data, val_dataloaders=data)
    inodes()
    assert seen == [links] * 3
    last = torch.load(tmp_path / "last.ckpt", weights_only=False)
    best = torch.load(callback.best_model_path, weights_only=False)
    assert last["global_step"] == best["global_step"] == 4
    assert torch.equal(last["state_dict"]["linear.weight"], best["state_dict"]["linear.weight"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-epoch=1-step=4.ckpt", "last.ckpt"], "no temporary files left"
