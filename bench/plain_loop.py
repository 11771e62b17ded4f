"""A plain, hand-written PyTorch training loop on the benchmark workload (one process, one JSON result).

What a careful engineer writes without a framework: tokenize once (fast tokenizer, batched),
length-grouped shuffled batches (the same sampler rule as glmtasks and the Trainer's
``group_by_length``: chunks of 50 batches sorted by length), padding per batch to the
longest sequence with ``torch`` ops, AdamW (fused kernel, as the Trainer's default),
linear warmup/decay, gradient clipping, dropout on. Then the full dev set is scored.

    python bench/plain_loop.py --model minilm --out /tmp/plain.json [--no-group] [--optim-impl foreach]
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    implementation_parser, linear_warmup_lambda, load_model, load_sst2, load_tokenizer, now, optimizer_groups, pin_threads,
    real_tokens, workload_from_args, write_result,
)


def main() -> None:
    parser = implementation_parser(__doc__)
    parser.add_argument("--no-group", action="store_true", help="random batches instead of length-grouped ones")
    parser.add_argument("--optim-impl", default="fused", choices=["fused", "foreach", "forloop"])
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (CPU AMX) in forward")
    args = parser.parse_args()
    started = now()

    import torch

    pin_threads()
    w = workload_from_args(args.model, args.train_samples)
    train, dev = load_sst2(w)
    tokenizer = load_tokenizer(w, list(train["sentence"]))
    encode = lambda texts: tokenizer(texts, truncation=True, max_length=w.max_length)["input_ids"]  # noqa: E731
    train_ids, dev_ids = encode(list(train["sentence"])), encode(list(dev["sentence"]))
    train_labels, dev_labels = list(train["label"]), list(dev["label"])
    model = load_model(w, tokenizer)
    pad = tokenizer.pad_token_id

    def collate(rows: list[list[int]], labels: list[int]) -> dict[str, torch.Tensor]:
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor(labels)}

    def batches(epoch: int) -> list[list[int]]:
        rng = random.Random(w.data_seed + epoch)
        order = list(range(len(train_ids)))
        rng.shuffle(order)
        if not args.no_group:
            chunk = w.batch_size * 50
            order = [i for s in range(0, len(order), chunk)
                     for i in sorted(order[s : s + chunk], key=lambda j: len(train_ids[j]), reverse=True)]
        out = [order[i : i + w.batch_size] for i in range(0, len(order), w.batch_size)]
        rng.shuffle(out)
        return out

    impl = {"fused": {"fused": True}, "foreach": {"foreach": True}, "forloop": {"foreach": False}}[args.optim_impl]
    optimizer = torch.optim.AdamW(optimizer_groups(model, w.weight_decay), lr=w.lr, betas=(0.9, 0.999), eps=1e-8, **impl)
    total = w.steps if not args.max_steps else min(args.max_steps, w.steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup_lambda(w.steps, w.warmup))
    model.train()
    step, samples, tokens, padded = 0, 0, 0, 0
    setup_seconds = now() - started
    t0 = now()
    for epoch in range(w.epochs):
        for index in batches(epoch):
            if step >= total:
                break
            batch = collate([train_ids[i] for i in index], [train_labels[i] for i in index])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), batch["labels"])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), w.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            samples += len(index)
            tokens += int(batch["attention_mask"].sum())
            padded += batch["input_ids"].numel()
    train_seconds = now() - t0
    final_loss = float(loss.detach())

    model.eval()
    t1 = now()
    correct = 0
    order = sorted(range(len(dev_ids)), key=lambda i: len(dev_ids[i]), reverse=True)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
        for s in range(0, len(order), w.eval_batch_size):
            index = order[s : s + w.eval_batch_size]
            batch = collate([dev_ids[i] for i in index], [dev_labels[i] for i in index])
            predicted = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.argmax(-1)
            correct += int((predicted == batch["labels"]).sum())
    eval_seconds = now() - t1
    write_result(args.out, {
        "impl": "plain" + ("-random" if args.no_group else "") + ("-bf16" if args.bf16 else "")
        + ("" if args.optim_impl == "fused" else f"-{args.optim_impl}"),
        "model": w.model, "steps": step, "train_samples_seen": samples, "train_seconds": round(train_seconds, 3),
        "train_samples_per_second": round(samples / train_seconds, 3),
        "train_tokens_per_second": round(tokens / train_seconds, 1),
        "padded_tokens_per_second": round(padded / train_seconds, 1),
        "padding_share": round(1 - tokens / padded, 4), "train_real_tokens": tokens,
        "dev_accuracy": round(correct / len(dev_ids), 4), "eval_seconds": round(eval_seconds, 3),
        "setup_seconds": round(setup_seconds, 3), "final_train_loss": round(final_loss, 4),
        "epoch_real_tokens": real_tokens(train_ids),
    })


if __name__ == "__main__":
    main()
