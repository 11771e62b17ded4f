"""Prediction throughput: ``python -m glmtasks mode=predict`` vs ``transformers.pipeline`` on the same export and inputs.

The export is a glmtasks MiniLM/SST-2 ``export/`` folder (``--export``; by default one is
trained here: MiniLM on 2,000 SST-2 sentences, 1 epoch). The inputs are the 872 SST-2 dev
sentences repeated 8 times (6,976 texts, a tsv with a ``sentence`` column). Each side runs in
its own process, repetitions interleaved, on a quiet machine:

* glmtasks: ``python -m glmtasks mode=predict task=sentiment data=sst2 checkpoint=<export>
  data.predict_file=<file>`` (length-sorted batches of ``data.eval_batch_size``=64, predictions
  written to ``predictions.jsonl``); timed: ``predict_seconds`` of its ``metrics.json``
  (tokenization, the prediction loop and writing the file).
* pipeline: ``pipeline("text-classification", model=<export>)`` called once on the list of
  texts, with the pipeline's default ``batch_size`` (1) and with ``batch_size=64``; timed: that call.
* in bfloat16 (this CPU has AMX-BF16): glmtasks with ``trainer.precision=bf16-mixed`` (autocast),
  the pipeline with ``dtype=torch.bfloat16`` and ``batch_size=64``.

Both also report the wall time of the whole process (imports, model load, reading inputs) and
the accuracy of their predictions for the 872 distinct dev sentences (the numerics must not
buy the speed).

    python bench/predict_throughput.py --reps 3 [--export outputs/sentiment/<run>/export]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_DIR, median, now, pin_threads, run_clean, run_measured, shared_data, write_result  # noqa: E402

PY = sys.executable
REPEAT = 8


def make_inputs(path: Path) -> int:
    """The dev sentences, ``REPEAT`` times, as a one-column tsv (what both sides read)."""
    lines = (shared_data() / "sst2" / "dev.tsv").read_text(encoding="utf-8").splitlines()[1:]
    sentences = [line.split("\t")[0] for line in lines if line.strip()]
    path.write_text("sentence\n" + "".join(s + "\n" for _ in range(REPEAT) for s in sentences), encoding="utf-8")
    return len(sentences) * REPEAT


def dev_accuracy(predicted_labels: list[str]) -> float:
    """Accuracy of the first 872 predictions (the dev sentences in order) against the SST-2 dev labels."""
    lines = (shared_data() / "sst2" / "dev.tsv").read_text(encoding="utf-8").splitlines()[1:]
    gold = [{"0": "negative", "1": "positive"}[line.split("\t")[1].strip()] for line in lines if line.strip()]
    return round(sum(p == g for p, g in zip(predicted_labels, gold)) / len(gold), 4)


def run_pipeline(export: str, inputs: str, batch_size: int, bf16: bool, out: str) -> None:
    """One pipeline process: read the inputs, build the pipeline, classify every text."""
    started = now()
    pin_threads()
    import torch
    from transformers import pipeline

    texts = [line for line in Path(inputs).read_text(encoding="utf-8").splitlines()[1:]]
    classifier = pipeline("text-classification", model=export, device="cpu", dtype=torch.bfloat16 if bf16 else torch.float32)
    t0 = now()
    results = classifier(texts, batch_size=batch_size, truncation=True, max_length=128)
    seconds = now() - t0
    assert len(results) == len(texts)
    write_result(out, {"impl": f"pipeline-batch{batch_size}" + ("-bf16" if bf16 else ""), "texts": len(texts),
                       "predict_seconds": round(seconds, 3), "predict_samples_per_second": round(len(texts) / seconds, 2),
                       "dev_accuracy": dev_accuracy([r["label"] for r in results]), "setup_seconds": round(t0 - started, 3)})


def train_export(work: Path) -> str:
    """A MiniLM SST-2 export to predict with (2,000 sentences, 1 epoch)."""
    cmd = [PY, "-m", "glmtasks", "task=sentiment", "data=sst2", "backbone=minilm", "++data.max_train_samples=2000",
           "++data.max_length=128", "optimizer.lr=1e-4", "trainer.max_epochs=1", "callbacks.progress_bar=false",
           f"paths.output_dir={work}"]
    measured = run_measured(cmd, work / "train.log", quiet=False)
    if measured["returncode"] != 0:
        raise SystemExit(f"training the export failed; see {work / 'train.log'}")
    (export,) = work.rglob("export/glmtasks.json")
    return str(export.parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--export", help="a glmtasks export folder (default: train one)")
    parser.add_argument("--pipeline-batch-sizes", default="1,64")
    parser.add_argument("--no-wait", action="store_true")
    parser.add_argument("--out", help="default: bench/results/predict.json")
    parser.add_argument("--impl", help=argparse.SUPPRESS)  # internal: run one pipeline process
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bf16", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.impl == "pipeline":
        run_pipeline(args.export, args.inputs, args.batch_size, args.bf16, args.out)
        return

    started = time.time()
    out = Path(args.out or BENCH_DIR / "results" / "predict.json")
    logs = out.parent / "logs"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        export = args.export or train_export(work / "train")
        inputs = work / "inputs.tsv"
        count = make_inputs(inputs)
        configs = {
            "glmtasks": {"precision": "32-true"},
            **{f"pipeline-batch{b}": {"batch": int(b), "bf16": False} for b in args.pipeline_batch_sizes.split(",")},
            "glmtasks-bf16": {"precision": "bf16-mixed"},
            "pipeline-batch64-bf16": {"batch": 64, "bf16": True},
        }
        runs: dict[str, list] = {name: [] for name in configs}
        commands = {}
        for rep in range(args.reps):
            for name, spec in configs.items():
                result_file = logs / f"predict_{name}_rep{rep}.json"
                if "precision" in spec:
                    run_dir = work / f"predict-{name}-{rep}"
                    cmd = [PY, "-m", "glmtasks", "mode=predict", "task=sentiment", "data=sst2", f"checkpoint={export}",
                           f"data.predict_file={inputs}", "data.train_file=null", "data.validation_file=null",
                           "++data.max_length=128", f"trainer.precision={spec['precision']}", f"hydra.run.dir={run_dir}"]
                    commands[name] = " ".join(["python", *cmd[1:]])
                else:
                    cmd = [PY, __file__, "--impl", "pipeline", "--export", export, "--inputs", str(inputs),
                           "--batch-size", str(spec["batch"]), "--out", str(result_file)] + (["--bf16"] if spec["bf16"] else [])
                    commands[name] = (f"pipeline('text-classification', model=<export>{', dtype=torch.bfloat16' if spec['bf16'] else ''})"
                                      f"(texts, batch_size={spec['batch']}, truncation=True, max_length=128)")
                print(f"[{time.strftime('%H:%M:%S')}] predict {name} rep {rep + 1}/{args.reps}", flush=True)
                measured = run_clean(cmd, logs / f"predict_{name}_rep{rep}.log", quiet=not args.no_wait)
                if measured["returncode"] != 0:
                    raise SystemExit(f"{name} failed; see {logs}/predict_{name}_rep{rep}.log")
                if "precision" in spec:
                    metrics = json.loads((run_dir / "metrics.json").read_text())
                    assert metrics["predictions"] == count, metrics
                    labels = [json.loads(line)["prediction"] for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
                    result = {"impl": name, "texts": count, "predict_seconds": metrics["predict_seconds"],
                              "predict_samples_per_second": round(count / metrics["predict_seconds"], 2),
                              "dev_accuracy": dev_accuracy(labels)}
                else:
                    result = json.loads(result_file.read_text())
                result.update(measured, rep=rep,
                              process_samples_per_second=round(count / measured["process_seconds"], 2))
                runs[name].append(result)
                print(f"    {result['predict_samples_per_second']:.1f} texts/s in the loop, process "
                      f"{measured['process_seconds']:.1f} s, peak RSS {measured['peak_rss_mb']:.0f} MB, "
                      f"foreign CPU {measured['foreign_cpu_share']:.1%}", flush=True)
    summary = {}
    for name, rs in runs.items():
        summary[name] = {key: {"median": median([r[key] for r in rs]), "min": min(r[key] for r in rs), "max": max(r[key] for r in rs)}
                         for key in ("predict_samples_per_second", "process_seconds", "process_samples_per_second", "peak_rss_mb", "dev_accuracy")}
    payload = {"texts": count, "inputs": f"SST-2 dev sentences x {REPEAT}", "export": "given" if args.export else
               "MiniLM trained by glmtasks on 2,000 SST-2 sentences, 1 epoch", "reps": args.reps, "commands": commands,
               "runs": runs, "summary": summary, "driver_seconds": round(time.time() - started, 1)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n")
    for name, s in summary.items():
        print(f"{name:<20} {s['predict_samples_per_second']['median']:8.1f} texts/s (loop)   "
              f"{s['process_seconds']['median']:6.1f} s process")
    print(f"wrote {out} in {payload['driver_seconds']:.0f} s")


if __name__ == "__main__":
    main()
