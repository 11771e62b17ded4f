"""Where a glmtasks run's resident memory goes: RSS sampled every 10 ms, split by phase.

Runs the training benchmark workload (``glmtasks_train.py``'s overrides) in this process and
marks the phases of ``glmtasks.run.train``: imports, data (reading, tokenizer, tokenization),
model, fit (train steps and validation), test, export, report. For each phase it prints the
RSS when the phase began, the highest RSS inside it and what the phase added, so the peak
can be traced to the step that makes it.

    python bench/memory_profile.py --model minilm [--out bench/results/memory_minilm.json] [-- extra overrides]
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import implementation_parser, pin_threads, workload_from_args  # noqa: E402


def rss_mb() -> float:
    """This process's resident set size in MB (``VmRSS``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PhaseRecorder:
    """Samples RSS on a thread; ``mark(name)`` starts a new phase."""

    def __init__(self, interval: float = 0.01):
        self.interval = interval
        self.phases: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self.mark("start")
        self._thread.start()

    def mark(self, name: str) -> None:
        now = rss_mb()
        if self.phases:
            self.phases[-1]["end_mb"] = now
            self.phases[-1]["peak_mb"] = max(self.phases[-1]["peak_mb"], now)
        self.phases.append({"phase": name, "start_mb": now, "peak_mb": now, "t": time.perf_counter()})

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            value = rss_mb()
            phase = self.phases[-1]
            phase["peak_mb"] = max(phase["peak_mb"], value)

    def stop(self) -> list[dict]:
        self.mark("end")
        self._stop.set()
        self._thread.join()
        rows = []
        for phase, following in zip(self.phases, self.phases[1:]):
            rows.append({
                "phase": phase["phase"], "start_mb": round(phase["start_mb"]), "peak_mb": round(phase["peak_mb"]),
                "end_mb": round(phase["end_mb"]), "added_mb": round(phase["end_mb"] - phase["start_mb"]),
                "seconds": round(following["t"] - phase["t"], 2),
            })
        return rows


def instrument(recorder: PhaseRecorder):
    """Wrap the steps of ``glmtasks.run.train`` so each one starts a phase; returns the Lightning callback for fit/test."""
    import lightning as L

    import glmtasks.backbone as backbone
    import glmtasks.run as run
    import glmtasks.trainer as gt_trainer

    def wrap(module, name: str, phase: str, after: str | None = None):
        original = getattr(module, name)

        def wrapped(*args, **kwargs):
            recorder.mark(phase)
            try:
                return original(*args, **kwargs)
            finally:
                if after:
                    recorder.mark(after)

        setattr(module, name, wrapped)

    wrap(run, "build_datamodule", "data: read")
    wrap(backbone, "load_tokenizer", "data: tokenizer")
    wrap(run, "_make_head", "model: load", after="trainer: build")
    wrap(run, "export_head", "export")
    wrap(run, "write_report", "report")

    class Phases(L.Callback):
        def setup(self, trainer, module, stage):
            if stage == "fit":
                recorder.mark("data: tokenize + loaders")

        def on_train_start(self, trainer, module):
            recorder.mark("fit: train steps")

        def on_validation_start(self, trainer, module):
            recorder.mark(f"{trainer.state.fn}: validation")

        def on_validation_end(self, trainer, module):
            recorder.mark("fit: checkpoint + train steps" if trainer.state.fn == "fit" else "after validation")

        def on_test_start(self, trainer, module):
            recorder.mark("test")

        def on_test_end(self, trainer, module):
            recorder.mark("after test")

    callback = Phases()
    original = gt_trainer.build_trainer

    def build_trainer(*a, extra_callbacks=(), **kw):
        return original(*a, extra_callbacks=[*extra_callbacks, callback], **kw)

    gt_trainer.build_trainer = build_trainer


def main() -> None:
    parser = implementation_parser(__doc__)
    parser.add_argument("extra", nargs="*", help="extra glmtasks overrides (after --)")
    args = parser.parse_args()
    recorder = PhaseRecorder()
    recorder.start()
    recorder.mark("imports")
    pin_threads()
    from glmtasks_train import overrides_for

    from glmtasks.cli import main as glmtasks_main

    instrument(recorder)
    w = workload_from_args(args.model, args.train_samples)
    with tempfile.TemporaryDirectory() as out_dir:
        try:
            glmtasks_main(overrides_for(w, out_dir, args.max_steps) + list(args.extra))
        except SystemExit as exc:
            if exc.code:
                raise
    rows = recorder.stop()
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'phase':34} {'start':>7} {'peak':>7} {'end':>7} {'added':>7} {'s':>7}")
    for row in rows:
        print(f"{row['phase']:34} {row['start_mb']:7} {row['peak_mb']:7} {row['end_mb']:7} {row['added_mb']:7} {row['seconds']:7}")
    print(f"process peak RSS (ru_maxrss): {peak:.0f} MB")
    if args.out:
        Path(args.out).write_text(json.dumps({"model": args.model, "extra": args.extra, "phases": rows, "peak_rss_mb": round(peak)}, indent=1))


if __name__ == "__main__":
    main()
