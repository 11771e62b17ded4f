"""The offline demo of task=chat over several seeds, against the most frequent last reply.

Runs ``python -m glmtasks task=chat seed=<s>`` (the defaults: glm-tiny from scratch on 1,500
generated customer-service conversations in Chinese and English); the checkpoint is selected on
the validation split and the test split (generated with another seed) is reported. The baseline
answers every test conversation with the training set's most frequent last reply. CPU seconds
are the child process's user+system time.

Usage: python bench/chat_demo.py --seeds 1 2 3            (writes bench/results/chat_demo.json)
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
METRICS = ("assistant_perplexity", "reply_bleu4", "reply_rouge1", "reply_rouge2", "reply_rougeL")


def baseline() -> dict:
    """Most frequent last reply of the demo's training split, scored on its test split."""
    from glmtasks_chat.demo import generate_conversations
    from glmtasks_chat.metrics import bleu4, rouge1, rouge2, rougeL

    def last(conversation):
        return [m for m in conversation["messages"] if m["role"] == "assistant"][-1]["content"]

    train, test = generate_conversations(1500, 0), generate_conversations(100, 2)  # the demo's seeds: data.seed * 1000 + split
    reply = Counter(last(c) for c in train).most_common(1)[0][0]
    references = [[last(c)] for c in test]
    scores = {"reply": reply}
    for name, factory in (("reply_bleu4", bleu4), ("reply_rouge1", rouge1), ("reply_rouge2", rouge2), ("reply_rougeL", rougeL)):
        metric = factory({"language": "zh", "scoring": {}})
        metric.update([reply] * len(references), references)
        scores[name] = round(float(metric.compute()), 2)
    return scores


def run(seed: int, output_dir: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    args = [sys.executable, "-m", "glmtasks", "task=chat", f"seed={seed}", "callbacks.progress_bar=false", f"paths.output_dir={output_dir}"]
    done = subprocess.run(args, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        sys.exit(done.stderr[-3000:])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run_dir = Path(next(line.split(": ", 1)[1] for line in done.stdout.splitlines()[::-1] if line.startswith("run directory: ")))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {"seed": seed, **{name: round(metrics["test"][f"test/{name}"], 3) for name in METRICS},
            "wall_seconds": round(time.time() - started, 1),
            "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
            "fit_seconds": metrics["fit_seconds"], "steps": metrics["global_steps"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", default=str(BENCH / "results" / "chat_demo.json"))
    args = parser.parse_args()
    runs = [run(seed, BENCH / "results" / "outputs") for seed in args.seeds]
    for r in runs:
        print(json.dumps(r), flush=True)
    summary = {name: {"mean": round(statistics.mean(r[name] for r in runs), 3), "std": round(statistics.stdev(r[name] for r in runs), 3) if len(runs) > 1 else 0.0}
               for name in (*METRICS, "wall_seconds", "cpu_seconds")}
    result = {"command": "python -m glmtasks task=chat seed=<seed>", "runs": runs, "summary": summary, "baseline_most_frequent_last_reply": baseline()}
    print(json.dumps(result["summary"], indent=1), json.dumps(result["baseline_most_frequent_last_reply"], ensure_ascii=False))
    Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
