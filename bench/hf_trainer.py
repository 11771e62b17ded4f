"""The Hugging Face ``Trainer`` on the benchmark workload (one process, one JSON result).

Written as the transformers examples do it: ``Dataset.map`` with the fast tokenizer
(truncation, no padding), ``DataCollatorWithPadding`` (the Trainer's default dynamic padding),
the Trainer's own AdamW (its default implementation, ``adamw_torch_fused`` on torch >= 2.8) and
linear schedule with the same warmup fraction, weight decay and gradient clipping. No
evaluation or checkpoint during training (timed separately: ``trainer.evaluate`` on the full
dev set afterwards).

    python bench/hf_trainer.py --model minilm --out /tmp/hf.json [--group-by-length] [--workers 1]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import implementation_parser, load_model, load_sst2, load_tokenizer, now, pin_threads, real_tokens, workload_from_args, write_result  # noqa: E402


def main() -> None:
    parser = implementation_parser(__doc__)
    parser.add_argument("--group-by-length", action="store_true", help='train_sampling_strategy="group_by_length"')
    parser.add_argument("--workers", type=int, default=0, help="dataloader_num_workers")
    parser.add_argument("--optim", default=None, help="TrainingArguments.optim (default: the Trainer's default)")
    parser.add_argument("--bf16", action="store_true", help="bf16=True (CPU autocast)")
    parser.add_argument("--compile", action="store_true", help="torch_compile=True")
    args = parser.parse_args()
    started = now()

    import numpy as np
    from torch.utils.data import get_worker_info
    from transformers import DataCollatorWithPadding, Trainer, TrainerCallback, TrainingArguments

    pin_threads()
    w = workload_from_args(args.model, args.train_samples)
    train, dev = load_sst2(w)
    tokenizer = load_tokenizer(w, list(train["sentence"]))

    def tokenize(rows):
        return tokenizer(rows["sentence"], truncation=True, max_length=w.max_length)

    train_tok = train.map(tokenize, batched=True, remove_columns=["sentence"]).rename_column("label", "labels")
    dev_tok = dev.map(tokenize, batched=True, remove_columns=["sentence"]).rename_column("label", "labels")
    model = load_model(w, tokenizer)

    class Timer(TrainerCallback):
        """Train time: first epoch start (before the first batch is fetched) to the last optimizer step."""

        t0 = t1 = None
        tokens = padded = 0

        def on_epoch_begin(self, targs, state, control, **kw):
            if self.t0 is None:
                self.t0 = now()

        def on_step_end(self, targs, state, control, **kw):
            self.t1 = now()

    class CountingCollator(DataCollatorWithPadding):
        """The default collator, counting real and padded tokens (two integer sums per batch)."""

        def __call__(self, features):
            batch = super().__call__(features)
            if model.training and get_worker_info() is None:  # counted in workers would be lost
                Timer.tokens += int(batch["attention_mask"].sum())
                Timer.padded += batch["input_ids"].numel()
            return batch

    optional = {}
    if args.optim:
        optional["optim"] = args.optim
    if args.group_by_length:
        optional["train_sampling_strategy"] = "group_by_length"
    with tempfile.TemporaryDirectory() as out_dir:
        targs = TrainingArguments(
            output_dir=out_dir, per_device_train_batch_size=w.batch_size, per_device_eval_batch_size=w.eval_batch_size,
            num_train_epochs=w.epochs, max_steps=args.max_steps or -1, learning_rate=w.lr, weight_decay=w.weight_decay,
            adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, lr_scheduler_type="linear", warmup_steps=w.warmup,
            max_grad_norm=w.max_grad_norm, seed=w.seed, eval_strategy="no", save_strategy="no", report_to="none",
            use_cpu=True, dataloader_num_workers=args.workers, bf16=args.bf16, torch_compile=args.compile, **optional,
        )
        timer = Timer()
        trainer = Trainer(
            model=model, args=targs, train_dataset=train_tok, eval_dataset=dev_tok, processing_class=tokenizer,
            data_collator=CountingCollator(tokenizer), callbacks=[timer],
            compute_metrics=lambda p: {"accuracy": float((np.argmax(p.predictions, -1) == p.label_ids).mean())},
        )
        setup_seconds = now() - started
        output = trainer.train()
        train_seconds = timer.t1 - timer.t0
        t1 = now()
        metrics = trainer.evaluate()
        eval_seconds = now() - t1
        optim_name = str(trainer.args.optim)
    steps = output.global_step
    epoch_tokens = real_tokens(train_tok["input_ids"])
    if not Timer.padded:  # collation ran in worker processes: whole epochs of real tokens, padding unknown
        Timer.tokens = epoch_tokens * w.epochs
    samples = min(steps * w.batch_size, len(train_tok) * w.epochs)
    impl = "hf-trainer" + ("-grouped" if args.group_by_length else "") + (f"-workers{args.workers}" if args.workers else "")
    impl += ("-bf16" if args.bf16 else "") + ("-compile" if args.compile else "") + (f"-{args.optim}" if args.optim else "")
    write_result(args.out, {
        "impl": impl, "model": w.model, "steps": steps, "train_samples_seen": samples,
        "train_seconds": round(train_seconds, 3), "train_samples_per_second": round(samples / train_seconds, 3),
        "train_tokens_per_second": round(Timer.tokens / train_seconds, 1),
        "padded_tokens_per_second": round(Timer.padded / train_seconds, 1) if Timer.padded else None,
        "padding_share": round(1 - Timer.tokens / Timer.padded, 4) if Timer.padded else None,
        "train_real_tokens": Timer.tokens,
        "trainer_train_runtime": output.metrics.get("train_runtime"),
        "trainer_train_samples_per_second": output.metrics.get("train_samples_per_second"),
        "dev_accuracy": round(metrics["eval_accuracy"], 4), "eval_seconds": round(eval_seconds, 3),
        "setup_seconds": round(setup_seconds, 3), "final_train_loss": round(output.training_loss, 4),
        "optim": optim_name, "epoch_real_tokens": epoch_tokens,
    })


if __name__ == "__main__":
    main()
