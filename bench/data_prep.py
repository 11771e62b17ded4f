"""Data preparation on the full SST-2 train set (67,349 sentences) plus dev: a first run
(empty ``datasets`` cache) against a second run with the cache the first one left.

Each run is its own process doing what ``python -m glmtasks task=sentiment data=sst2
backbone=minilm`` does before training: build the datamodule (read the tsv files through
``datasets``, encode the labels), load the tokenizer, ``setup`` (tokenize every split),
and build the training DataLoader (token lengths for the length-grouped sampler).
``HF_DATASETS_CACHE`` and ``GLMTASKS_CACHE`` (encoded splits) point at a fresh folder for the first run and at the same folder for
the second. Repeated ``--reps`` times, each pair with a new folder.

    python bench/data_prep.py --reps 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_DIR, median, now, pin_threads, run_clean, thread_env, write_result  # noqa: E402


def prepare(out: str) -> None:
    started = now()
    pin_threads()
    from omegaconf import OmegaConf

    from glmtasks.backbone import load_tokenizer
    from glmtasks.cli import _quiet_libraries, compose, validate
    from glmtasks.registry import default_registry
    from glmtasks.run import build_datamodule, resolve_task

    _quiet_libraries()
    t_import = now()
    config = validate(OmegaConf.to_container(compose(["task=sentiment", "data=sst2", "backbone=minilm", "++data.max_length=128"]), resolve=True))
    registry = default_registry()
    task = resolve_task(config, registry)
    t0 = now()
    datamodule = build_datamodule(config, task, registry)
    t1 = now()
    tokenizer = load_tokenizer(config.backbone)
    datamodule.set_tokenizer(tokenizer)
    t2 = now()
    datamodule.setup("fit")
    t3 = now()
    loader = datamodule.train_dataloader()
    datamodule.val_dataloader()
    t4 = now()
    write_result(out, {
        "train_examples": len(datamodule.features["train"]), "validation_examples": len(datamodule.features["validation"]),
        "train_batches": len(loader), "import_seconds": round(t_import - started, 3), "config_seconds": round(t0 - t_import, 3),
        "read_seconds": round(t1 - t0, 3), "tokenizer_load_seconds": round(t2 - t1, 3), "tokenize_seconds": round(t3 - t2, 3),
        "loaders_seconds": round(t4 - t3, 3), "prepare_seconds": round(t4 - t0, 3),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-wait", action="store_true")
    parser.add_argument("--out", help="default: bench/results/data_prep.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        prepare(args.child)
        return
    started = time.time()
    out = Path(args.out or BENCH_DIR / "results" / "data_prep.json")
    logs = out.parent / "logs"
    runs: dict[str, list] = {"first": [], "cached": []}
    for rep in range(args.reps):
        with tempfile.TemporaryDirectory() as cache:
            env = {**thread_env(), "HF_DATASETS_CACHE": cache, "GLMTASKS_CACHE": cache}
            for name in ("first", "cached"):
                result_file = logs / f"data_prep_{name}_rep{rep}.json"
                measured = run_clean([sys.executable, __file__, "--child", str(result_file)],
                                        logs / f"data_prep_{name}_rep{rep}.log", env=env, quiet=not args.no_wait)
                if measured["returncode"] != 0:
                    raise SystemExit(f"data prep failed; see {logs}/data_prep_{name}_rep{rep}.log")
                result = {**json.loads(result_file.read_text()), **measured, "rep": rep,
                          "cache_mb": round(sum(f.stat().st_size for f in Path(cache).rglob("*") if f.is_file()) / 2**20, 1)}
                runs[name].append(result)
                print(f"[{time.strftime('%H:%M:%S')}] {name}: prepare {result['prepare_seconds']:.2f} s (read "
                      f"{result['read_seconds']:.2f}, tokenize {result['tokenize_seconds']:.2f}, loaders "
                      f"{result['loaders_seconds']:.2f}); process {result['process_seconds']:.1f} s", flush=True)
    keys = ("prepare_seconds", "read_seconds", "tokenize_seconds", "loaders_seconds", "process_seconds", "peak_rss_mb", "cache_mb")
    summary = {name: {k: {"median": median([r[k] for r in rs]), "min": min(r[k] for r in rs), "max": max(r[k] for r in rs)} for k in keys}
               for name, rs in runs.items()}
    payload = {"reps": args.reps, "runs": runs, "summary": summary, "driver_seconds": round(time.time() - started, 1),
               "command": "python bench/data_prep.py --reps N"}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out} in {payload['driver_seconds']:.0f} s")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
