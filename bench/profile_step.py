"""Where one MiniLM training step spends its time: forward, backward, clipping, optimizer step.

The profile behind the optimizer change recorded in ``bench/optimizations.md``: one batch of
the SST-2 workload's shape (32 sentences of 15 tokens, the median padded length of
``train_throughput.py``'s batches), 2 threads, medians over ``--steps`` steps after 3 warm-up
steps, for each AdamW implementation torch offers on the CPU.

    python bench/profile_step.py [--steps 20] [--bf16]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import minilm_path, pin_threads  # noqa: E402

IMPLEMENTATIONS = {"for-loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}


def profile(implementation: str, steps: int, bf16: bool, batch: int = 32, length: int = 15) -> dict[str, float]:
    """Median milliseconds of each phase of a training step with one AdamW implementation."""
    import torch
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(minilm_path(), num_labels=2).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, **IMPLEMENTATIONS[implementation])
    ids = torch.randint(1000, 20000, (batch, length))
    labels = torch.randint(0, 2, (batch,))

    def step() -> tuple[float, ...]:
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        t3 = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        t4 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, t4 - t3

    for _ in range(3):
        step()
    phases = list(zip(*(step() for _ in range(steps))))
    result = {name: round(1000 * statistics.median(times), 1) for name, times in zip(("forward", "backward", "clip", "optimizer"), phases)}
    result["total"] = round(sum(result.values()), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--bf16", action="store_true", help="forward under bf16 autocast")
    args = parser.parse_args()
    pin_threads()
    rows = {name: profile(name, args.steps, args.bf16) for name in IMPLEMENTATIONS}
    print(f"{'AdamW':10} " + " ".join(f"{k:>10}" for k in next(iter(rows.values()))) + "   (median ms per step)")
    for name, row in rows.items():
        print(f"{name:10} " + " ".join(f"{v:10.1f}" for v in row.values()))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
