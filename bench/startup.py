"""Start-up: wall time of ``python -m glmtasks --help`` and ``python -m glmtasks plugins`` against
``python -c "import lightning, transformers"`` (and a bare ``python -c pass`` for reference).

Each command runs ``--reps`` times (interleaved, each on a quiet machine, warm file cache:
one unmeasured run of each first); the median and range are reported.

    python bench/startup.py --reps 7
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_DIR, median, run_clean, run_measured  # noqa: E402

COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "python -m glmtasks --help": ["-m", "glmtasks", "--help"],
    "python -m glmtasks plugins": ["-m", "glmtasks", "plugins"],
    'python -c "import lightning, transformers"': ["-c", "import lightning, transformers"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--no-wait", action="store_true")
    parser.add_argument("--out", help="default: bench/results/startup.json")
    args = parser.parse_args()
    started = time.time()
    out = Path(args.out or BENCH_DIR / "results" / "startup.json")
    logs = out.parent / "logs"
    runs: dict[str, list] = {name: [] for name in COMMANDS}
    for name, argv in COMMANDS.items():  # warm the page cache; not measured
        run_measured([sys.executable, *argv], logs / "startup_warmup.log", quiet=False)
    for rep in range(args.reps):
        for name, argv in COMMANDS.items():
            measured = run_clean([sys.executable, *argv], logs / "startup.log", quiet=not args.no_wait,
                                    max_busy=0.1, max_load=0.5)
            if measured["returncode"] != 0:
                raise SystemExit(f"{name} failed: see {logs / 'startup.log'}")
            runs[name].append(measured)
        print(f"[{time.strftime('%H:%M:%S')}] rep {rep + 1}/{args.reps}: "
              + ", ".join(f"{n} {runs[n][-1]['process_seconds']:.2f}s" for n in COMMANDS), flush=True)
    summary = {name: {"median_s": median([r["process_seconds"] for r in rs]),
                      "min_s": min(r["process_seconds"] for r in rs), "max_s": max(r["process_seconds"] for r in rs),
                      "peak_rss_mb": median([r["peak_rss_mb"] for r in rs])}
               for name, rs in runs.items()}
    payload = {"reps": args.reps, "runs": runs, "summary": summary, "driver_seconds": round(time.time() - started, 1)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n")
    for name, s in summary.items():
        print(f"{name:<45} {s['median_s']:6.2f} s  ({s['min_s']:.2f}-{s['max_s']:.2f})  RSS {s['peak_rss_mb']:.0f} MB")
    print(f"wrote {out} in {payload['driver_seconds']:.0f} s")


if __name__ == "__main__":
    main()
