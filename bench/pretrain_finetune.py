"""Pre-train glm-tiny on Tiny Shakespeare + WikiText-2, then fine-tune on SST-2 against the same model from scratch.

Usage: python bench/pretrain_finetune.py [--pretrain-steps 300] [--finetune-samples 2000] [--seeds 0 1]

1. ``python -m glmtasks experiment=pretrain_glm_tiny`` (GLM blank infilling; ``--objective``
   switches to causal_lm) for ``--pretrain-steps`` optimizer steps.
2. For each seed, two SST-2 runs with identical settings (data subset, steps, optimizer,
   schedule, tokenizer, architecture); only the initial weights differ:
   * ``pretrained``: ``task=sentiment data=sst2 backbone=hf backbone.name_or_path=<export>``;
   * ``scratch``:    ``task=sentiment data=sst2 backbone=glm-tiny backbone.tokenizer=<export>``
     (the same BPE tokenizer, random weights).
3. Dev accuracy is on the full official SST-2 dev set (872 sentences). Results go to
   ``bench/results_pretrain.json`` and the table in ``bench/results_pretrain.md``.

Runs are in-process (the same ``compose`` + ``train`` the CLI uses); outputs go under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BENCH = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("GLMTASKS_SHARED_DATA", BENCH.parent.parent / "shared" / "data")).resolve()


def run(overrides: list[str], out: Path) -> dict:
    """One glmtasks training run; returns its metrics.json content plus the process-side wall time."""
    from omegaconf import OmegaConf

    from glmtasks.cli import compose, validate
    from glmtasks.run import train

    raw = compose([*overrides, f"paths.output_dir={out}", f"paths.shared_data={SHARED}", "callbacks.progress_bar=false"])
    config = validate(OmegaConf.to_container(raw, resolve=True))
    started = time.perf_counter()
    result = train(config)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrain-steps", type=int, default=300)
    parser.add_argument("--pretrain-batch", type=int, default=16)
    parser.add_argument("--objective", default="blank_infilling", choices=["blank_infilling", "causal_lm"])
    parser.add_argument("--finetune-samples", type=int, default=2000)
    parser.add_argument("--finetune-epochs", type=int, default=3)
    parser.add_argument("--finetune-lr", type=float, default=1e-3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--out", type=Path, default=Path("/tmp/glmtasks-bench-pretrain"))
    args = parser.parse_args()

    import torch

    torch.set_num_threads(2)
    pretrain = run(
        ["experiment=pretrain_glm_tiny", f"data.objective={args.objective}", f"trainer.max_steps={args.pretrain_steps}",
         f"trainer.val_check_interval={max(1, args.pretrain_steps // 3)}", f"data.batch_size={args.pretrain_batch}",
         "data.max_eval_samples=128"],
        args.out / "pretrain",
    )
    export = Path(pretrain["run_dir"]) / "export"
    print(f"pre-trained: val perplexity {pretrain['val']['val/perplexity']:.2f} in {pretrain['wall_seconds']} s -> {export}", flush=True)

    common = ["task=sentiment", "data=sst2", f"data.max_train_samples={args.finetune_samples}", f"trainer.max_epochs={args.finetune_epochs}",
              f"optimizer.lr={args.finetune_lr}", "scheduler.warmup_steps=0.1", "export=false"]
    arms = {
        "pretrained": ["backbone=hf", f"backbone.name_or_path={export}"],
        "scratch": ["backbone=glm-tiny", f"backbone.tokenizer={export}"],
    }
    finetune: dict[str, list[dict]] = {arm: [] for arm in arms}
    for seed in args.seeds:
        for arm, overrides in arms.items():
            result = run([*common, *overrides, f"seed={seed}", f"data.seed={seed}"], args.out / f"{arm}-{seed}")
            finetune[arm].append({"seed": seed, "dev_accuracy": result["val"]["val/accuracy"], "macro_f1": result["val"]["val/macro_f1"],
                                  "steps": result["global_steps"], "fit_seconds": result["fit_seconds"]})
            print(f"{arm} seed {seed}: dev accuracy {result['val']['val/accuracy']:.4f} ({result['fit_seconds']} s)", flush=True)

    summary = {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "pretrain": {"objective": args.objective, "steps": pretrain["global_steps"], "val_perplexity": pretrain["val"]["val/perplexity"],
                     "fit_seconds": pretrain["fit_seconds"], "wall_seconds": pretrain["wall_seconds"]},
        "finetune": finetune,
        "mean_dev_accuracy": {arm: statistics.mean(r["dev_accuracy"] for r in rows) for arm, rows in finetune.items()},
    }
    (BENCH / "results_pretrain.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary["mean_dev_accuracy"], indent=2))


if __name__ == "__main__":
    main()
