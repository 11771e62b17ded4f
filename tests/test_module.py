"""TaskModule: optimization under the precisions a CPU user picks."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from glmtasks.config import OptimizerConfig, SchedulerConfig
from glmtasks.head import HeadOutput
from glmtasks.module import TaskModule


class RegressionHead(torch.nn.Module):
    """A linear model with a squared-error loss, enough to drive TaskModule's training step."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(8, 1)

    def forward(self, batch):
        loss = (self.linear(batch["x"]).squeeze(-1) - batch["y"]).pow(2).mean()
        return HeadOutput(loss=loss)


class GradNormAtStep(L.Callback):
    """Records the gradient norm the optimizer actually receives (after any clipping)."""

    def __init__(self):
        self.norms = []

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        optimizer = trainer.optimizers[0]
        if not getattr(optimizer, "_wrapped_for_test", False):
            step = optimizer.step

            def record():
                grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
                self.norms.append(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])).item())

            def recording_step(closure=None):
                if closure is None:  # the precision plugin ran the closure (backward, clipping) already
                    record()
                    return step()

                def closure_then_record():
                    loss = closure()
                    record()
                    return loss

                return step(closure_then_record)

            optimizer.step = recording_step
            optimizer._wrapped_for_test = True


def batches(n=6):
    generator = torch.Generator().manual_seed(0)
    return torch.utils.data.DataLoader(
        [{"x": torch.randn(4, 8, generator=generator) * 100, "y": torch.randn(4, generator=generator), "index": torch.arange(4)}
         for _ in range(n)], batch_size=None)


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_gradients_are_clipped_with_the_fused_cpu_optimizer(precision):
    module = TaskModule(RegressionHead(), {}, OptimizerConfig(lr=1e-3), SchedulerConfig(name="constant", warmup_steps=0))
    recorder = GradNormAtStep()
    trainer = L.Trainer(accelerator="cpu", precision=precision, max_epochs=1, gradient_clip_val=0.5, callbacks=[recorder],
                        logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, train_dataloaders=batches())
    assert trainer.optimizers[0].defaults["fused"] is True
    assert len(recorder.norms) == 6
    assert max(recorder.norms) == pytest.approx(0.5, rel=1e-3)  # inputs of scale 100 give far larger raw norms


class LossRecorder(L.Callback):
    def __init__(self):
        self.losses = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.losses.append(float(outputs["loss"]))


def test_the_training_loss_is_logged_on_exactly_the_steps_lightning_writes(tmp_path):
    import csv

    from lightning.pytorch.loggers import CSVLogger

    module = TaskModule(RegressionHead(), {}, OptimizerConfig(lr=1e-3), SchedulerConfig(name="constant", warmup_steps=0))
    recorder = LossRecorder()
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, log_every_n_steps=2, callbacks=[recorder],
                        logger=CSVLogger(tmp_path, name="logs", version=""), enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, train_dataloaders=batches(6))
    with (tmp_path / "logs" / "metrics.csv").open() as handle:
        logged = {int(row["step"]): float(row["train/loss"]) for row in csv.DictReader(handle) if row.get("train/loss")}
    assert sorted(logged) == [1, 3, 5]
    assert [logged[step] for step in (1, 3, 5)] == pytest.approx([recorder.losses[i] for i in (1, 3, 5)])
