"""Run every glmtasks benchmark and regenerate ``bench/RESULTS.md`` and ``bench/throughput.png``.

    python bench/run_all.py                 # everything (about 45-60 minutes on a quiet 2-core machine)
    python bench/run_all.py --reps 1        # quicker, no spread
    python bench/run_all.py --report-only   # rewrite RESULTS.md and the plot from bench/results/*.json

Every measurement waits for a quiet machine first (see ``common.wait_for_quiet``), so on a
busy machine the command takes longer rather than reporting polluted numbers. Steps:

1. ``startup.py``            start-up of the CLI against importing Lightning and transformers
2. ``data_prep.py``          full SST-2: first run against a cached second run
3. ``train_throughput.py``   MiniLM on SST-2: glmtasks, Trainer (default, group_by_length), plain loop
4. ``train_throughput.py``   glm-tiny on SST-2: the same four
5. ``predict_throughput.py`` glmtasks mode=predict against transformers.pipeline
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_DIR, THREADS, cpu_model, thread_env, versions  # noqa: E402

RESULTS = BENCH_DIR / "results"
PLOT = BENCH_DIR / "throughput.png"
REPORT = BENCH_DIR / "RESULTS.md"
TRAINER_CONFIGS = ("hf-trainer", "hf-trainer-grouped", "hf-trainer-grouped-workers1")
# MiniLM: the default four, the same three under bf16 autocast (this CPU has AMX-BF16), and
# glmtasks with torch's for-loop AdamW (what the fused CPU kernel bought, bench/optimizations.md).
MINILM_CONFIGS = ("glmtasks", "hf-trainer", "hf-trainer-grouped", "plain", "glmtasks-bf16", "hf-trainer-grouped-bf16",
                  "plain-bf16", "glmtasks-forloop-adamw")


def step(args: list[str]) -> None:
    print(f"\n=== python bench/{' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(BENCH_DIR / args[0]), *args[1:]], check=True, env=thread_env())


def load(name: str):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def fmt_range(s: dict, digits: int = 1) -> str:
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def train_section(data: dict, title: str) -> tuple[list[str], dict]:
    w = data["workload"]
    s = data["summary"]
    lines = [
        f"### {title}",
        "",
        f"{w['train_samples']:,} SST-2 training sentences (the first of `shuffle(seed={w['data_seed']})`), 1 epoch = "
        f"{s[next(iter(s))]['steps']} steps of batch {w['batch_size']}, max length {w['max_length']}, AdamW lr {w['lr']:g} "
        f"(weight decay {w['weight_decay']:g}, not on biases/LayerNorm), linear schedule with {w['warmup']:.0%} warmup, "
        f"gradient clipping {w['max_grad_norm']:g}, dropout on, seed {w['seed']}; dev accuracy on all 872 SST-2 dev sentences. "
        f"{data['reps']} interleaved repetitions per configuration: median (min–max).",
        "",
        "| configuration | train samples/s | real tokens/s | padding | peak RSS MB | dev accuracy | process s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, v in s.items():
        pad = f"{v['padding_share']:.1%}" if v.get("padding_share") is not None else "n/a"
        lines.append(
            f"| {name} | {fmt_range(v['train_samples_per_second'], 2)} | {fmt_range(v['train_tokens_per_second'], 0)} | {pad} | "
            f"{v['peak_rss_mb']['median']:.0f} | {fmt_range(v['dev_accuracy'], 4)} | {v['process_seconds']['median']:.0f} |"
        )
    ratios = {}
    g = s.get("glmtasks", {}).get("train_samples_per_second", {}).get("median")
    trainers = {n: s[n]["train_samples_per_second"]["median"] for n in TRAINER_CONFIGS if n in s}
    if g and trainers:
        best = max(trainers, key=trainers.get)
        ratios["glmtasks / best Trainer"] = (g / trainers[best], best)
        if "hf-trainer" in trainers:
            ratios["glmtasks / Trainer default"] = (g / trainers["hf-trainer"], "hf-trainer")
    if g and "plain" in s:
        ratios["glmtasks / plain loop"] = (g / s["plain"]["train_samples_per_second"]["median"], "plain")
    b = s.get("glmtasks-bf16", {}).get("train_samples_per_second", {}).get("median")
    for other in ("hf-trainer-grouped-bf16", "plain-bf16"):
        if b and other in s:
            ratios[f"glmtasks-bf16 / {other}"] = (b / s[other]["train_samples_per_second"]["median"], other)
    if ratios:
        lines += ["", "Ratios of median train samples/s: " + "; ".join(f"**{k}** ({ref}) = {v:.2f}" for k, (v, ref) in ratios.items()) + "."]
    max_foreign = max(v.get("foreign_cpu_share_max", 0) for v in s.values())
    lines += ["", f"Largest share of the 2 cores used by other processes during any run: {max_foreign:.1%}.", "", "Commands:", ""]
    lines += [f"- {name}: `{cmd}`" for name, cmd in data["commands"].items()]
    return lines + [""], ratios


def plot(train: dict, predict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(f"train: {m}", data["summary"], "train_samples_per_second") for m, data in train.items()]
    if predict:
        panels.append(("predict: MiniLM", predict["summary"], "predict_samples_per_second"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2))
    axes = [axes] if len(panels) == 1 else axes
    for ax, (title, summary, key) in zip(axes, panels):
        names = list(summary)
        med = [summary[n][key]["median"] for n in names]
        err = [[m - summary[n][key]["min"] for n, m in zip(names, med)], [summary[n][key]["max"] - m for n, m in zip(names, med)]]
        colors = ["tab:green" if n.startswith("glmtasks") else "tab:blue" if n.startswith("hf") or n.startswith("pipeline") else "tab:gray" for n in names]
        ax.bar(range(len(names)), med, yerr=err, color=colors, capsize=4)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("samples/s" if key.startswith("train") else "texts/s (prediction loop)")
        ax.set_title(title)
        for i, m in enumerate(med):
            ax.text(i, m, f"{m:.1f}", ha="center", va="bottom", fontsize=8)
    fig.suptitle(f"glmtasks vs HF Trainer vs plain PyTorch ({cpu_model()}, {THREADS} threads); median, bars = range")
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)


def report() -> None:
    window = load("run_all.json")  # when the last full run measured
    train = {m: d for m in ("minilm", "glm-tiny") if (d := load(f"train_{m}.json"))}
    predict, startup, prep = load("predict.json"), load("startup.json"), load("data_prep.json")
    v = versions()
    mem_gb = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    lines = [
        "# Benchmarks: glmtasks vs the Hugging Face Trainer vs a plain PyTorch loop",
        "",
        "Generated by `python bench/run_all.py` (issue #8)"
        + (f": the measurements took {window['minutes']} minutes ({window['started']}–{window['ended']} UTC, waiting for a "
           "quiet machine included); the tables are built from `bench/results/*.json` (`--report-only` rebuilds them)."
           if window else " (`--report-only`: tables rebuilt from `bench/results/*.json`)."),
        "",
        f"**Machine:** {cpu_model()}, {THREADS} cores (KVM guest), {mem_gb:.0f} GiB RAM, no GPU; every implementation "
        f"pinned to {THREADS} intra-op threads (`torch.set_num_threads({THREADS})`, `OMP_NUM_THREADS={THREADS}`).",
        "**Versions:** " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        "**Method.** Each configuration runs in its own process; repetitions are interleaved; a run starts only when, "
        "over a 5 s sample, less than 0.15 of a core is busy and the 1-minute load average (minus what the previous "
        "benchmark process left in it) is below 0.5; the CPU time other processes used during each run is recorded. "
        "*Train samples/s* counts from just before the first training batch is fetched to just after the last optimizer "
        "step (data loading and collation included; evaluation, checkpoint writing, model loading and tokenization "
        "excluded, the same rule in all three). *Real tokens* are non-padding tokens. *Peak RSS* is the process's "
        "maximum resident set (`wait4`). *Process s* is the wall time of the whole process: imports, model load, "
        "tokenization, training, evaluation and, for glmtasks, its checkpoints, the test-split evaluation, test "
        "predictions and export (the best checkpoint is reloaded and re-validated only when it is not the final weights).",
        "",
        "## 1. Training throughput",
        "",
    ]
    all_ratios = {}
    for model, data in train.items():
        section, ratios = train_section(data, {"minilm": "MiniLM (all-MiniLM-L6-v2, 22.7M parameters)", "glm-tiny": "glm-tiny (2-layer GLM from a config, BPE tokenizer trained on the subset)"}[model])
        lines += section
        all_ratios[model] = ratios
    if predict:
        s = predict["summary"]
        lines += ["## 2. Prediction throughput", "",
                  f"{predict['texts']:,} texts ({predict['inputs']}), export: {predict['export']}. {predict['reps']} "
                  "interleaved repetitions, median (min–max). *Loop*: the prediction itself (glmtasks: `predict_seconds` "
                  "of metrics.json, which covers tokenization, batching and writing predictions.jsonl; pipeline: the "
                  "`classifier(texts, ...)` call). *Process*: the whole command.", "",
                  "| implementation | texts/s (loop) | process s | texts/s (process) | peak RSS MB | dev accuracy |",
                  "|---|---|---|---|---|---|"]
        for name, v in s.items():
            accuracy = v.get("dev_accuracy", {}).get("median")
            lines.append(f"| {name} | {fmt_range(v['predict_samples_per_second'])} | {fmt_range(v['process_seconds'])} | "
                         f"{v['process_samples_per_second']['median']:.1f} | {v['peak_rss_mb']['median']:.0f} | "
                         f"{'' if accuracy is None else f'{accuracy:.4f}'} |")
        lines += ["", "*Dev accuracy*: of the predictions for the 872 distinct dev sentences (the first copy of the inputs).", ""]
        lines += [f"- {g} / {n}: **{s[g]['predict_samples_per_second']['median'] / s[n]['predict_samples_per_second']['median']:.2f}×** "
                  f"in the loop, {s[n]['process_seconds']['median'] / s[g]['process_seconds']['median']:.2f}× by process time"
                  for g, n in predict_pairs(s)]
        lines += ["", "Commands:", ""] + [f"- {n}: `{c}`" for n, c in predict["commands"].items()] + [""]
    if startup:
        lines += ["## 3. Start-up", "", f"Wall time, {startup['reps']} repetitions, median (min–max), warm file cache.", "",
                  "| command | seconds | peak RSS MB |", "|---|---|---|"]
        for name, s in startup["summary"].items():
            lines.append(f"| `{name}` | {s['median_s']:.2f} ({s['min_s']:.2f}–{s['max_s']:.2f}) | {s['peak_rss_mb']:.0f} |")
        lines.append("")
    if prep:
        lines += ["## 4. Data preparation (full SST-2 train, 67,349 sentences, + dev)", "",
                  "What a glmtasks run does before its first step: read the tsv files through `datasets` and encode labels, "
                  "tokenize every split (MiniLM's fast tokenizer), compute the lengths for the length-grouped sampler. "
                  f"First run: empty `HF_DATASETS_CACHE`; cached: the second run on the cache the first one left. "
                  f"{prep['reps']} pairs, median (min–max) seconds.", "",
                  "| run | prepare | read | tokenize | loaders | process | cache MB |", "|---|---|---|---|---|---|---|"]
        for name, s in prep["summary"].items():
            lines.append(f"| {name} | {fmt_range(s['prepare_seconds'], 2)} | {fmt_range(s['read_seconds'], 2)} | "
                         f"{fmt_range(s['tokenize_seconds'], 2)} | {fmt_range(s['loaders_seconds'], 2)} | "
                         f"{fmt_range(s['process_seconds'], 1)} | {s['cache_mb']['median']:.0f} |")
        lines += ["", f"Command: `{prep['command']}`", ""]
    lines += targets(train, predict, startup, all_ratios)
    for name in ("defaults.md", "optimizations.md"):  # hand-written sections kept in every regeneration
        notes = BENCH_DIR / name
        if notes.is_file():
            lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
    if train or predict:
        plot(train, predict)
        lines += ["## Plot", "", f"![throughput]({PLOT.name})", ""]
    REPORT.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {REPORT}" + (f" and {PLOT}" if train or predict else ""))


def predict_pairs(summary: dict) -> list[tuple[str, str]]:
    """(glmtasks configuration, pipeline configuration) pairs at the same precision (fp32 or bf16)."""
    bf16 = lambda name: name.endswith("-bf16")  # noqa: E731
    ours = [n for n in summary if n.startswith("glmtasks")]
    return [(g, n) for g in ours for n in summary if n.startswith("pipeline") and bf16(n) == bf16(g)]


def targets(train, predict, startup, ratios) -> list[str]:
    rows = []
    m = ratios.get("minilm", {})
    if "glmtasks / best Trainer" in m:
        val, ref = m["glmtasks / best Trainer"]
        acc = train["minilm"]["summary"]
        ok_acc = acc["glmtasks"]["dev_accuracy"]["median"] >= acc[ref]["dev_accuracy"]["median"]
        rows.append(("≥ 1.3× the Trainer's best configuration (samples/s), equal or better dev accuracy",
                     f"{val:.2f}× ({ref}); dev accuracy {acc['glmtasks']['dev_accuracy']['median']:.4f} vs "
                     f"{acc[ref]['dev_accuracy']['median']:.4f}", val >= 1.3 and ok_acc))
    if "glmtasks / plain loop" in m:
        val, _ = m["glmtasks / plain loop"]
        rows.append(("at most 3% slower than the plain loop", f"{val:.3f}× the plain loop", val >= 0.97))
    core = load("train_minilm_core6.json")  # the core configurations with more repetitions, if measured
    if core:
        s = core["summary"]
        val = s["glmtasks"]["train_samples_per_second"]["median"] / s["plain"]["train_samples_per_second"]["median"]
        rows.append((f"at most 3% slower than the plain loop ({core['reps']} repetitions, `train_minilm_core6.json`)",
                     f"{val:.3f}× the plain loop", val >= 0.97))
    if predict:
        s = predict["summary"]
        for g, n in predict_pairs(s):
            val = s[g]["predict_samples_per_second"]["median"] / s[n]["predict_samples_per_second"]["median"]
            rows.append((f"prediction ≥ 3× the pipeline ({g} / {n})", f"{val:.2f}×", val >= 3))
    if startup:
        h = startup["summary"]["python -m glmtasks --help"]["median_s"]
        rows.append(("`--help` under 1.5 s", f"{h:.2f} s", h < 1.5))
    if not rows:
        return []
    out = ["## Targets (issue #8, MiniLM workload)", "", "| target | measured | met |", "|---|---|---|"]
    out += [f"| {t} | {v} | {'yes' if ok else '**no**'} |" for t, v, ok in rows]
    return out + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--skip", default="", help="comma-separated: startup,data_prep,minilm,glm-tiny,predict")
    args = parser.parse_args()
    started = time.time()
    if not args.report_only:
        skip = set(args.skip.split(","))
        reps = ["--reps", str(args.reps)]
        if "startup" not in skip:
            step(["startup.py", "--reps", str(max(5, args.reps * 2 + 1))])
        if "data_prep" not in skip:
            step(["data_prep.py", *reps])
        if "minilm" not in skip:
            step(["train_throughput.py", "--model", "minilm", "--configs", ",".join(MINILM_CONFIGS), *reps])
        if "glm-tiny" not in skip:
            step(["train_throughput.py", "--model", "glm-tiny", *reps])
        if "predict" not in skip:
            step(["predict_throughput.py", *reps])
    if not args.report_only:
        window = {"started": time.strftime("%Y-%m-%d %H:%M", time.gmtime(started)),
                  "ended": time.strftime("%H:%M", time.gmtime()), "minutes": round((time.time() - started) / 60)}
        (RESULTS / "run_all.json").write_text(json.dumps(window, indent=2) + "\n")
    report()
    print(f"run_all took {(time.time() - started) / 60:.1f} minutes")


if __name__ == "__main__":
    main()
