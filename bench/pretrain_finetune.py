"""Does pre-training pay? Scratch vs causal-LM vs blank-infilling pre-training, fine-tuned on SST-2 and Multi30k.

Usage: python bench/pretrain_finetune.py all                 # everything below, in order (see bench/results_pretrain.md for the CPU minutes)
       python bench/pretrain_finetune.py pretrain            # the shared tokenizer, then both objectives (8,000 steps), one core each
       python bench/pretrain_finetune.py heldout             # each pre-training checkpoint's perplexity on the SST-2 dev sentences (a diagnostic)
       python bench/pretrain_finetune.py finetune [--sizes 2000 500] [--seeds 0 1 2] [--heads cls verbalizer] [--lrs 2e-4 5e-4 1e-3]
       python bench/pretrain_finetune.py curve               # intermediate pre-training checkpoints -> SST-2 (the plot), at the chosen lrs
       python bench/pretrain_finetune.py generation          # Multi30k de->en, the same arms
       python bench/pretrain_finetune.py summary             # bench/results/pretrain_finetune.json -> tables + plot

Protocol (issue #17):

* Pre-training (``experiment=pretrain_sst2_blank`` / ``experiment=pretrain_sst2_causal``): the
  67,349 SST-2 training sentences, labels dropped, 4-layer 256-wide GLM (``backbone=glm-small``),
  one byte-level BPE tokenizer trained once on that corpus and given to every arm, the same
  steps, batch and optimizer for both objectives. Both run at once, one thread each.
* Arms: ``scratch`` (``backbone=glm-small``, random weights, the shared tokenizer), ``causal``
  and ``blank`` (``backbone=hf backbone.name_or_path=<export>``).
* Heads: ``cls`` (``GlmForSequenceClassification``: last token, causal attention, a new linear
  layer) and ``verbalizer`` (``task.head=verbalizer``: "<text> it was [MASK] ." scored by the LM
  logits of "bad"/"good"; GLM's prefix attention for the blank-infilling export, causal otherwise).
* SST-2: ``data.validation_size`` sentences carved out of the training file select the
  checkpoint (the framework's monitor); the labeled subset (``data.max_train_samples``) is drawn
  from the rest; both are drawn with ``data.seed`` = the run's seed, so every arm sees the same
  data for a seed. Accuracy is reported on the official SST-2 dev set (``data.test_file``),
  which nothing selects on. Learning rates: the ``--lrs`` grid is run for every arm and head;
  the one with the best mean *carved-validation* accuracy is reported (and used for the curve).
* Multi30k (``generation``): ``--mt-size`` training pairs, ``--mt-eval`` pairs carved out of the
  training file select the checkpoint (BLEU), BLEU/chrF on the first ``--mt-eval`` pairs of the
  official val set.
* Every run is ``python -m glmtasks ...`` with ``OMP_NUM_THREADS=1``, ``--jobs`` at a time; CPU
  seconds per run come from the child's rusage. Each finished run is added to
  ``bench/results/pretrain_finetune.json`` at once (a partial grid still gives numbers; finished
  runs are skipped when the script runs again).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("GLMTASKS_SHARED_DATA", BENCH.parent.parent / "shared" / "data")).resolve()
RESULTS = BENCH / "results" / "pretrain_finetune.json"
PLOT = BENCH / "pretrain_finetune.png"
ARMS = ("scratch", "causal", "blank")
HEADS = {
    "cls": ["task.head=sequence_classification"],
    "verbalizer": ["task.head=verbalizer", "+task.head_config.verbalizers={negative: bad, positive: good}",
                   "+task.head_config.prompt=' it was [MASK] .'"],
}
# The framework's default, spelled out: bf16-mixed for glm-small (256 wide) on CPUs with AVX512-BF16 or AMX
# (2.3x the fp32 pre-training steps per CPU-second on the recorded machine), fp32 elsewhere. Every arm runs in it.
PRECISION = "trainer.precision=auto"
_lock = threading.Lock()


# ---------------------------------------------------------------------------------------
# Running glmtasks and recording results.


def cli(overrides: list[str], out: Path, log: Path) -> tuple[dict, float, float]:
    """``python -m glmtasks <overrides>`` on one thread; (its metrics.json, CPU seconds, wall seconds)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    command = [sys.executable, "-m", "glmtasks", PRECISION, *overrides, f"paths.output_dir={out}", f"paths.shared_data={SHARED}",
               "callbacks.progress_bar=false"]
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("w") as stream:
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"glmtasks failed ({log}): {' '.join(overrides)}")
    metrics = sorted(out.rglob("metrics.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(metrics[-1].read_text()), usage.ru_utime + usage.ru_stime, wall


def load_results() -> dict:
    """The raw results recorded so far (``{"pretrain": {...}, "heldout": {...}, "runs": {key: record}}``)."""
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    return {"pretrain": {}, "heldout": {}, "runs": {}, **results}


def record(section: str, key: str, value: dict) -> None:
    """Add one result to ``bench/results/pretrain_finetune.json`` (thread-safe, rewritten at once)."""
    with _lock:
        results = load_results()
        results[section][key] = value
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        temporary = RESULTS.with_suffix(".tmp")
        temporary.write_text(json.dumps(results, indent=1) + "\n")
        temporary.replace(RESULTS)


def in_process(overrides: list[str], out: Path) -> dict:
    """One glmtasks run in this process (the CLI's compose + run), for exports."""
    from omegaconf import OmegaConf

    from glmtasks.cli import compose, validate
    from glmtasks.run import run as run_mode

    raw = compose([PRECISION, *overrides, f"paths.output_dir={out}", f"paths.shared_data={SHARED}", "callbacks.progress_bar=false"])
    return run_mode(validate(OmegaConf.to_container(raw, resolve=True)))


# ---------------------------------------------------------------------------------------
# Stages.


def pretrain(args: argparse.Namespace) -> None:
    """The shared tokenizer (trained once on the corpus), then both objectives in parallel; exports of every checkpoint."""
    out = args.out / "pretrain"
    tokenizer = args.out / "tokenizer"
    if not (tokenizer / "tokenizer.json").is_file():
        in_process(["experiment=pretrain_sst2_blank", "trainer.max_steps=1", "trainer.val_check_interval=1", "data.max_eval_samples=1",
                    "export=false"], out / "tokenizer-run")
        shutil.copytree(next((out / "tokenizer-run").rglob("tokenizer")), tokenizer)

    def one(objective: str) -> None:
        if objective in load_results()["pretrain"]:
            return
        run_out = out / objective
        metrics, cpu, wall = cli([f"experiment=pretrain_sst2_{objective}", f"trainer.max_steps={args.pretrain_steps}",
                                  f"trainer.val_check_interval={args.pretrain_steps // 4}", f"backbone.tokenizer={tokenizer}"],
                                 run_out, args.out / "logs" / f"pretrain-{objective}.log")
        record("pretrain", objective, {"cpu_minutes": round(cpu / 60, 1), "wall_minutes": round(wall / 60, 1), "steps": metrics["global_steps"],
                                       "run_dir": metrics["run_dir"], "val_perplexity": metrics["val"].get("val/perplexity"),
                                       "curve": perplexity_curve(Path(metrics["run_dir"]))})

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, ["blank", "causal"]))
    for objective in ("blank", "causal"):
        for step, _ in checkpoints(objective):
            export_of(args, objective, step)


def heldout(args: argparse.Namespace) -> None:
    """Perplexity of every pre-training checkpoint on the SST-2 dev sentences (text only, never pre-trained on).

    The pre-training run's own validation blocks are the last 5% of SST-2 train, whose phrases are
    sub-phrases of the same reviews as the rest of the file, so they flatter memorization; dev is
    text no arm has seen. No arm is selected on this number: it is a diagnostic for the curve.
    """
    jobs = [(objective, step, path) for objective in ("blank", "causal") for step, path in checkpoints(objective)
            if f"{objective}@{step}" not in load_results()["heldout"]]

    def one(job: tuple[str, int, Path]) -> None:
        objective, step, path = job
        metrics, cpu, _ = cli(["task=pretrain", "data=sst2_text", "mode=evaluate", f"checkpoint={path}", "data.max_eval_samples=null",
                               "data.validation_files=[${paths.shared_data}/sst2/dev.tsv]"],
                              args.out / "heldout" / f"{objective}-{step}", args.out / "logs" / f"heldout-{objective}-{step}.log")
        record("heldout", f"{objective}@{step}", {"objective": objective, "step": step, "cpu_minutes": round(cpu / 60, 2),
                                                  "dev_perplexity": round(metrics["metrics"]["val/perplexity"], 2)})

    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, jobs))


def perplexity_curve(run_dir: Path) -> list[dict]:
    """Validation perplexity by step, from the run's CSV log."""
    import csv

    rows = []
    for log in sorted(run_dir.glob("logs/**/metrics.csv")):
        rows += [{"step": int(r["step"]) + 1, "val_perplexity": round(float(r["val/perplexity"]), 2)} for r in csv.DictReader(log.open())
                 if r.get("val/perplexity")]
    return rows


def checkpoints(objective: str) -> list[tuple[int, Path]]:
    """(step, checkpoint) of every validated checkpoint of a pre-training run (``best-<epoch>-<step>.ckpt``)."""
    info = load_results()["pretrain"].get(objective)
    if not info:
        return []
    found = [(int(p.stem.split("-")[-1]), p) for p in (Path(info["run_dir"]) / "checkpoints").glob("best-*.ckpt")]
    return sorted(found)


def export_of(args: argparse.Namespace, objective: str, step: int | None = None) -> Path:
    """The export of ``objective``'s pre-training at ``step`` (default: the last), made once."""
    found = dict(checkpoints(objective))
    if not found:
        raise SystemExit(f"no pre-training checkpoints for {objective}: run `python bench/pretrain_finetune.py pretrain` first")
    step = max(found) if step is None else step
    target = args.out / "exports" / f"{objective}-{step}"
    if not (target / "config.json").is_file():
        result = in_process(["task=pretrain", "data=sst2_text", "mode=export", f"checkpoint={found[step]}"], args.out / "export-runs")
        shutil.copytree(result["export"], target, dirs_exist_ok=True)
    return target


def backbone(args: argparse.Namespace, arm: str, step: int | None = None) -> list[str]:
    """The overrides of an arm (pre-trained arms: the checkpoint of ``step``, default ``--pretrain-steps``);
    scratch = the same architecture and tokenizer with random weights."""
    if arm == "scratch":
        return ["backbone=glm-small", f"backbone.tokenizer={args.out / 'tokenizer'}"]
    return ["backbone=hf", f"backbone.name_or_path={export_of(args, arm, args.pretrain_steps if step is None else step)}"]


def sst2_overrides(size: int, seed: int, lr: float, epochs: int, validation_size: int) -> list[str]:
    """SST-2 with a carved-out validation split (selection) and the official dev set as the reported test split."""
    return ["task=sentiment", "data=sst2", "data.validation_file=null", f"data.validation_size={validation_size}",
            "data.test_file=${paths.shared_data}/sst2/dev.tsv", f"data.max_train_samples={size}", f"data.seed={seed}", f"seed={seed}",
            f"trainer.max_epochs={epochs}", f"optimizer.lr={lr}", "scheduler.warmup_steps=0.1", "data.batch_size=32", "export=false",
            "callbacks.checkpoint.save_last=false"]


def run_jobs(args: argparse.Namespace, jobs: list[tuple[str, list[str], dict]]) -> None:
    """Run ``(key, overrides, description)`` jobs ``--jobs`` at a time; skip recorded keys; record each as it ends."""
    done = set(load_results()["runs"])
    todo = [job for job in jobs if job[0] not in done]
    print(f"{len(todo)} runs to do ({len(jobs) - len(todo)} recorded already)", flush=True)

    def one(job: tuple[str, list[str], dict]) -> None:
        key, overrides, description = job
        if args.deadline and time.time() > args.deadline:
            return
        out = args.out / "runs" / key
        try:
            metrics, cpu, wall = cli(overrides, out, args.out / "logs" / f"{key}.log")
        except RuntimeError as exc:
            print(exc, flush=True)
            return
        value = {**description, "val": metrics["val"], "test": metrics["test"], "steps": metrics["global_steps"],
                 "cpu_minutes": round(cpu / 60, 2), "wall_minutes": round(wall / 60, 2)}
        record("runs", key, value)
        shutil.rmtree(Path(metrics["run_dir"]) / "checkpoints", ignore_errors=True)
        print(f"{key}: {json.dumps({k: round(v, 4) for k, v in {**metrics['val'], **metrics['test']}.items() if 'loss' not in k})} "
              f"({cpu / 60:.1f} CPU-min)", flush=True)

    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, todo))


def finetune(args: argparse.Namespace) -> None:
    """The SST-2 grid: sizes x seeds x arms x heads x learning rates (the last pre-training step)."""
    jobs = []
    for size in args.sizes:
        for seed in args.seeds:
            for lr in args.lrs:
                for head in args.heads:
                    for arm in args.arms:
                        key = f"sst2-{size}-{arm}-{head}-lr{lr:g}-seed{seed}"
                        epochs = args.epochs if size >= 1000 else args.small_epochs
                        overrides = [*sst2_overrides(size, seed, lr, epochs, args.validation_size), *backbone(args, arm), *HEADS[head]]
                        jobs.append((key, overrides, {"task": "sst2", "size": size, "arm": arm, "head": head, "lr": lr, "seed": seed,
                                                      "pretrain_step": 0 if arm == "scratch" else args.pretrain_steps}))
    run_jobs(args, jobs)


def curve(args: argparse.Namespace) -> None:
    """Intermediate pre-training checkpoints fine-tuned like the final ones (the plot): every seed, each head at
    the learning rate the ``finetune`` grid chose for that arm and head on the carved-out split."""
    results = load_results()
    size = args.sizes[0]
    jobs = []
    for seed in args.seeds:
        for arm in ("blank", "causal"):
            for step, _ in checkpoints(arm):
                if step == args.pretrain_steps:
                    continue
                for head in args.heads:
                    lr = chosen_lr(results, "sst2", size, arm, head, args) or args.lrs[0]
                    key = f"sst2-{size}-{arm}@{step}-{head}-lr{lr:g}-seed{seed}"
                    overrides = [*sst2_overrides(size, seed, lr, args.epochs, args.validation_size), *backbone(args, arm, step), *HEADS[head]]
                    jobs.append((key, overrides, {"task": "sst2", "size": size, "arm": arm, "head": head, "lr": lr, "seed": seed,
                                                  "pretrain_step": step}))
    run_jobs(args, jobs)


def generation(args: argparse.Namespace) -> None:
    """Multi30k de->en: a training subset, validation carved from the training file, BLEU on the official val set."""
    jobs = []
    for seed in args.seeds:
        for lr in args.mt_lrs:
            for arm in args.arms:
                key = f"multi30k-{args.mt_size}-{arm}-lr{lr:g}-seed{seed}"
                overrides = ["task=translation", "data=multi30k", "data.validation_file=null", f"data.validation_size={args.mt_eval}",
                             "data.test_file='${paths.shared_data}/multi30k/val.{lang}.gz'", f"data.max_train_samples={args.mt_size}",
                             f"data.max_eval_samples={args.mt_eval}", f"data.seed={seed}", f"seed={seed}", f"trainer.max_epochs={args.mt_epochs}",
                             f"optimizer.lr={lr}", "scheduler.warmup_steps=0.1", "export=false", "callbacks.checkpoint.save_last=false",
                             *backbone(args, arm)]
                jobs.append((key, overrides, {"task": "multi30k", "size": args.mt_size, "arm": arm, "head": "prefix_lm", "lr": lr,
                                              "seed": seed, "pretrain_step": 0 if arm == "scratch" else args.pretrain_steps}))
    run_jobs(args, jobs)


# ---------------------------------------------------------------------------------------
# Summary.

METRIC = {"sst2": "accuracy", "multi30k": "sacrebleu"}


def final_runs(results: dict, task: str, size: int, arm: str, head: str, args: argparse.Namespace) -> dict[float, list[dict]]:
    """The runs of one arm and head on the last pre-training checkpoint (or scratch), by learning rate."""
    by_lr: dict[float, list[dict]] = {}
    for r in results["runs"].values():
        if (r["task"], r["size"], r["arm"], r["head"]) == (task, size, arm, head) and r["pretrain_step"] in (0, args.pretrain_steps):
            by_lr.setdefault(r["lr"], []).append(r)
    return by_lr


def chosen_lr(results: dict, task: str, size: int, arm: str, head: str, args: argparse.Namespace) -> float | None:
    """The learning rate with the best mean *carved-validation* score among those run with every seed
    (the reported split plays no part); ``None`` before any run."""
    by_lr = final_runs(results, task, size, arm, head, args)
    if not by_lr:
        return None
    name = f"val/{METRIC[task]}"
    return max(by_lr, key=lambda lr: (len(by_lr[lr]) >= len(args.seeds), statistics.mean(r["val"][name] for r in by_lr[lr])))


def mean_std(values: list[float], digits: int = 4) -> str:
    """``mean ± sample std (n)``."""
    if len(values) < 2:
        return f"{values[0]:.{digits}f} (n=1)" if values else "-"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f} (n={len(values)})"


def std(values: list[float]) -> float:
    """The sample std (nan below two values)."""
    return statistics.stdev(values) if len(values) > 1 else float("nan")


def summary(args: argparse.Namespace) -> None:
    """Tables (markdown, printed), the bar check and the plot from the recorded results.

    For each task, size, arm and head, the learning rate with the best mean carved-validation score is
    chosen; its reported scores (test = SST-2 dev / Multi30k val) are listed.
    """
    results = load_results()
    keys = sorted({(r["task"], r["size"], r["arm"], r["head"]) for r in results["runs"].values()},
                  key=lambda k: (k[0], -k[1], k[3], ARMS.index(k[2])))
    lines = ["| task | labeled | arm | head | lr (chosen on carved val) | lrs tried | carved val | **reported** (SST-2 dev / Multi30k val) "
             "| chrF (Multi30k) | CPU-min per run |", "|---|---|---|---|---|---|---|---|---|---|"]
    chosen: dict[tuple, dict[int, dict]] = {}
    for task, size, arm, head in keys:
        by_lr = final_runs(results, task, size, arm, head, args)
        if not by_lr:
            continue
        lr = chosen_lr(results, task, size, arm, head, args)
        rows = sorted(by_lr[lr], key=lambda r: r["seed"])
        chosen[(task, size, arm, head)] = {r["seed"]: r for r in rows}
        name = METRIC[task]
        val = [r["val"][f"val/{name}"] for r in rows]
        test = [r["test"][f"test/{name}"] for r in rows]
        chrf = mean_std([r["test"]["test/chrf"] for r in rows], 2) if task == "multi30k" else ""
        cpu = statistics.mean(r["cpu_minutes"] for r in rows)
        lines.append(f"| {task} | {size} | {arm} | {head} | {lr:g} | {', '.join(f'{x:g}' for x in sorted(by_lr))} | {mean_std(val)} "
                     f"| **{mean_std(test)}** | {chrf} | {cpu:.2f} |")
    print("\n".join(lines) + "\n")
    for (task, size, arm, head), rows in chosen.items():
        base = chosen.get((task, size, "scratch", head))
        if arm == "scratch" or not base:
            continue
        name = f"test/{METRIC[task]}"
        diffs = [rows[s]["test"][name] - base[s]["test"][name] for s in sorted(rows) if s in base]
        own, ref = [r["test"][name] for r in rows.values()], [r["test"][name] for r in base.values()]
        margin = statistics.mean(own) - statistics.mean(ref)
        bar = 3 * max(std(own), std(ref))
        print(f"{task} {size} {head}: {arm} - scratch = {margin:+.4f} (paired by seed: {', '.join(f'{d:+.4f}' for d in diffs)}); "
              f"seeds' std: scratch {std(ref):.4f}, {arm} {std(own):.4f}; 3 x the larger = {bar:.4f} -> "
              f"{'MET' if margin > bar else 'not met'}")
    for objective, info in results["pretrain"].items():
        dev = {h["step"]: h["dev_perplexity"] for h in results["heldout"].values() if h["objective"] == objective}
        held_out = {c["step"]: c["val_perplexity"] for c in info["curve"] if c["step"] <= info["steps"]}  # (the test pass logs at steps + 1)
        print(f"pre-training {objective}: {info['steps']} steps, {info['cpu_minutes']} CPU-min, {info['wall_minutes']} wall-min; "
              f"held-out train blocks' perplexity by step {held_out}; SST-2 dev sentences' perplexity by step {dict(sorted(dev.items()))}")
    print()
    curve_table(args, results)
    step_chosen_on_carved_split(args, results)
    plot(args, results)


def curve_runs(args: argparse.Namespace, results: dict, arm: str, head: str) -> dict[int, list[dict]]:
    """Pre-training step -> the SST-2 runs over seeds for one objective and head (0 = scratch):
    scratch and the last step at the learning rate chosen for them, intermediate steps at the one
    they were run with (the ``curve`` stage runs one: the rate chosen when it ran)."""
    size = args.sizes[0]
    lrs = {a: chosen_lr(results, "sst2", size, a, head, args) for a in ("scratch", arm)}
    runs: dict[int, list[dict]] = {}
    for r in results["runs"].values():
        if r["task"] != "sst2" or r["size"] != size or r["head"] != head or r["arm"] not in lrs:
            continue
        if r["pretrain_step"] not in (0, args.pretrain_steps) or r["lr"] == lrs[r["arm"]]:
            runs.setdefault(r["pretrain_step"], []).append(r)
    return dict(sorted(runs.items()))


def curve_points(args: argparse.Namespace, results: dict, arm: str, head: str) -> dict[int, list[float]]:
    """Pre-training step -> SST-2 dev accuracies over seeds (see :func:`curve_runs`)."""
    return {step: [r["test"]["test/accuracy"] for r in runs] for step, runs in curve_runs(args, results, arm, head).items()}


def step_chosen_on_carved_split(args: argparse.Namespace, results: dict) -> None:
    """The pre-training checkpoint as a hyperparameter: for each objective and head, the step whose
    runs have the best mean carved-validation accuracy, and its SST-2 dev accuracy against scratch."""
    for head in args.heads:
        for arm in ("blank", "causal"):
            runs = curve_runs(args, results, arm, head)
            scratch = runs.pop(0, [])
            complete = {step: rs for step, rs in runs.items() if len(rs) >= len(args.seeds)}
            if not complete or len(scratch) < 2:
                continue
            step = max(complete, key=lambda k: statistics.mean(r["val"]["val/accuracy"] for r in complete[k]))
            own = [r["test"]["test/accuracy"] for r in complete[step]]
            ref = [r["test"]["test/accuracy"] for r in scratch]
            margin, bar = statistics.mean(own) - statistics.mean(ref), 3 * max(std(own), std(ref))
            print(f"{head} {arm}: step {step} chosen on the carved split -> SST-2 dev {mean_std(own)}; - scratch = {margin:+.4f}; "
                  f"3 x the larger seeds' std = {bar:.4f} -> {'MET' if margin > bar else 'not met'}")
    print()


def curve_table(args: argparse.Namespace, results: dict) -> None:
    """The plot's numbers as a markdown table."""
    steps = sorted({r["pretrain_step"] for r in results["runs"].values() if r["task"] == "sst2"})
    print("| head | objective | " + " | ".join(str(s) for s in steps) + " |")
    print("|---|---|" + "---|" * len(steps))
    for head in args.heads:
        for arm in ("blank", "causal"):
            points = curve_points(args, results, arm, head)
            print(f"| {head} | {arm} | " + " | ".join(mean_std(points[s], 3) if s in points else "-" for s in steps) + " |")
    print()


def seed_range(points: dict[int, list[float]]) -> str:
    """How many seeds the points have: ``3`` or ``3-5``."""
    counts = sorted({len(v) for v in points.values()})
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"


def plot(args: argparse.Namespace, results: dict) -> None:
    """Pre-training steps -> SST-2 dev accuracy (mean ± std over seeds), one line per objective and head."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7.5, 4.5))
    for offset, head in enumerate(args.heads):
        for arm, style in (("blank", "-"), ("causal", "--")):
            points = curve_points(args, results, arm, head)
            if len(points) < 2:
                continue
            steps = [s + 60 * offset for s in points]  # heads side by side, so the error bars do not overlap
            ax.errorbar(steps, [statistics.mean(v) for v in points.values()], yerr=[std(v) if len(v) > 1 else 0 for v in points.values()],
                        marker="os"[offset % 2], linestyle=style, capsize=3,
                        label=f"{arm}, {head} head (mean ± std, {seed_range(points)} seeds)")
    ax.set_xlabel("pre-training steps (0 = from scratch; batch 16 x 128 tokens)")
    ax.set_ylabel(f"SST-2 dev accuracy ({args.sizes[0]} labeled)")
    ax.set_title("pre-training on unlabeled SST-2 train sentences -> fine-tuning")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(PLOT, dpi=110)
    print(f"plot: {PLOT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["all", "pretrain", "heldout", "finetune", "curve", "generation", "summary"])
    parser.add_argument("--out", type=Path, default=Path("/tmp/glmtasks-bench-pretrain"))
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time, one thread each")
    parser.add_argument("--pretrain-steps", type=int, default=8000, help="pre-training steps; later stages use the checkpoint of this step")
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    parser.add_argument("--heads", nargs="+", default=list(HEADS), choices=list(HEADS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 500])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=4, help="fine-tuning epochs for subsets of 1,000 or more")
    parser.add_argument("--small-epochs", type=int, default=10, help="fine-tuning epochs for smaller subsets")
    parser.add_argument("--validation-size", type=int, default=1000, help="SST-2 training sentences carved out to select the checkpoint")
    parser.add_argument("--lrs", type=float, nargs="+", default=[2e-4, 5e-4, 1e-3], help="SST-2 learning-rate grid, run for every arm and head")
    parser.add_argument("--mt-lrs", type=float, nargs="+", default=[1e-3], help="Multi30k learning-rate grid")
    parser.add_argument("--mt-size", type=int, default=4000, help="Multi30k training pairs")
    parser.add_argument("--mt-epochs", type=int, default=4)
    parser.add_argument("--mt-eval", type=int, default=500, help="pairs carved out of train (selection) and of the official val set (reported)")
    parser.add_argument("--deadline", type=float, default=None, help="unix time after which no new run starts")
    args = parser.parse_args()
    args.out = args.out.resolve()
    stages = ["pretrain", "heldout", "finetune", "curve", "generation", "summary"] if args.stage == "all" else [args.stage]
    for stage in stages:
        globals()[stage](args)


if __name__ == "__main__":
    main()
