"""Benchmarks of task=qa and task=ner: pretrained MiniLM on real data, with a stated time budget.

* QA:  SQuAD v1.1 dev split by article: train on articles 0-39, report EM/F1 on 40-47
       (``experiment=squad_minilm``).
* NER: CoNLL-2003: train on (a subset of) train.txt, report entity F1 on valid.txt
       (``experiment=conll2003_minilm``).

Each run is one ``python -m glmtasks`` call; training stops at ``--budget-minutes``
(Lightning's ``max_time``) or at the experiment's epochs, whichever comes first; the final
evaluation of the best checkpoint comes after. One markdown table row per run is printed
and appended to ``bench/runs/results.md`` (the run folders are kept under ``bench/runs/``).

Usage (from the repository root, with ``../shared/data`` present):
    python bench/qa_ner.py qa ner --budget-minutes 10 --qa-train-questions 1500 --ner-train-sentences 3000
    python bench/qa_ner.py qa --budget-minutes 10 -- trainer=gpu       (extra overrides after --)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

EXPERIMENTS = {"qa": "experiment=squad_minilm", "ner": "experiment=conll2003_minilm"}
HEADLINE = {"qa": ("squad_em", "squad_f1"), "ner": ("entity_precision", "entity_recall", "entity_f1")}


def run(task: str, budget_minutes: int, train_samples: int | None, extra: list[str], out: Path) -> dict:
    """Run one benchmark; returns its metrics.json plus the command and wall time."""
    overrides = [EXPERIMENTS[task], f"+trainer.max_time=00:00:{budget_minutes:02d}:00", "callbacks.progress_bar=false"]
    if train_samples:
        overrides.append(f"data.max_train_samples={train_samples}")
    overrides += extra
    command = [sys.executable, "-m", "glmtasks", *overrides, f"paths.output_dir={out}"]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{task} run failed with exit code {proc.returncode}")
    (metrics_file,) = sorted(out.rglob("metrics.json"))[-1:]
    metrics = json.loads(metrics_file.read_text())
    metrics["command"] = "python -m glmtasks " + " ".join(overrides)
    metrics["wall_seconds"] = round(wall, 1)
    return metrics


def table_row(task: str, metrics: dict) -> str:
    """``| task | command | steps | fit s | wall s | scores |`` (scores on the validation split)."""
    scores = ", ".join(f"{key} {metrics['val'][f'val/{key}']:.4g}" for key in HEADLINE[task])
    return (
        f"| {task} | `{metrics['command']}` | {metrics['global_steps']} | {metrics['fit_seconds']:.0f} | "
        f"{metrics['wall_seconds']:.0f} | {scores} |"
    )


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the requested benchmarks, print and append the table rows."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tasks", nargs="+", choices=sorted(EXPERIMENTS))
    parser.add_argument("--budget-minutes", type=int, default=10, help="training time limit per run (Lightning max_time)")
    parser.add_argument("--qa-train-questions", type=int, default=None, help="use only N training questions (default: all)")
    parser.add_argument("--ner-train-sentences", type=int, default=None, help="use only N training sentences (default: all)")
    parser.add_argument("--runs-dir", type=Path, default=Path("bench/runs"))
    args, extra = parser.parse_known_args(argv)
    extra = [e for e in extra if e != "--"]
    rows = []
    for task in args.tasks:
        samples = args.qa_train_questions if task == "qa" else args.ner_train_sentences
        out = args.runs_dir / f"{task}-{time.strftime('%Y%m%d-%H%M%S')}"
        metrics = run(task, args.budget_minutes, samples, extra, out)
        row = table_row(task, metrics)
        print(row, flush=True)
        print(json.dumps({k: metrics[k] for k in ("val", "fit_seconds", "global_steps", "run_dir")}, indent=1), flush=True)
        rows.append(row)
    args.runs_dir.mkdir(parents=True, exist_ok=True)
    with (args.runs_dir / "results.md").open("a", encoding="utf-8") as handle:
        handle.write("".join(r + "\n" for r in rows))


if __name__ == "__main__":
    main()
