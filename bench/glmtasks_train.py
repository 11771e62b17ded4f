"""glmtasks on the benchmark workload: ``python -m glmtasks`` in this process, one JSON result.

The run is the ordinary command line (``glmtasks.cli.main``, Hydra, checkpoints, export,
CSV logger, progress bar, all defaults except the workload's settings). The only addition
is a read-only Lightning callback, added to the trainer's callbacks, that measures the train
time with the same rule as the other implementations (first batch fetch to the last
optimizer step; the end-of-epoch validation and the checkpoint write are excluded) and
counts real and padded tokens.

    python bench/glmtasks_train.py --model minilm --out /tmp/glmtasks.json [-- extra overrides]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import implementation_parser, now, pin_threads, workload_from_args, write_result  # noqa: E402


def overrides_for(w, output_dir: str, max_steps=None) -> list[str]:
    model = {"minilm": "backbone=minilm", "glm-tiny": "backbone=glm-tiny"}[w.model]
    out = [
        "task=sentiment", "data=sst2", model, f"++data.max_train_samples={w.train_samples}",
        f"++data.max_length={w.max_length}", f"++data.batch_size={w.batch_size}", f"++data.seed={w.data_seed}",
        f"optimizer.lr={w.lr}", f"optimizer.weight_decay={w.weight_decay}", "scheduler=linear",
        f"scheduler.warmup_steps={w.warmup}", f"trainer.max_epochs={w.epochs}",
        f"trainer.gradient_clip_val={w.max_grad_norm}", f"seed={w.seed}", f"paths.output_dir={output_dir}",
    ]
    if max_steps:
        out.append(f"trainer.max_steps={max_steps}")
    return out


def main() -> None:
    parser = implementation_parser(__doc__)
    parser.add_argument("--label", default="glmtasks", help="name of this configuration in the results")
    parser.add_argument("extra", nargs="*", help="extra glmtasks overrides (after --)")
    args = parser.parse_args()
    started = now()
    pin_threads()

    import lightning as L

    import glmtasks.trainer as gt_trainer
    from glmtasks.cli import main as glmtasks_main

    class Timer(L.Callback):
        """Read-only: train time, real and padded tokens, validation time."""

        t0 = t1 = v0 = None
        eval_seconds = 0.0
        samples = 0
        tokens = padded = 0
        setup_done = None

        def on_train_epoch_start(self, trainer, module):
            if self.t0 is None:
                self.t0 = now()
                Timer.setup_done = self.t0 - started

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            self.t1 = now()
            self.samples += len(batch["index"])
            self.tokens += int(batch["attention_mask"].sum())
            self.padded += batch["input_ids"].numel()

        def on_validation_start(self, trainer, module):
            self.v0 = now()

        def on_validation_end(self, trainer, module):
            if trainer.state.fn == "fit":
                self.eval_seconds += now() - self.v0

    timer = Timer()
    original = gt_trainer.build_trainer

    def build_trainer(*a, extra_callbacks=(), **kw):
        return original(*a, extra_callbacks=[*extra_callbacks, timer], **kw)

    gt_trainer.build_trainer = build_trainer

    w = workload_from_args(args.model, args.train_samples)
    with tempfile.TemporaryDirectory() as out_dir:
        overrides = overrides_for(w, out_dir, args.max_steps) + list(args.extra)
        try:
            glmtasks_main(overrides)
        except SystemExit as exc:
            if exc.code:
                raise
        (metrics_file,) = Path(out_dir).rglob("metrics.json")
        metrics = json.loads(metrics_file.read_text())
    train_seconds = timer.t1 - timer.t0
    write_result(args.out, {
        "impl": args.label, "model": w.model, "steps": metrics["global_steps"], "train_samples_seen": timer.samples,
        "train_seconds": round(train_seconds, 3), "train_samples_per_second": round(timer.samples / train_seconds, 3),
        "train_tokens_per_second": round(timer.tokens / train_seconds, 1),
        "padded_tokens_per_second": round(timer.padded / train_seconds, 1),
        "padding_share": round(1 - timer.tokens / timer.padded, 4), "train_real_tokens": timer.tokens,
        "dev_accuracy": round(metrics["val"]["val/accuracy"], 4), "eval_seconds": round(timer.eval_seconds, 3),
        "setup_seconds": round(Timer.setup_done, 3), "fit_seconds": metrics.get("fit_seconds"),
        "metrics_json_train_samples_per_second": metrics.get("train_samples_per_second"),
        "glmtasks_overrides": " ".join(overrides),
    })


if __name__ == "__main__":
    main()
