"""``python -m glmtasks runs`` (list run directories) and ``compare`` (runs side by side, one plot of their curves).

Both only read files (:mod:`glmtasks.runinfo`): no torch, Lightning or transformers import, so
they answer in well under a second however many runs there are.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Optional, Sequence

from glmtasks.errors import ConfigError
from glmtasks.runinfo import RunFiles, find_runs

RUNS_USAGE = "python -m glmtasks runs [<output dir>] [task=<task>] [since=<2026-12-01 | 2026-12-01T14:00 | 3h | 2d>] [status=<status>]"
COMPARE_USAGE = "python -m glmtasks compare <run dir> <run dir> ... [out=<file.png>]"
HIDDEN_OVERRIDES = ("task=", "backbone=", "data=", "paths.", "hydra.")
"""Overrides not repeated in the overrides column (they have columns of their own, or only say where files go)."""
IGNORED_KEYS = ("paths.", "checkpoint", "resume")
"""Config keys ``compare`` does not report as differences (where a run was written, what it resumed from)."""
CURVE_PANELS = 6
OVERRIDES_WIDTH = 120


def default_output_dir() -> Path:
    """``paths.output_dir``'s default: ``$GLMTASKS_OUTPUT_DIR``, else ``outputs`` (conf/paths/default.yaml)."""
    return Path(os.environ.get("GLMTASKS_OUTPUT_DIR") or "outputs")


def parse_since(text: str) -> float:
    """A time (seconds since the epoch) from ``2026-12-01``, ``2026-12-01T14:00`` (or with a space), or an age: ``30m``, ``3h``, ``2d``, ``1w``."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([mhdw])", text.strip())
    if match:
        seconds = {"m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
        return time.time() - float(match.group(1)) * seconds
    try:
        return datetime.fromisoformat(text.strip().replace(" ", "T")).timestamp()
    except ValueError:
        raise ConfigError(f"since={text} is neither a date (since=2026-12-01, since=2026-12-01T14:00) nor an age (since=3h, since=2d)") from None


def _split_args(args: Sequence[str], keys: Sequence[str], usage: str) -> tuple[list[str], dict[str, str]]:
    positional, options = [], {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key in keys:
            options[key] = value
        elif sep:
            raise ConfigError(f"unknown option '{key}'; usage: {usage}")
        else:
            positional.append(arg)
    return positional, options


def select_runs(args: Sequence[str]) -> tuple[Path, list[RunFiles]]:
    """The output directory and its runs (newest first) after the ``task=``, ``since=`` and ``status=`` filters in ``args``."""
    positional, options = _split_args(args, ("task", "since", "status", "paths.output_dir", "dir"), RUNS_USAGE)
    if len(positional) > 1:
        raise ConfigError(f"runs takes one output directory, got {len(positional)}; usage: {RUNS_USAGE}")
    root = Path(options.get("dir") or options.get("paths.output_dir") or (positional[0] if positional else default_output_dir()))
    if not root.is_dir():
        raise ConfigError(f"no output directory {root}; pass the one your runs are in (python -m glmtasks runs <dir>, or set GLMTASKS_OUTPUT_DIR)")
    runs = find_runs(root)
    if "task" in options:
        wanted = set(options["task"].split(","))
        runs = [run for run in runs if run.task in wanted]
    if "since" in options:
        since = parse_since(options["since"])
        runs = [run for run in runs if run.started >= since]
    if "status" in options:
        runs = [run for run in runs if run.status == options["status"]]
    return root, runs


def data_name(run: RunFiles) -> str:
    """What data a run used: the ``data=`` option, else the training file, hub dataset or ``demo``."""
    for override in run.overrides:
        if override.startswith("data="):
            return override.split("=", 1)[1]
    data = run.config.get("data") or {}
    if data.get("source") == "demo":
        return "demo"
    if data.get("source") == "hub" and data.get("hub_dataset"):
        return str(data["hub_dataset"])
    if data.get("train_file"):
        return Path(str(data["train_file"])).name
    return str(data.get("source") or "?")


def key_overrides(run: RunFiles) -> str:
    """The run's overrides without the ones shown in other columns (cut at :data:`OVERRIDES_WIDTH` characters)."""
    text = " ".join(o for o in run.overrides if not o.lstrip("+~").startswith(HIDDEN_OVERRIDES))
    return text if len(text) <= OVERRIDES_WIDTH else text[: OVERRIDES_WIDTH - 3] + "..."


def format_seconds(seconds: Optional[float]) -> str:
    """``42s``, ``3m05s``, ``2h07m``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _monitor_text(run: RunFiles) -> str:
    name, value = run.monitor
    if name is None or not isinstance(value, (int, float)):
        return "-"
    return f"{name}={value:.4g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]


def format_runs(root: Path, runs: Sequence[RunFiles]) -> str:
    """The table ``python -m glmtasks runs`` prints, newest run first."""
    if not runs:
        return f"no runs under {root} (with these filters)"
    header = ("started", "status", "task", "mode", "backbone", "data", "monitored", "wall", "run", "overrides")
    rows = [
        (
            time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)), run.status, run.task, run.mode,
            str((run.config.get("backbone") or {}).get("name", "?")), data_name(run), _monitor_text(run),
            format_seconds(run.wall_seconds), _relative(run.path, root), key_overrides(run),
        )
        for run in runs
    ]
    return "\n".join(_table(header, rows) + [f"{len(runs)} run(s) under {root}"])


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------
# compare


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    """``{"optimizer.lr": 0.0005, ...}`` from nested dicts (lists stay values)."""
    if not isinstance(config, dict):
        return {prefix: config}
    flat: dict[str, Any] = {}
    for key, value in config.items():
        flat.update(flatten(value, f"{prefix}{key}.") if isinstance(value, dict) and value else {f"{prefix}{key}": value})
    return {k.rstrip("."): v for k, v in flat.items()}


def differing_keys(runs: Sequence[RunFiles]) -> list[tuple[str, list[Any]]]:
    """(config key, each run's value) for every key whose value is not the same in all runs."""
    flats = [flatten(run.config) for run in runs]
    missing = object()
    keys = sorted({key for flat in flats for key in flat if not key.startswith(IGNORED_KEYS)})
    found = []
    for key in keys:
        values = [flat.get(key, missing) for flat in flats]
        if any(repr(v) != repr(values[0]) for v in values[1:]):
            found.append((key, ["(absent)" if v is missing else v for v in values]))
    return found


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def run_labels(count: int) -> list[str]:
    """Column names of compared runs: A, B, ..., Z, AA, AB..."""
    labels = []
    for i in range(count):
        label, n = "", i
        while True:
            label = chr(ord("A") + n % 26) + label
            n = n // 26 - 1
            if n < 0:
                break
        labels.append(label)
    return labels


def curve_names(runs: Sequence[RunFiles]) -> list[str]:
    """Validation quantities to plot: the loss, the runs' monitored metrics, then the others, at most :data:`CURVE_PANELS`."""
    from glmtasks.report import curve_source

    names: set[str] = set()
    for run in runs:
        names |= {key for row in curve_source(run).history() for key in row if key.startswith("val/")}
    first = [n for n in ["val/loss", *(run.monitor[0] or "" for run in runs)] if n in names]
    ordered = list(dict.fromkeys(first + sorted(names)))
    return ordered[:CURVE_PANELS]


def _free_path(path: Path) -> Path:
    if not path.exists():
        return path
    for number in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        if not candidate.exists():
            return candidate
    return path


def plot_curves(runs: Sequence[RunFiles], labels: Sequence[str], path: Path) -> tuple[Optional[Path], str]:
    """One figure of the runs' validation curves (a panel per metric, a line per run); (file, note)."""
    from glmtasks.report import curve_source, matplotlib_missing, save_figure

    missing = matplotlib_missing()
    if missing:
        return None, f"{missing}: no plot written (pip install matplotlib)"
    names = curve_names(runs)
    if not names:
        return None, "no validation curves to plot (the runs have no logs/metrics.csv; logger=csv writes it)"

    def draw(figure: Any) -> None:
        columns = min(3, len(names))
        rows = (len(names) + columns - 1) // columns
        figure.set_size_inches(4.2 * columns, 3.3 * rows + 0.8)
        for position, name in enumerate(names, 1):
            ax = figure.add_subplot(rows, columns, position)
            for label, run in zip(labels, runs):
                steps, values = curve_source(run).curve(name)
                if steps:
                    ax.plot(steps, values, "o-", markersize=3, linewidth=1.2, label=f"{label}: {run.path.name}")
            ax.set_title(name)
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
        figure.axes[0].legend(fontsize=7)

    written = save_figure(_free_path(path), draw, title=f"validation curves of {len(runs)} runs")
    return written, f"plot: {written}"


def compare(args: Sequence[str]) -> str:
    """What ``python -m glmtasks compare <run> <run> ...`` prints (and the plot it writes)."""
    positional, options = _split_args(args, ("out",), COMPARE_USAGE)
    if len(positional) < 2:
        raise ConfigError(f"compare needs at least two run directories; usage: {COMPARE_USAGE} (python -m glmtasks runs lists them)")
    runs = []
    for text in positional:
        run = RunFiles(text)
        if not run.path.is_dir() or not (run.metrics or run.config):
            raise ConfigError(f"{text} is not a run directory (no metrics.json or config.yaml); python -m glmtasks runs lists them")
        runs.append(run)
    labels = run_labels(len(runs))
    lines = ["runs:"]
    lines += [f"  {label}  {run.path}  ({run.task}, {run.status}, {format_seconds(run.wall_seconds)})" for label, run in zip(labels, runs)]
    scalars = [run.scalars() for run in runs]
    metrics = sorted({name for values in scalars for name in values}, key=lambda n: (not n.startswith("val/"), n))
    rows = [(name, *(_cell(values[name]) if name in values else "-" for values in scalars)) for name in metrics]
    for extra in ("global_steps", "fit_seconds", "train_samples_per_second"):
        if any(extra in run.metrics for run in runs):
            rows.append((extra, *(_cell(run.metrics.get(extra, "-")) for run in runs)))
    lines += ["", "metrics:"] + ["  " + line for line in _table(("", *labels), rows)]
    differences = differing_keys(runs)
    lines += ["", "config keys that differ:" if differences else "config: no differences (besides paths)"]
    lines += ["  " + line for line in _table(("", *labels), [(key, *(_cell(v) for v in values)) for key, values in differences])] if differences else []
    _, note = plot_curves(runs, labels, Path(options.get("out") or "compare.png"))
    return "\n".join(lines + ["", note])
