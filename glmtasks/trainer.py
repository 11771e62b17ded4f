"""The ``lightning.Trainer`` of a run: trainer config plus callbacks and logger from their groups."""

from __future__ import annotations

import json
import logging
import math
import time
import warnings
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import lightning as L
from lightning.pytorch.callbacks import BasePredictionWriter, Callback, ModelCheckpoint, ModelSummary
from lightning.pytorch.plugins.io import TorchCheckpointIO

from glmtasks.config import RunConfig
from glmtasks.progress import format_duration, rate_text

log = logging.getLogger(__name__)

# torch 2.10+ deprecates ``LeafSpec``, which Lightning 2.6's own ``utilities/_pytree.py`` still builds on every run;
# the warning names no action for users, so exactly that one is silenced.
warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated", category=FutureWarning)
# Under mixed precision the weights stay fp32, so the summary's 32-bit size estimate is the right one.
warnings.filterwarnings("ignore", message=r"Precision .* is not supported by the model summary")


class _DropLightningTips(logging.Filter):
    """Drops Lightning's advertisement lines ("💡 Tip: ... try installing litlogger") and its
    precision line, which repeats what glmtasks logs with the reason for the choice."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        return not (text.startswith("💡 Tip") or text.startswith("Using bfloat16 Automatic Mixed Precision")
                    or text.startswith("Using 16bit Automatic Mixed Precision"))


for _name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
    logging.getLogger(_name).addFilter(_DropLightningTips())


class JsonlPredictionWriter(BasePredictionWriter):
    """Streams predictions to a JSONL file as batches finish (not held until the end).

    Each rank writes its own part file; rank 0 merges them in example order at the end.
    ``describe(index)`` adds the example's own fields (text, gold label) to each line.

    With ``from_test`` it also takes the records of a test pass: ``test_step`` returns the
    head's :attr:`~glmtasks.head.HeadOutput.predictions` builder, so the test split is
    scored and predicted with one forward (or one decoding) per batch. If any batch of the
    pass has no builder (a head without one), the parts are dropped and :attr:`complete`
    stays False: the caller then runs a predict pass. With ``from_fit_validation`` it keeps
    the records of each validation inside ``fit`` the same way, so a test split that is the
    validation split needs no test pass when the best weights are the last validated ones.
    """

    def __init__(self, path: Path, describe, from_test: bool = False, from_validation: bool = False,
                 from_fit_validation: bool = False):
        super().__init__(write_interval="batch")
        self.path = path
        self.describe = describe
        self.from_test = from_test
        self.from_validation = from_validation
        """Also take the records of a ``trainer.validate`` pass (mode=evaluate on the validation split)."""
        self.from_fit_validation = from_fit_validation
        """Keep the records of the latest validation inside ``fit`` in :attr:`fit_validation_path`,
        for a test split that is the validation split (see :meth:`adopt_fit_validation`)."""
        self.complete = False
        """Whether the last test pass wrote every test prediction (only with ``from_test``)."""
        self.fit_validation_complete = False
        """Whether :attr:`fit_validation_path` holds every prediction of the latest fit validation."""
        self._file = None
        self._missing = False
        self._target = path

    @property
    def fit_validation_path(self) -> Path:
        """Where the latest fit validation's predictions are kept."""
        return self.path.with_name(f"{self.path.stem}.fit-validation.jsonl")

    def adopt_fit_validation(self) -> None:
        """Make the latest fit validation's predictions the run's predictions (the test pass they
        stand for is skipped). Only rank 0 holds the merged file; every rank marks the predictions complete."""
        if self.fit_validation_path.is_file():
            self.fit_validation_path.replace(self.path)
        self.complete = True

    def discard_fit_validation(self) -> None:
        """Delete the kept fit-validation predictions (the test pass runs)."""
        self.fit_validation_path.unlink(missing_ok=True)

    def _part(self, trainer: L.Trainer) -> Path:
        return self._target.with_name(f"{self._target.stem}.rank{trainer.global_rank}.jsonl")

    def _open(self, trainer: L.Trainer) -> None:
        self._file = self._part(trainer).open("w", encoding="utf-8")

    def _write(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            line = {**self.describe(int(record["index"])), **record}
            self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._file.flush()

    def _finish(self, trainer: L.Trainer, keep: bool) -> None:
        """Close this rank's part; rank 0 merges the parts of this run's ranks into ``path`` if
        ``keep``, then deletes them (a part left by an earlier, larger run is not read)."""
        self._file.close()
        trainer.strategy.barrier()
        if not trainer.is_global_zero:
            return
        target = self._target
        parts = [target.with_name(f"{target.stem}.rank{rank}.jsonl") for rank in range(trainer.world_size)]
        parts = [part for part in parts if part.is_file()]
        if keep:
            lines = [json.loads(line) for part in parts for line in part.read_text(encoding="utf-8").splitlines()]
            lines.sort(key=lambda r: r["index"])
            tmp = target.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
            tmp.replace(target)
        for part in parts:
            part.unlink()

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._open(trainer)

    def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dataloader_idx=0):
        self._write(prediction)

    def on_predict_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._finish(trainer, keep=True)

    def _evaluation_start(self, trainer: L.Trainer, target: Optional[Path] = None) -> None:
        self._target = target or self.path
        if self._target == self.path:
            self.complete = False
        self._missing = False
        self._open(trainer)

    def _evaluation_batch(self, outputs: Any) -> None:
        if self._missing:
            return
        if callable(outputs):
            self._write(outputs())
        else:
            self._missing = True

    def _evaluation_end(self, trainer: L.Trainer) -> None:
        complete = not trainer.strategy.reduce_boolean_decision(self._missing, all=False)  # any rank missing
        if self._target == self.path:
            self.complete = complete
        else:
            self.fit_validation_complete = complete
        self._finish(trainer, keep=complete)

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.from_test:
            self._evaluation_start(trainer)

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if self.from_test:
            self._evaluation_batch(outputs)

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.from_test:
            self._evaluation_end(trainer)

    def _validating(self, trainer: L.Trainer) -> bool:
        """A ``trainer.validate`` pass (mode=evaluate) with ``from_validation``, or a validation
        inside ``fit`` with ``from_fit_validation``; never the sanity check."""
        if trainer.sanity_checking:
            return False
        return (self.from_validation and trainer.state.fn == "validate") or (self.from_fit_validation and trainer.state.fn == "fit")

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._validating(trainer):
            fit = trainer.state.fn == "fit"
            self._evaluation_start(trainer, self.fit_validation_path if fit else None)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if self._validating(trainer):
            self._evaluation_batch(outputs)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._validating(trainer):
            self._evaluation_end(trainer)


class FiniteLossCheck(Callback):
    """Stops training with :class:`~glmtasks.errors.TrainingError` when the training loss is NaN or infinite.

    Checked after every training batch (one scalar read; Lightning's ``detect_anomaly`` is
    far slower). Under distributed training the ranks agree through one all-reduce of a
    flag, so all of them stop at the same step and none waits for the others forever.
    """

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        import torch

        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if not isinstance(loss, torch.Tensor):
            return
        value = float(loss.detach().float().mean())
        bad = not math.isfinite(value)
        if trainer.world_size > 1:
            bad = trainer.strategy.reduce_boolean_decision(bad, all=False)
        if bad:
            from glmtasks.errors import TrainingError

            lr = getattr(getattr(pl_module, "optimizer_config", None), "lr", None)
            raise TrainingError(
                f"training diverged: the loss is {value if not math.isfinite(value) else 'not finite on another rank'} "
                f"at step {trainer.global_step} (epoch {trainer.current_epoch}); lower optimizer.lr"
                f"{f' (now {lr:g})' if isinstance(lr, float) else ''} or lengthen the warmup (scheduler.warmup_steps)"
            )


class BestCheckpoint(ModelCheckpoint):
    """Lightning's ModelCheckpoint that also knows at which step each file was written and when
    validation last ran, so the run can tell whether the best checkpoint holds the weights in
    memory (see :func:`best_is_current`).

    When a validation has just written a new best checkpoint, ``last.ckpt`` becomes a hard link
    to that file instead of a second full write of the same state (for MiniLM with its AdamW
    state, 270 MB and a second or two per validation). A hard link, unlike Lightning's
    ``save_last="link"`` symlink, keeps its content when the best file is later deleted, and
    it is never linked to an older best file (Lightning 2.6 writes ``last.ckpt`` only together
    with a new top-k file; any other ``last.ckpt`` write, or a file system without hard links,
    gets a full write).
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.saved_at_step: dict[str, int] = {}
        self.validated_at_step: Optional[int] = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.validated_at_step = trainer.global_step
        super().on_validation_end(trainer, pl_module)

    def _save_checkpoint(self, trainer: L.Trainer, filepath: str) -> None:
        super()._save_checkpoint(trainer, filepath)
        self.saved_at_step[filepath] = trainer.global_step

    def _save_last_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict[str, Any]) -> None:
        just_saved = self._last_checkpoint_saved
        if self.save_last is not True or not just_saved or self.saved_at_step.get(just_saved) != trainer.global_step:
            return super()._save_last_checkpoint(trainer, monitor_candidates)
        target = self.format_checkpoint_name(monitor_candidates, self.CHECKPOINT_NAME_LAST)
        previous, self.last_model_path = self.last_model_path, target
        linked = _hard_link(just_saved, target) if trainer.is_global_zero else True
        if not trainer.strategy.reduce_boolean_decision(linked, all=True):  # e.g. a file system without hard links
            self.last_model_path = previous
            return super()._save_last_checkpoint(trainer, monitor_candidates)
        self.saved_at_step[target] = trainer.global_step
        if previous and previous != target and self._should_remove_checkpoint(trainer, previous, target):
            self._remove_checkpoint(trainer, previous)


def best_is_current(trainer: L.Trainer) -> bool:
    """Whether the best checkpoint was written by the latest validation, with no training since:
    the weights in memory are then the best ones and that validation's metrics are theirs."""
    callback = trainer.checkpoint_callback
    step = getattr(callback, "saved_at_step", {}).get(getattr(callback, "best_model_path", None))
    return step is not None and step == callback.validated_at_step == trainer.global_step


class StopOnSignal(Callback):
    """Ctrl-C (SIGINT) or SIGTERM (how schedulers such as SLURM stop jobs) ends training cleanly.

    The signal only sets a flag; at the end of the current batch the run saves
    ``checkpoints/last.ckpt`` (atomically, see :class:`AtomicCheckpointIO`) and stops with
    :class:`glmtasks.errors.RunInterrupted`, so ``resume=auto`` continues from that very batch to
    the metrics an uninterrupted run reaches. A second signal stops at once.
    """

    def __init__(self, checkpoint_dir: Optional[Path]):
        self.checkpoint_dir = checkpoint_dir
        self.received: Optional[int] = None
        self._previous: dict[int, Any] = {}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = signum
        self._restore()  # a second signal takes the default action: stop now

    def _restore(self) -> None:
        import signal

        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous = {}

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.received is None:
            return
        import signal

        from glmtasks.errors import RunInterrupted

        name = signal.Signals(self.received).name
        where = f"step {trainer.global_step} (epoch {trainer.current_epoch})"
        if self.checkpoint_dir is None:
            raise RunInterrupted(f"interrupted by {name} at {where}; checkpointing is off, so nothing was saved", 128 + self.received)
        trainer.save_checkpoint(self.checkpoint_dir / "last.ckpt")
        raise RunInterrupted(
            f"interrupted by {name} at {where}; {self.checkpoint_dir / 'last.ckpt'} holds the run: continue it with the same "
            "command and resume=auto",
            128 + self.received,
        )

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self._restore()


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to a temporary file and renames it over the old one.

    A run killed, or a disk that fills, while a checkpoint is written never leaves a
    truncated ``last.ckpt`` or ``best-*.ckpt``: the previous file stays intact, and a failed
    write stops the run with :class:`glmtasks.errors.WriteError` in one line.

    Local files are written by ``torch.save`` straight into the file. Lightning's own writer
    serializes the whole checkpoint into memory first and then copies that buffer once more,
    which for MiniLM with its AdamW state (270 MB) raised the run's peak memory by 260 MB;
    remote paths (``s3://``...) still go through it.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Optional[Any] = None) -> None:
        import os

        from glmtasks.errors import WriteError

        if "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        try:
            _save_to_file(checkpoint, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            kept = "the previous checkpoint is intact" if target.exists() else "no earlier checkpoint existed"
            raise WriteError(f"cannot write checkpoint {target}: {exc.strerror or exc}; {kept}; free space and continue with resume=auto") from exc


def _hard_link(source: str, target: str) -> bool:
    """Make ``target`` a hard link to ``source``, replacing it atomically; False where that is impossible."""
    import os

    tmp = f"{target}.link.tmp"
    try:
        if os.path.lexists(tmp):
            os.remove(tmp)
        os.link(source, tmp)
        os.replace(tmp, target)
        return True
    except OSError:
        if os.path.lexists(tmp):
            os.remove(tmp)
        return False


def _save_to_file(checkpoint: dict[str, Any], path: Path) -> None:
    """``torch.save`` into ``path``, with no in-memory copy of the checkpoint.

    No ``fsync``: the rename that follows protects against a killed process (the guarantee
    Lightning's writer gives too); a power loss is left to the file system.
    """
    import torch

    with open(path, "wb") as handle:
        torch.save(checkpoint, handle)


class ParameterSummary(ModelSummary):
    """Lightning's model summary as a plain table, without FLOPs when none were counted.

    Lightning counts FLOPs only from a module's ``example_input_array``, which glmtasks modules
    do not have, so its summary ends with a column of zeros and "Total FLOPs: 0".
    """

    @staticmethod
    def summarize(summary_data: list, total_parameters: int, trainable_parameters: int, model_size: float,
                  total_training_modes: dict, total_flops: int = 0, **summarize_kwargs: Any) -> None:
        """Log the table of top-level modules and the parameter counts."""
        from lightning.pytorch.utilities.model_summary.model_summary import get_human_readable_count

        columns = [(name, values) for name, values in summary_data if total_flops or name != "FLOPs"]
        header = [name for name, _ in columns]
        rows = [[str(values[i]) for _, values in columns] for i in range(len(columns[0][1]) if columns else 0)]
        widths = [max(len(row[k]) for row in [header, *rows]) for k in range(len(header))]
        lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in [header, *rows]]
        lines.insert(1, "-" * len(lines[0]))
        def count(value: int) -> str:
            return get_human_readable_count(int(value)).strip()

        lines.append(
            f"{count(trainable_parameters)} trainable parameters, {count(total_parameters - trainable_parameters)} frozen, "
            f"{count(total_parameters)} in all ({model_size:.1f} MB); "
            f"modules in train mode: {total_training_modes.get('train', 0)}, in eval mode: {total_training_modes.get('eval', 0)}"
            + (f"; {count(total_flops)} FLOPs" if total_flops else "")
        )
        log.info("model:\n%s", "\n".join(lines))


class ProgressLog(Callback):
    """Periodic plain progress lines when the progress bar is off (``callbacks.progress_bar=false``).

    Training: every ``interval`` seconds, ``step 1200/5000 (24%) epoch 1/3 loss 0.4312 | 3.1 steps/s,
    98 samples/s | elapsed 6m27s, ETA 20m25s``; after each validation, its metrics. Validation,
    test and prediction passes that take longer than ``interval`` (generation) print their batch
    and example counts with rates the same way.
    """

    def __init__(self, interval: float = 30.0):
        self.interval = interval
        self._started = 0.0
        self._last = 0.0
        self._start_step = 0
        self._samples = 0
        self._eval: dict[str, Any] = {}

    # -- training -------------------------------------------------------------------------
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._started = self._last = time.perf_counter()
        self._start_step = trainer.global_step
        self._samples = 0

    def total_steps(self, trainer: L.Trainer) -> Optional[int]:
        """Optimizer steps of the whole fit, or None when unknown."""
        if trainer.max_steps and trainer.max_steps > 0:
            return int(trainer.max_steps)
        batches = trainer.num_training_batches
        if trainer.max_epochs is None or trainer.max_epochs < 0 or not math.isfinite(batches):
            return None
        return math.ceil(batches / trainer.accumulate_grad_batches) * trainer.max_epochs

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        self._samples += _batch_size(batch)
        now = time.perf_counter()
        if now - self._last < self.interval or not trainer.is_global_zero:
            return
        self._last = now
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        log.info(self.training_line(trainer, now - self._started, float(loss.detach().float().mean()) if hasattr(loss, "detach") else None))

    def training_line(self, trainer: L.Trainer, elapsed: float, loss: Optional[float]) -> str:
        """The progress line of a training step (see the class docstring)."""
        step, total = trainer.global_step, self.total_steps(trainer)
        done = step - self._start_step
        text = f"step {step}" + (f"/{total} ({100 * step / total:.0f}%)" if total else "")
        if trainer.max_epochs and trainer.max_epochs > 0:
            text += f" epoch {trainer.current_epoch + 1}/{trainer.max_epochs}"
        if loss is not None:
            text += f" loss {loss:.4f}"
        text += f" | {rate_text(done, elapsed, 'steps')}, {rate_text(self._samples, elapsed, 'samples')} | elapsed {format_duration(elapsed)}"
        if total and done > 0 and step < total:
            text += f", ETA {format_duration(elapsed * (total - step) / done)}"
        return text

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero or trainer.state.fn != "fit":
            return
        values = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/") and getattr(v, "numel", lambda: 1)() == 1}
        log.info("validation at step %d: %s", trainer.global_step, " ".join(f"{k}={v:.4g}" for k, v in sorted(values.items())))

    # -- evaluation passes ------------------------------------------------------------------
    def _eval_start(self, stage: str) -> None:
        self._eval = {"stage": stage, "started": time.perf_counter(), "last": time.perf_counter(), "examples": 0}

    def _eval_batch(self, trainer: L.Trainer, batch: Any, batch_idx: int, dataloader_idx: int, batches: Any) -> None:
        if not self._eval:
            return
        self._eval["examples"] += _batch_size(batch)
        now = time.perf_counter()
        if now - self._eval["last"] < self.interval or not trainer.is_global_zero:
            return
        self._eval["last"] = now
        elapsed = now - self._eval["started"]
        total = batches[dataloader_idx] if isinstance(batches, (list, tuple)) and len(batches) > dataloader_idx else None
        done = batch_idx + 1
        text = f"{self._eval['stage']}: batch {done}" + (f"/{total}" if total and math.isfinite(total) else "")
        text += f", {self._eval['examples']:,} examples | {rate_text(self._eval['examples'], elapsed, 'examples')}"
        if total and math.isfinite(total) and done < total:
            text += f" | ETA {format_duration(elapsed * (total - done) / done)}"
        log.info(text)

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._eval_start("validation")

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if not trainer.sanity_checking:
            self._eval_batch(trainer, batch, batch_idx, dataloader_idx, trainer.num_val_batches)

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._eval_start("test")

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._eval_batch(trainer, batch, batch_idx, dataloader_idx, trainer.num_test_batches)

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._eval_start("predict")

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._eval_batch(trainer, batch, batch_idx, dataloader_idx, trainer.num_predict_batches)


def _batch_size(batch: Any) -> int:
    index = batch.get("index") if isinstance(batch, Mapping) else None
    return len(index) if index is not None else 0


def progress_callbacks(config: RunConfig) -> list[Callback]:
    """The progress display of ``callbacks``: Lightning's bar (``progress_bar``), else :class:`ProgressLog` lines."""
    from lightning.pytorch.callbacks import TQDMProgressBar

    if config.callbacks.progress_bar:
        return [TQDMProgressBar(refresh_rate=10)]
    return [ProgressLog(config.callbacks.progress_interval)]


def build_callbacks(config: RunConfig, run_dir: Path, monitor: str, mode: str) -> list[Callback]:
    """Checkpointing, early stopping, learning-rate monitor and progress bar from ``callbacks``."""
    from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor

    c = config.callbacks
    callbacks: list[Callback] = [FiniteLossCheck(), StopOnSignal(run_dir / "checkpoints" if c.checkpoint.enabled else None)]
    if c.checkpoint.enabled:
        callbacks.append(
            BestCheckpoint(
                dirpath=run_dir / "checkpoints",
                filename="best-{epoch}-{step}",
                monitor=f"val/{monitor}",
                mode=mode,
                save_top_k=c.checkpoint.save_top_k,
                # With periodic resume points, last.ckpt belongs to the periodic callback below
                # (two callbacks saving "last" would make Lightning write last-v1.ckpt).
                save_last=c.checkpoint.save_last and not c.checkpoint.every_n_train_steps,
                auto_insert_metric_name=False,
            )
        )
        if c.checkpoint.every_n_train_steps:
            # Mid-epoch resume points: refresh last.ckpt every N steps, keep no other file.
            callbacks.append(
                ModelCheckpoint(
                    dirpath=run_dir / "checkpoints",
                    every_n_train_steps=c.checkpoint.every_n_train_steps,
                    save_top_k=0,
                    save_last=True,
                )
            )
    if c.early_stopping.enabled:
        callbacks.append(EarlyStopping(monitor=f"val/{monitor}", mode=mode, patience=c.early_stopping.patience, min_delta=c.early_stopping.min_delta))
    if c.lr_monitor and config.logger.name != "none":
        callbacks.append(LearningRateMonitor(logging_interval="step"))
    callbacks += progress_callbacks(config)
    if config.trainer.get("enable_model_summary", True) is not False:
        callbacks.append(ParameterSummary(max_depth=1))
    return callbacks


def build_trainer(config: RunConfig, run_dir: Path, monitor: str, mode: str, extra_callbacks: Sequence[Callback] = (),
                  model: Any = None) -> L.Trainer:
    """A Trainer from ``config.trainer`` (Lightning's own arguments) plus our callbacks and logger.

    ``use_distributed_sampler`` is off: glmtasks' batch samplers shard data across ranks
    themselves (each evaluation example exactly once, see :mod:`glmtasks.data`). A
    ``trainer.strategy`` mapping is built into a strategy object
    (:func:`glmtasks.distributed.build_strategy`); ``trainer.precision=auto`` becomes the
    precision the hardware runs ``model`` fastest (:mod:`glmtasks.precision`).
    """
    from glmtasks.distributed import lightning_trainer_kwargs
    from glmtasks.loggers import build_loggers
    from glmtasks.precision import resolve_precision

    kwargs = lightning_trainer_kwargs(resolve_precision(config.trainer, model, announce=True))
    kwargs.setdefault("use_distributed_sampler", False)
    kwargs["enable_model_summary"] = False  # build_callbacks adds ParameterSummary unless trainer.enable_model_summary=false
    strategy = kwargs.get("strategy")
    sharded = any(name in (strategy if isinstance(strategy, str) else type(strategy).__name__).lower() for name in ("fsdp", "deepspeed"))
    if not sharded:  # FSDP and DeepSpeed write sharded checkpoints through their own IO
        kwargs.setdefault("plugins", [AtomicCheckpointIO()])
    return L.Trainer(
        default_root_dir=str(run_dir),
        callbacks=build_callbacks(config, run_dir, monitor, mode) + list(extra_callbacks),
        logger=build_loggers(config, run_dir),
        enable_checkpointing=config.callbacks.checkpoint.enabled,
        enable_progress_bar=config.callbacks.progress_bar,
        **kwargs,
    )


def best_checkpoint(trainer: L.Trainer) -> Optional[str]:
    """Path of the best checkpoint of the fit, or None when checkpointing was off."""
    callback = trainer.checkpoint_callback
    return getattr(callback, "best_model_path", None) or None
