"""Training throughput: glmtasks vs the Hugging Face Trainer vs a plain PyTorch loop, side by side.

Each configuration runs in its own process (``glmtasks_train.py``, ``hf_trainer.py``,
``plain_loop.py``) on the same workload (``common.WORKLOADS``); repetitions are interleaved
(rep 1 of every configuration, then rep 2, ...), each started only on a quiet machine
(``common.wait_for_quiet``). Writes ``bench/results/train_<model>.json`` (every run, and per
configuration the median and range) and prints a table.

    python bench/train_throughput.py --model minilm --reps 3
    python bench/train_throughput.py --model glm-tiny --reps 3
    python bench/train_throughput.py --model minilm --reps 1 --configs glmtasks,plain --train-samples 512
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_DIR, median, run_clean, workload_from_args  # noqa: E402

PY = sys.executable
CONFIGS = {
    # name: (script, extra arguments[, glmtasks overrides])
    "glmtasks": ("glmtasks_train.py", []),  # the defaults: trainer.precision=auto
    "glmtasks-fp32": ("glmtasks_train.py", ["--label", "glmtasks-fp32"], ["trainer.precision=32-true"]),
    "glmtasks-bf16": ("glmtasks_train.py", ["--label", "glmtasks-bf16"], ["trainer.precision=bf16-mixed"]),
    "glmtasks-compile": ("glmtasks_train.py", ["--label", "glmtasks-compile"], ["compile=true"]),
    "glmtasks-forloop-adamw": ("glmtasks_train.py", ["--label", "glmtasks-forloop-adamw"], ["++optimizer.kwargs.foreach=false"]),
    "hf-trainer": ("hf_trainer.py", []),
    "hf-trainer-grouped": ("hf_trainer.py", ["--group-by-length"]),
    "hf-trainer-grouped-workers1": ("hf_trainer.py", ["--group-by-length", "--workers", "1"]),
    "hf-trainer-grouped-bf16": ("hf_trainer.py", ["--group-by-length", "--bf16"]),
    "hf-trainer-grouped-bf16-compile": ("hf_trainer.py", ["--group-by-length", "--bf16", "--compile"]),
    "plain": ("plain_loop.py", []),
    "plain-bf16": ("plain_loop.py", ["--bf16"]),
    "plain-random": ("plain_loop.py", ["--no-group"]),
    "plain-foreach": ("plain_loop.py", ["--optim-impl", "foreach"]),
    "plain-forloop": ("plain_loop.py", ["--optim-impl", "forloop"]),
}
DEFAULT_CONFIGS = ["glmtasks", "hf-trainer", "hf-trainer-grouped", "plain"]
SUMMARY_KEYS = ("train_samples_per_second", "train_tokens_per_second", "padded_tokens_per_second", "peak_rss_mb",
                "dev_accuracy", "process_seconds", "train_seconds", "eval_seconds")


def summarize(runs: list[dict]) -> dict:
    out = {}
    for key in SUMMARY_KEYS:
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            out[key] = {"median": median(values), "min": min(values), "max": max(values), "n": len(values)}
    out["padding_share"] = runs[0].get("padding_share")
    out["foreign_cpu_share_max"] = max(r.get("foreign_cpu_share") or 0 for r in runs)
    out["steps"] = runs[0].get("steps")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="minilm", choices=["minilm", "glm-tiny"])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGS), help=f"comma-separated, from {', '.join(CONFIGS)}")
    parser.add_argument("--train-samples", type=int, help="override the workload's subset size")
    parser.add_argument("--max-steps", type=int, help="smoke test: stop each run after N steps")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine (smoke tests only)")
    parser.add_argument("--glmtasks-overrides", default="", help="extra glmtasks overrides, space-separated")
    parser.add_argument("--out", help="default: bench/results/train_<model>.json")
    args = parser.parse_args()

    workload = workload_from_args(args.model, args.train_samples)
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    out = Path(args.out or BENCH_DIR / "results" / f"train_{args.model}.json")
    logs = out.parent / "logs"
    started = time.time()
    runs: dict[str, list[dict]] = {name: [] for name in names}
    commands: dict[str, str] = {}
    for rep in range(args.reps):
        for name in names:
            script, extra, *overrides = CONFIGS[name]
            overrides = list(overrides[0]) if overrides else []
            result_file = logs / f"train_{args.model}_{name}_rep{rep}.json"
            cmd = [PY, str(BENCH_DIR / script), "--model", args.model, "--out", str(result_file), *extra]
            if args.train_samples:
                cmd += ["--train-samples", str(args.train_samples)]
            if args.max_steps:
                cmd += ["--max-steps", str(args.max_steps)]
            if script == "glmtasks_train.py":
                overrides += args.glmtasks_overrides.split()
            if overrides:
                cmd += ["--", *overrides]
            commands[name] = " ".join(["python", f"bench/{script}", *cmd[2:]]).replace(str(result_file), "<result.json>")
            print(f"[{time.strftime('%H:%M:%S')}] {args.model} {name} rep {rep + 1}/{args.reps}", flush=True)
            measured = run_clean(cmd, logs / f"train_{args.model}_{name}_rep{rep}.log", quiet=not args.no_wait)
            if measured["returncode"] != 0:
                raise SystemExit(f"{name} failed (exit {measured['returncode']}); see {logs}/train_{args.model}_{name}_rep{rep}.log")
            result = {**json.loads(result_file.read_text()), **measured, "rep": rep}
            runs[name].append(result)
            print(f"    {result['train_samples_per_second']:.2f} samples/s, dev acc {result['dev_accuracy']:.4f}, "
                  f"peak RSS {result['peak_rss_mb']:.0f} MB, process {result['process_seconds']:.0f} s, "
                  f"foreign CPU {result['foreign_cpu_share']:.1%}", flush=True)
    payload = {
        "model": args.model, "workload": workload.__dict__, "reps": args.reps, "max_steps": args.max_steps,
        "commands": commands, "runs": runs, "summary": {name: summarize(r) for name, r in runs.items()},
        "driver_seconds": round(time.time() - started, 1),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\n{'config':<30} {'samples/s (median, range)':<28} {'tokens/s':>9} {'dev acc':>8} {'RSS MB':>7}")
    for name, s in payload["summary"].items():
        sps = s["train_samples_per_second"]
        print(f"{name:<30} {sps['median']:7.2f} ({sps['min']:.2f}-{sps['max']:.2f}){'':<10} "
              f"{s['train_tokens_per_second']['median']:9.0f} {s['dev_accuracy']['median']:8.4f} {s['peak_rss_mb']['median']:7.0f}")
    print(f"wrote {out} in {payload['driver_seconds']:.0f} s")


if __name__ == "__main__":
    main()
