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
