"""The one task-agnostic LightningModule: a head (which owns the model) plus metrics and optimization."""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Optional

import lightning as L
import torch
from torchmetrics import MeanMetric, Metric

from glmtasks.config import OptimizerConfig, SchedulerConfig
from glmtasks.head import HeadOutput
from glmtasks.optim import build_optimizer, build_scheduler


class TaskModule(L.LightningModule):
    """Training, evaluation and prediction steps for any task, delegated to its head.

    Args:
        head: a :class:`glmtasks.head.TaskHead`.
        metrics: name -> torchmetrics ``Metric``; cloned for validation and test. Each
            ``update`` receives the head's ``metric_inputs``.
        optimizer: optimizer config.
        scheduler: learning-rate schedule config (stepped every optimizer step).
    """

    def __init__(
        self,
        head: torch.nn.Module,
        metrics: Mapping[str, Metric],
        optimizer: OptimizerConfig,
        scheduler: SchedulerConfig,
    ):
        super().__init__()
        self.head = head
        self.val_metrics = torch.nn.ModuleDict({name: m.clone() for name, m in metrics.items()})
        self.test_metrics = torch.nn.ModuleDict({name: m.clone() for name, m in metrics.items()})
        # Mean loss per example over the whole split, exact across ranks (a per-rank mean of
        # means would weigh unequal shards wrongly). Metric states are not saved in checkpoints.
        self.eval_losses = torch.nn.ModuleDict({"val": MeanMetric(), "test": MeanMetric()})
        self.optimizer_config = optimizer
        self.scheduler_config = scheduler

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        out = self.head(batch)
        if self._is_logging_step():
            self.log("train/loss", out.loss, prog_bar=True, batch_size=len(batch["index"]))
        return out.loss

    def _is_logging_step(self) -> bool:
        """Whether Lightning writes step metrics after this step (every ``trainer.log_every_n_steps``).

        ``self.log`` costs about a millisecond per call on the CPU (it moves Lightning's result
        collection each time), 4-5% of a small model's step; the logged curve and the progress
        bar's last value are the same when the loss is logged only on the steps that are written.
        """
        connector = getattr(self._trainer, "_logger_connector", None)
        return connector is None or bool(connector.should_update_logs)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> Optional[Callable[[], list[dict[str, Any]]]]:
        """Score the batch; returns the head's prediction builder, as :meth:`test_step` does (mode=evaluate writes them)."""
        return self._evaluate(batch, "val", self.val_metrics).predictions

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> Optional[Callable[[], list[dict[str, Any]]]]:
        """Score the batch; returns the head's prediction builder (if it has one), which
        :class:`glmtasks.trainer.JsonlPredictionWriter` calls to write test predictions."""
        return self._evaluate(batch, "test", self.test_metrics).predictions

    def _evaluate(self, batch: dict[str, torch.Tensor], stage: str, metrics: torch.nn.ModuleDict) -> HeadOutput:
        out = self.head(batch)
        if out.loss is not None:
            self.eval_losses[stage].update(out.loss.detach(), weight=len(batch["index"]))
        for metric in metrics.values():
            metric.update(*out.metric_inputs)
        return out

    def on_validation_epoch_end(self) -> None:
        self._log_metrics("val", self.val_metrics)

    def on_test_epoch_end(self) -> None:
        self._log_metrics("test", self.test_metrics)

    def _log_metrics(self, stage: str, metrics: torch.nn.ModuleDict) -> None:
        # Values are computed over all ranks (torchmetrics syncs in compute); sync_dist then
        # averages identical numbers, which keeps Lightning from warning about unsynced logs.
        loss = self.eval_losses[stage]
        if loss.update_called:
            self.log(f"{stage}/loss", loss.compute(), sync_dist=True)
            loss.reset()
        for name, metric in metrics.items():
            value = metric.compute()
            values = value if isinstance(value, Mapping) else {name: value}
            for key, scalar in values.items():
                self.log(f"{stage}/{key}", scalar, prog_bar=(stage == "val"), sync_dist=True)
            metric.reset()

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> list[dict[str, Any]]:
        return self.head.predict(batch)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Store the RNG states so a resumed run draws the same random numbers."""
        import random

        import numpy as np

        state = np.random.get_state()
        checkpoint["glmtasks_rng"] = {
            "torch": torch.get_rng_state(),
            "python": random.getstate(),
            "numpy": [state[0], torch.from_numpy(state[1].copy()), *state[2:]],
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        import random

        import numpy as np

        rng = checkpoint.get("glmtasks_rng")
        if rng:
            torch.set_rng_state(rng["torch"])
            random.setstate(tuple(rng["python"]) if not isinstance(rng["python"], tuple) else rng["python"])
            kind, keys, *rest = rng["numpy"]
            np.random.set_state((kind, keys.numpy(), *rest))

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = build_optimizer(self.head, self.optimizer_config, allow_fused=not self._uses_gradient_scaler())
        scheduler = build_scheduler(optimizer, self.scheduler_config, self._total_steps())
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        """Clip as Lightning does, but also when the optimizer is fused and nothing is scaled.

        Lightning's mixed-precision plugin refuses to clip for any optimizer that could unscale
        gradients itself (the fused kernels), even under bf16, which has no gradient scaler; the
        gradients are then already true gradients and plain clipping is correct.
        """
        if not gradient_clip_val or self._uses_gradient_scaler() or not getattr(optimizer, "_step_supports_amp_scaling", False):
            super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)
            return
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        if gradient_clip_algorithm == "value":
            torch.nn.utils.clip_grad_value_(parameters, gradient_clip_val)
        else:
            torch.nn.utils.clip_grad_norm_(parameters, gradient_clip_val)

    def _uses_gradient_scaler(self) -> bool:
        """Whether the trainer scales the loss (fp16 mixed precision), so the optimizer must unscale."""
        return getattr(self.trainer.precision_plugin, "scaler", None) is not None

    def _total_steps(self) -> int:
        """Optimizer steps of the whole fit, for the learning-rate schedule.

        Counted from a fresh training DataLoader of the datamodule rather than with
        ``trainer.estimated_stepping_batches``: that property sets up the fit loop's data
        before a resumed checkpoint's loop state is restored, so the training loader would
        never receive its saved position (Lightning 2.6).
        """
        trainer = self.trainer
        if trainer.max_steps and trainer.max_steps > 0:
            return int(trainer.max_steps)
        datamodule = getattr(trainer, "datamodule", None)
        if datamodule is None or trainer.max_epochs is None or trainer.max_epochs < 0:
            return int(trainer.estimated_stepping_batches)
        batches = len(datamodule.train_dataloader())
        limit = trainer.limit_train_batches
        if isinstance(limit, int):
            batches = min(batches, limit)
        elif limit is not None:
            batches = int(batches * limit)
        return max(1, math.ceil(batches / trainer.accumulate_grad_batches) * trainer.max_epochs)
