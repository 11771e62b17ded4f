"""Does bf16 mixed precision (what ``trainer.precision=auto`` picks on this CPU) learn as well as fp32?

Three workloads, each trained with ``trainer.precision=32-true`` and ``bf16-mixed`` on the same
data and budget, over several seeds. The checkpoint is chosen on a validation split held out
of the training data (``data.validation_size``); the score reported is on the official
evaluation file, given as ``data.test_file`` so that no run selects on it.

* ``sst2``: MiniLM, 4,000 SST-2 training sentences, 2 epochs; test accuracy on SST-2 dev (872).
* ``conll``: MiniLM, 2,000 CoNLL-2003 training sentences, 2 epochs; entity F1 on valid.txt.
* ``multi30k``: glm-tiny from scratch, Multi30k de->en, 800 steps; BLEU on the 1,014 val pairs.

    python bench/precision_quality.py [--workloads sst2 conll multi30k] [--seeds 1 2 3]

Writes ``bench/results/precision_quality.json`` after every run (a partial grid still reports).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_DIR, pin_threads, shared_data  # noqa: E402

WORKLOADS = {
    "sst2": ("test/accuracy", [
        "task=sentiment", "data=sst2", "backbone=minilm", "++data.max_train_samples=4000", "data.validation_file=null",
        "data.validation_size=500", "++data.test_file=${paths.shared_data}/sst2/dev.tsv", "trainer.max_epochs=2",
        "optimizer.lr=1e-4",
    ]),
    "conll": ("test/entity_f1", [
        "task=ner", "data=conll2003", "backbone=minilm", "++data.max_train_samples=2000", "data.validation_file=null",
        "data.validation_size=500", "++data.test_file=${paths.shared_data}/conll2003/valid.txt", "trainer.max_epochs=2",
        "optimizer.lr=1e-4",
    ]),
    "multi30k": ("test/sacrebleu", [
        "task=translation", "data=multi30k", "backbone=glm-tiny", "data.validation_file=null", "data.validation_size=300",
        "++data.test_file='${paths.shared_data}/multi30k/val.{lang}.gz'", "trainer.max_epochs=-1", "trainer.max_steps=800",
        "trainer.val_check_interval=400", "+trainer.check_val_every_n_epoch=null", "optimizer.lr=1e-3",
    ]),
}
PRECISIONS = ["32-true", "bf16-mixed"]


def run_once(overrides: list[str], out: Path) -> dict:
    """One in-process glmtasks training run; its metrics.json content."""
    from omegaconf import OmegaConf

    from glmtasks.cli import compose, validate
    from glmtasks.run import run

    raw = compose([*overrides, f"paths.output_dir={out}", f"paths.shared_data={shared_data()}", "callbacks.progress_bar=false"])
    return run(validate(OmegaConf.to_container(raw, resolve=True)))


def summarize(results: list[dict]) -> dict:
    """Mean, standard deviation and per-seed scores per (workload, precision)."""
    table: dict[str, dict] = {}
    for r in results:
        table.setdefault(r["workload"], {}).setdefault(r["precision"], []).append(r["score"])
    return {w: {p: {"mean": statistics.mean(s), "std": statistics.stdev(s) if len(s) > 1 else 0.0, "scores": s}
                for p, s in by_p.items()} for w, by_p in table.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "precision_quality.json")
    parser.add_argument("--runs", type=Path, default=Path("/tmp/glmtasks-precision-quality"))
    args = parser.parse_args()
    pin_threads()
    results = json.loads(args.out.read_text())["runs"] if args.out.is_file() else []
    done = {(r["workload"], r["precision"], r["seed"]) for r in results}
    for workload in args.workloads:
        metric, overrides = WORKLOADS[workload]
        for seed in args.seeds:
            for precision in PRECISIONS:  # interleaved: both precisions of a seed before the next seed
                if (workload, precision, seed) in done:
                    continue
                started = time.perf_counter()
                result = run_once([*overrides, f"trainer.precision={precision}", f"seed={seed}"], args.runs / f"{workload}-{precision}-{seed}")
                results.append({"workload": workload, "precision": precision, "seed": seed, "score": result["test"][metric],
                                "metric": metric, "val_score": result["score"], "monitor": result["monitor"],
                                "steps": result["global_steps"], "seconds": round(time.perf_counter() - started, 1),
                                "command": "python -m glmtasks " + " ".join([*overrides, f"trainer.precision={precision}", f"seed={seed}"])})
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps({"runs": results, "summary": summarize(results)}, indent=1) + "\n")
                print(f"{workload} {precision} seed {seed}: {metric}={results[-1]['score']:.4f} ({results[-1]['seconds']:.0f} s)", flush=True)
    for workload, by_precision in summarize(results).items():
        for precision, s in by_precision.items():
            print(f"{workload:10} {precision:11} {s['mean']:.4f} +- {s['std']:.4f}  {s['scores']}")


if __name__ == "__main__":
    main()
