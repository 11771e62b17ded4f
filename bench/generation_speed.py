"""Decoding speed of evaluation: glmtasks' validation pass vs what users write with transformers.

One trained glm-tiny translation model (Multi30k de->en; trained here unless ``--model`` names
an export), the 1,014 Multi30k validation sources, and these ways to decode them:

* ``glmtasks``: ``python -m glmtasks mode=evaluate`` on the validation split, fp32 like the others:
  length-sorted batches of ``data.eval_batch_size``, ``model.generate`` with the KV cache, plus the
  loss forward and BLEU. Its time is ``eval_seconds`` of metrics.json (the whole scoring pass).
* ``glmtasks-auto``: the same with the default ``trainer.precision=auto`` (bf16 on CPUs that have it).
* ``loop``: the per-example loop, ``tokenizer(prompt)`` then ``model.generate`` one source at a time.
* ``hf-batched``: ``model.generate`` on batches of the same size in the file's order, left padding.
* ``*-beam4``: the same with ``num_beams=4`` (glmtasks: ``task.head_config.num_beams=4``).

Each arm runs in its own process; repetitions are interleaved. Greedy outputs are compared
with the per-example loop's (no padding at all): the share of identical hypotheses.

    python bench/generation_speed.py --reps 3 [--model <export>] [--train-steps 800]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_DIR, median, pin_threads, run_clean, shared_data  # noqa: E402

PY = sys.executable
ARMS = ["glmtasks", "glmtasks-auto", "loop", "hf-batched", "glmtasks-beam4", "hf-batched-beam4"]
EVAL_DATA = ["task=translation", "data=multi30k", "data.train_file=null"]


def sources_and_prompt(model: Path) -> tuple[list[str], str]:
    """The validation sources and the prompt template the model was trained with."""
    import gzip

    meta = json.loads((model / "glmtasks.json").read_text())
    with gzip.open(shared_data() / "multi30k" / "val.de.gz", "rt", encoding="utf-8") as handle:
        sources = [line.rstrip("\n") for line in handle]
    return sources, meta["task_info"]["prompt"]


def transformers_arm(arm: str, model_dir: Path, batch_size: int, limit: int | None, out: Path) -> None:
    """Decode every source with plain transformers (``loop`` or ``hf-batched``); write texts/s and the hypotheses."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    pin_threads()
    sources, template = sources_and_prompt(model_dir)
    sources = sources[:limit] if limit else sources
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    beams = 4 if arm.endswith("beam4") else 1
    prompts = [template.format(source=s) for s in sources]
    hypotheses: list[str] = []
    started = time.perf_counter()
    with torch.inference_mode():
        step = 1 if arm == "loop" else batch_size
        for i in range(0, len(prompts), step):
            inputs = tokenizer(prompts[i:i + step], return_tensors="pt", padding=step > 1)
            output = model.generate(**inputs, num_beams=beams, do_sample=False)
            hypotheses += [t.strip() for t in tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)]
    seconds = time.perf_counter() - started
    out.write_text(json.dumps({"arm": arm, "seconds": round(seconds, 3), "texts": len(prompts), "hypotheses": hypotheses}))


def glmtasks_arm(arm: str, model_dir: Path, limit: int | None, out: Path) -> list[str]:
    """The command of a glmtasks arm (``mode=evaluate``); its result is read from metrics.json."""
    overrides = [*EVAL_DATA, "mode=evaluate", f"checkpoint={model_dir}", f"paths.shared_data={shared_data()}",
                 "callbacks.progress_bar=false", f"hydra.run.dir={out}"]
    if limit:
        overrides.append(f"++data.max_eval_samples={limit}")
    if arm != "glmtasks-auto":
        overrides.append("trainer.precision=32-true")
    if arm.endswith("beam4"):
        overrides.append("task.head_config.num_beams=4")
    return [PY, "-m", "glmtasks", *overrides]


def read_glmtasks(run_dir: Path) -> dict:
    """texts/s and hypotheses of a glmtasks evaluate run."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    lines = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    lines.sort(key=lambda r: r["index"])
    return {"seconds": metrics["eval_seconds"], "texts": len(lines), "hypotheses": [r["hypothesis"] for r in lines],
            "bleu": metrics["metrics"].get("val/sacrebleu")}


def train_model(steps: int, work: Path) -> Path:
    """glm-tiny trained by glmtasks on Multi30k for ``steps`` steps; its export folder."""
    command = [PY, "-m", "glmtasks", "task=translation", "data=multi30k", "trainer.max_epochs=-1", f"trainer.max_steps={steps}",
               "trainer.val_check_interval=1.0", "optimizer.lr=1e-3", "++data.max_eval_samples=128", "callbacks.progress_bar=false",
               f"paths.shared_data={shared_data()}", f"hydra.run.dir={work / 'train'}"]
    subprocess.run(command, check=True)
    return work / "train" / "export"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a glmtasks translation export (default: train one)")
    parser.add_argument("--train-steps", type=int, default=800)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--arms", nargs="+", default=ARMS, choices=ARMS)
    parser.add_argument("--batch-size", type=int, default=128, help="data.eval_batch_size of data=multi30k")
    parser.add_argument("--limit", type=int, help="only the first N validation sources (data.max_eval_samples for glmtasks)")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "generation_speed.json")
    parser.add_argument("--arm", help=argparse.SUPPRESS)
    parser.add_argument("--arm-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm:  # a child process: one transformers arm
        return transformers_arm(args.arm, args.model, args.batch_size, args.limit, args.arm_out)
    work = Path(tempfile.mkdtemp(prefix="glmtasks-genspeed-"))
    model = args.model or train_model(args.train_steps, work)
    runs: dict[str, list[dict]] = {arm: [] for arm in args.arms}
    for rep in range(args.reps):
        for arm in args.arms:
            target = work / f"{arm}-{rep}"
            if arm.startswith("glmtasks"):
                command = glmtasks_arm(arm, model, args.limit, target)
            else:
                command = [PY, __file__, "--arm", arm, "--model", str(model), "--batch-size", str(args.batch_size), "--arm-out", str(target) + ".json"]
                command += ["--limit", str(args.limit)] if args.limit else []
            measured = run_clean(command, work / f"{arm}-{rep}.log", quiet=not args.no_wait)
            if measured["returncode"]:
                raise SystemExit(f"{arm} failed; see {work / f'{arm}-{rep}.log'}")
            result = read_glmtasks(target) if arm.startswith("glmtasks") else json.loads(Path(str(target) + ".json").read_text())
            result.update(measured, texts_per_second=round(result["texts"] / result["seconds"], 2), rep=rep)
            runs[arm].append(result)
            print(f"[{time.strftime('%H:%M:%S')}] {arm} rep {rep + 1}: {result['texts_per_second']:.1f} texts/s, process {result['process_seconds']:.0f} s", flush=True)
    reference = runs.get("loop", [{}])[0].get("hypotheses")
    summary = {}
    for arm, results in runs.items():
        hyps = results[0]["hypotheses"]
        same = sum(a == b for a, b in zip(hyps, reference)) / len(reference) if reference and not arm.endswith("beam4") else None
        summary[arm] = {"texts_per_second": median([r["texts_per_second"] for r in results]),
                        "range": [min(r["texts_per_second"] for r in results), max(r["texts_per_second"] for r in results)],
                        "process_seconds": median([r["process_seconds"] for r in results]),
                        "identical_to_loop": same, "bleu": results[0].get("bleu")}
    for r in (r for results in runs.values() for r in results):
        r.pop("hypotheses")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": str(model), "reps": args.reps, "summary": summary, "runs": runs}, indent=1) + "\n")
    for arm, s in summary.items():
        same = "" if s["identical_to_loop"] is None else f", {s['identical_to_loop']:.1%} identical to the loop"
        print(f"{arm:18} {s['texts_per_second']:8.1f} texts/s ({s['range'][0]:.1f}-{s['range'][1]:.1f}){same}")


if __name__ == "__main__":
    main()
