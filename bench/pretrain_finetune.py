"""Pre-train glm-tiny on Tiny Shakespeare + WikiText-2, then fine-tune on SST-2 against the same model from scratch.

Usage: python bench/pretrain_finetune.py [--pretrain-steps 300] [--finetune-samples 2000] [--seeds 0 1]
       python bench/pretrain_finetune.py --from-run <pre-training run dir> [--arms pretrained scratch]

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
    """One glmtasks run (``mode=train`` unless overridden); returns its metrics.json content plus the process-side wall time."""
    from omegaconf import OmegaConf

    from glmtasks.cli import compose, validate
    from glmtasks.run import run as run_mode

    raw = compose([*overrides, f"paths.output_dir={out}", f"paths.shared_data={SHARED}", "callbacks.progress_bar=false"])
    config = validate(OmegaConf.to_container(raw, resolve=True))
    started = time.perf_counter()
    result = run_mode(config)  # train, or export with mode=export
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


def export_from_run(run_dir: Path, out: Path) -> Path:
    """``mode=export`` of a pre-training run (its best checkpoint so far); returns the export folder."""
    result = run(["task=pretrain", "data=shakespeare_wikitext", "mode=export", f"checkpoint={run_dir}"], out)
    return Path(result["export"])


def pretrain_curve(run_dir: Path) -> list[dict]:
    """Validation perplexity by step, from the run's CSV log."""
    import csv

    rows = []
    for log in sorted(run_dir.glob("logs/**/metrics.csv")):
        for row in csv.DictReader(log.open()):
            if row.get("val/perplexity"):
                rows.append({"step": int(row["step"]) + 1, "val_perplexity": float(row["val/perplexity"])})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrain-steps", type=int, default=300)
    parser.add_argument("--pretrain-batch", type=int, default=16)
    parser.add_argument("--objective", default="blank_infilling", choices=["blank_infilling", "causal_lm"])
    parser.add_argument("--from-run", type=Path, default=None, help="skip pre-training: export this pre-training run's best checkpoint")
    parser.add_argument("--arms", nargs="+", default=["pretrained", "scratch"], choices=["pretrained", "scratch"])
    parser.add_argument("--finetune-samples", type=int, default=2000)
    parser.add_argument("--finetune-epochs", type=int, default=3)
    parser.add_argument("--finetune-lr", type=float, default=1e-3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--out", type=Path, default=Path("/tmp/glmtasks-bench-pretrain"))
    args = parser.parse_args()

    import torch

    torch.set_num_threads(2)
    if args.from_run is None:
        pretrain = run(
            ["experiment=pretrain_glm_tiny", f"data.objective={args.objective}", f"trainer.max_steps={args.pretrain_steps}",
             f"trainer.val_check_interval={max(1, args.pretrain_steps // 3)}", f"data.batch_size={args.pretrain_batch}",
             "data.max_eval_samples=128"],
            args.out / "pretrain",
        )
        run_dir = Path(pretrain["run_dir"])
        export = run_dir / "export"
    else:
        run_dir = args.from_run
        export = export_from_run(run_dir, args.out / "export")
    print(f"pre-trained run {run_dir} -> {export}", flush=True)

    common = ["task=sentiment", "data=sst2", f"++data.max_train_samples={args.finetune_samples}", f"trainer.max_epochs={args.finetune_epochs}",
              f"optimizer.lr={args.finetune_lr}", "scheduler.warmup_steps=0.1", "export=false"]
    arms = {
        "pretrained": ["backbone=hf", f"backbone.name_or_path={export}"],
        "scratch": ["backbone=glm-tiny", f"backbone.tokenizer={export}"],
    }
    for seed in args.seeds:
        for arm in args.arms:
            result = run([*common, *arms[arm], f"seed={seed}", f"++data.seed={seed}"], args.out / f"{arm}-{seed}")
            record = {"arm": arm, "seed": seed, "dev_accuracy": result["val"]["val/accuracy"], "macro_f1": result["val"]["val/macro_f1"],
                      "steps": result["global_steps"], "fit_seconds": result["fit_seconds"], "pretrain_run": str(run_dir)}
            (args.out / f"result-{arm}-{seed}.json").write_text(json.dumps(record) + "\n")
            print(f"{arm} seed {seed}: dev accuracy {record['dev_accuracy']:.4f} ({record['fit_seconds']} s)", flush=True)

    records = [json.loads(p.read_text()) for p in sorted(args.out.glob("result-*.json"))]
    summary = {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "pretrain_run": str(run_dir),
        "pretrain_curve": pretrain_curve(run_dir),
        "finetune": records,
        "mean_dev_accuracy": {
            arm: statistics.mean(r["dev_accuracy"] for r in records if r["arm"] == arm) for arm in sorted({r["arm"] for r in records})
        },
    }
    (BENCH / "results_pretrain.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary["mean_dev_accuracy"], indent=2))


if __name__ == "__main__":
    main()
