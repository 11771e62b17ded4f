"""Proof of learning for the generation tasks: glm-tiny from scratch on Multi30k (de->en) and DialogSum.

Runs the experiment configs through the CLI (``python -m glmtasks experiment=...``), then reads
the run's ``logs/metrics.csv`` and ``metrics.json``, plots the learning curve (training loss and
the validation metric against optimizer steps) and prints a Markdown summary. For DialogSum it
also scores lead baselines (the first 1, 2 or 3 turns of each dialogue) with the same ROUGE.

Usage (from the repository root; outputs under bench/runs/, plots next to this file):
    python bench/generation_bench.py multi30k [--beams 4] [overrides ...]
    python bench/generation_bench.py dialogsum [overrides ...]
    python bench/generation_bench.py lead                 # only the DialogSum lead baselines
    python bench/generation_bench.py multi30k --beams 4 --run-dir <run>   # report (and re-plot) a finished run
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SHARED = Path(os.environ.get("GLMTASKS_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()
EXPERIMENTS = {"multi30k": ("multi30k_glm_tiny", "sacrebleu", "BLEU"), "dialogsum": ("dialogsum_glm_tiny", "rougeLsum", "ROUGE-Lsum")}


def run_experiment(name: str, overrides: list[str]) -> tuple[Path, float]:
    """Train through the CLI; returns the run directory and the wall-clock seconds."""
    experiment = EXPERIMENTS[name][0]
    out = BENCH / "runs" / name
    command = [sys.executable, "-m", "glmtasks", f"experiment={experiment}", f"paths.output_dir={out}", f"paths.shared_data={SHARED}", *overrides]
    print("$", " ".join(command[1:]), flush=True)
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO)
    seconds = time.perf_counter() - started
    run_dir = max((p.parent for p in out.rglob("metrics.json")), key=lambda p: p.stat().st_mtime)
    return run_dir, seconds


def learning_curve(run_dir: Path, metric: str) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(step, training loss) and (step, validation metric) of the validations during training.

    The re-validation of the best checkpoint after training (logged at the final step) is left out.
    """
    final_step = json.loads((run_dir / "metrics.json").read_text())["global_steps"]
    train, val = [], []
    with (run_dir / "logs" / "metrics.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row.get("train/loss"):
                train.append((int(row["step"]), float(row["train/loss"])))
            if row.get(f"val/{metric}") and int(row["step"]) < final_step:
                val.append((int(row["step"]) + 1, float(row[f"val/{metric}"])))  # after step+1 optimizer steps
    return train, val


def plot(run_dir: Path, name: str, metric: str, label: str, extra: dict[str, float] | None = None) -> Path:
    """A PNG with the training loss (left axis) and the validation metric (right axis) against steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train, val = learning_curve(run_dir, metric)
    fig, loss_axis = plt.subplots(figsize=(7, 4))
    steps, losses = zip(*train)
    smooth = [sum(losses[max(0, i - 4) : i + 1]) / len(losses[max(0, i - 4) : i + 1]) for i in range(len(losses))]
    loss_axis.plot(steps, losses, color="tab:blue", alpha=0.3, label="training loss (logged batches)")
    loss_axis.plot(steps, smooth, color="tab:blue", label="training loss (mean of 5 logs)")
    loss_axis.set_xlabel("optimizer step")
    loss_axis.set_ylabel("training loss (target tokens)", color="tab:blue")
    metric_axis = loss_axis.twinx()
    metric_axis.plot(*zip(*val), "o-", color="tab:red", label=f"validation {label}")
    for text, value in (extra or {}).items():
        metric_axis.axhline(value, color="gray", linestyle="--", linewidth=1)
        metric_axis.annotate(text, (train[0][0], value), color="gray", fontsize=8, va="bottom")
    metric_axis.set_ylabel(f"validation {label}", color="tab:red")
    fig.suptitle(f"glm-tiny from scratch: {name}")
    fig.tight_layout()
    path = BENCH / f"generation_{name}.png"
    fig.savefig(path, dpi=120)
    return path


def beam_bleu(run_dir: Path, beams: int) -> float:
    """Corpus BLEU of the exported model on Multi30k val with beam search (plain transformers)."""
    import torch
    import transformers

    from glmtasks_translation.metrics import sacrebleu

    export = run_dir / "export"
    tokenizer = transformers.AutoTokenizer.from_pretrained(export)
    model = transformers.AutoModelForCausalLM.from_pretrained(export).eval()
    predictions = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    metric = sacrebleu({"language": "en", "scoring": {}})
    for start in range(0, len(predictions), 64):
        chunk = predictions[start : start + 64]
        inputs = tokenizer([p["source"] for p in chunk], padding=True, return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**inputs, num_beams=beams, length_penalty=1.0, early_stopping=True)
        texts = [t.strip() for t in tokenizer.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)]
        metric.update(texts, [p["references"] for p in chunk])
    return float(metric.compute())


def lead_baselines() -> dict[str, dict[str, float]]:
    """ROUGE of the first 1, 2 and 3 turns of each DialogSum dev dialogue against its summary."""
    from glmtasks_summarization.metrics import rouge1, rouge2, rougeL, rougeLsum

    rows = [json.loads(line) for line in (SHARED / "dialogsum" / "dialogsum.dev.jsonl").read_text().splitlines()]
    scores = {}
    for k in (1, 2, 3):
        hypotheses = ["\n".join(r["dialogue"].split("\n")[:k]) for r in rows]
        references = [[r["summary"]] for r in rows]
        scores[f"lead-{k}"] = {}
        for factory in (rouge1, rouge2, rougeL, rougeLsum):
            metric = factory({"language": "en", "scoring": {"rouge_stemmer": True}})
            metric.update(hypotheses, references)
            scores[f"lead-{k}"][factory.__name__] = round(float(metric.compute()), 2)
    return scores


def main() -> None:
    """Command line: which benchmark, optional beam width and config overrides."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=["multi30k", "dialogsum", "lead"])
    parser.add_argument("--beams", type=int, default=0, help="also score beam search with this many beams (multi30k)")
    parser.add_argument("--run-dir", type=Path, help="report on this finished run instead of training (reuses its bench_summary.json)")
    parser.add_argument("overrides", nargs="*", help="extra config overrides for the experiment")
    args = parser.parse_intermixed_args()
    if args.which == "lead":
        print(json.dumps(lead_baselines(), indent=2))
        return
    experiment, metric, label = EXPERIMENTS[args.which]
    previous: dict = {}
    if args.run_dir:
        run_dir = args.run_dir
        previous = json.loads((run_dir / "bench_summary.json").read_text()) if (run_dir / "bench_summary.json").is_file() else {}
        seconds = previous.get("wall_minutes", 0) * 60
    else:
        run_dir, seconds = run_experiment(args.which, args.overrides)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    summary = {
        "run_dir": str(run_dir),
        "wall_minutes": round(seconds / 60, 1),
        "fit_minutes": round(metrics["fit_seconds"] / 60, 1),
        "steps": metrics["global_steps"],
        "train_samples_per_second": metrics["train_samples_per_second"],
        "val": metrics["val"],
        "metric_metadata": metrics.get("metric_metadata"),
        "curve": learning_curve(run_dir, metric)[1],
    }
    extra = None
    if args.which == "dialogsum":
        summary["lead_baselines"] = lead_baselines()
        extra = {f"{k} {label}": v["rougeLsum"] for k, v in summary["lead_baselines"].items() if k != "lead-3"}
    if args.which == "multi30k" and args.beams:
        key = f"beam{args.beams}_bleu"
        summary[key] = previous[key] if key in previous else round(beam_bleu(run_dir, args.beams), 2)
    summary["plot"] = str(plot(run_dir, args.which, metric, label, extra))
    (run_dir / "bench_summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
