"""Progress of long work: quiet when quick, periodic lines with counts, rates and ETA when slow; the training lines."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from glmtasks import progress
from glmtasks.progress import Progress, format_duration, rate_text


@pytest.fixture
def clock(monkeypatch):
    """A fake perf_counter the test moves by hand."""
    now = [100.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: now[0])
    return now


def test_quick_work_prints_nothing(clock, caplog):
    with caplog.at_level(logging.INFO, logger="glmtasks.progress"):
        with Progress("tokenizing the train split", total=5000, unit="examples") as job:
            job.update(5000)
    assert caplog.records == []


def test_slow_work_prints_periodic_lines_then_a_summary(clock, caplog):
    progress.set_progress_bars(False)
    with caplog.at_level(logging.INFO, logger="glmtasks.progress"):
        with Progress("tokenizing the train split", total=10_000, unit="examples") as job:
            for _ in range(10):
                clock[0] += 3.0
                job.update(1000)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "tokenizing the train split: 1,000/10,000 examples (10%), 333 examples/s, ETA 27s"
    assert len(lines) == 4, lines  # at 3 s, then every 10 s (12 s and 24 s... of work), then the summary
    assert lines[-1] == "tokenizing the train split: 10,000 examples in 30s (333 examples/s)"


def test_formatting():
    assert [format_duration(s) for s in (5, 185, 7620)] == ["5s", "3m05s", "2h07m"]
    assert rate_text(5, 2, "steps") == "2.50 steps/s" and rate_text(3000, 2, "examples") == "1,500 examples/s"
    assert rate_text(1, 0, "steps") == "- steps/s"


def test_the_training_line_has_step_loss_rates_and_eta():
    from glmtasks.trainer import ProgressLog

    callback = ProgressLog(interval=30)
    callback._start_step, callback._samples = 0, 3200
    trainer = SimpleNamespace(global_step=100, max_steps=-1, max_epochs=4, current_epoch=1, num_training_batches=100, accumulate_grad_batches=1)
    line = callback.training_line(trainer, elapsed=50.0, loss=0.4312)
    assert line == "step 100/400 (25%) epoch 2/4 loss 0.4312 | 2.00 steps/s, 64 samples/s | elapsed 50s, ETA 2m30s"


def test_the_model_summary_has_no_flops_column_or_zero_total(caplog):
    from glmtasks.trainer import ParameterSummary

    data = [(" ", ["0"]), ("Name", ["head"]), ("Type", ["Head"]), ("Params", ["75.7 K"]), ("Mode", ["train"]), ("FLOPs", ["0"])]
    with caplog.at_level(logging.INFO, logger="glmtasks.trainer"):
        ParameterSummary.summarize(data, 75_700, 75_700, 0.3, {"train": 29, "eval": 0}, total_flops=0)
    text = caplog.records[0].getMessage()
    assert "FLOPs" not in text and "head" in text and "75.7 K trainable parameters, 0 frozen" in text
