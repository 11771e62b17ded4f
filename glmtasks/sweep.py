"""Multirun sweeps: each job recorded in its directory (failures included), a summary table and plot at the sweep root.

Hydra's sweepers (basic grid, Optuna) and launchers (basic, joblib, submitit) run the jobs;
this module adds what glmtasks needs around them:

* :func:`run_sweep_job` runs one job so that the sweep goes on when it fails (an
  exception, a NaN loss): the job's ``job.json`` says ``failed`` with a one-line reason,
  and the sweeper gets None (Optuna marks the trial failed). A job whose trainer starts
  processes (``trainer=ddp`` on several devices) runs as a fresh ``python -m glmtasks``
  process, so each job has its own process group and port.
* :class:`SweepSummary`, a Hydra callback (``conf/hydra/default.yaml``), writes
  ``summary.csv``, ``summary.md`` (one row per job: status, metric, swept values,
  overrides, run directory, reason) and ``summary.png`` (the metric against each swept
  parameter) at the sweep root.

With :mod:`glmtasks.cli`, the only modules that import Hydra.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from glmtasks.errors import GlmtasksError

log = logging.getLogger(__name__)

JOB_FILE = "job.json"
SUMMARY_FILES = ("summary.csv", "summary.md", "summary.png")


# ---------------------------------------------------------------------------------------
# One job.


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def failure_reason(exc: BaseException) -> str:
    """One line saying why a job failed: a user error's own message, else the exception's type and first line."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc, (GlmtasksError, _JobProcessError)):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _reason_from_output(code: int, tail: Sequence[str]) -> str:
    # Ranks print their "error: ..." line at the same moment: lines may be glued together.
    errors = [part.strip() for line in tail if "error: " in line for part in line.split("error: ")[1:] if part.strip()]
    if errors:
        return errors[-1]
    lines = [line.strip() for line in tail if line.strip()]
    return f"exit code {code}: {lines[-1]}" if lines else f"exit code {code}"


def run_sweep_job(
    load_config: Callable[[], Any],
    execute: Callable[[Any], dict[str, Any]],
    run_dir: str | Path,
    overrides: Sequence[str],
    report: Optional[Callable[[dict[str, Any]], str]] = None,
) -> Optional[float]:
    """Run one multirun job and record it in ``<run_dir>/job.json``; never raises for a failed job.

    Args:
        load_config: composes and validates the job's :class:`~glmtasks.config.RunConfig`
            (errors here fail the job, not the sweep).
        execute: runs a validated config (``glmtasks.run.run``) and returns its result dict.
        run_dir: the job's directory.
        overrides: the job's overrides (Hydra's ``hydra.overrides.task``).
        report: formats a result for the console.

    Returns:
        The monitored metric (for the sweeper), or None when the job failed or its metric is
        not a finite number (Optuna then records the trial as failed and goes on).
        ``KeyboardInterrupt`` still ends the sweep.
    """
    from glmtasks.distributed import is_rank_zero, launches_processes, run_in_fresh_process

    run_dir = Path(run_dir)
    writer = is_rank_zero()  # under srun (submitit) every rank runs the job; rank 0 records it
    record: dict[str, Any] = {
        "job": run_dir.name, "status": "running", "overrides": list(overrides), "run_dir": str(run_dir),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if writer:
        run_dir.mkdir(parents=True, exist_ok=True)
        _write_json(run_dir / JOB_FILE, record)
    started = time.perf_counter()
    try:
        config = load_config()
        if launches_processes(config.trainer):
            code, tail = run_in_fresh_process(overrides, run_dir)
            if code != 0:
                raise _JobProcessError(_reason_from_output(code, tail))
            result = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        else:
            result = execute(config)
    except KeyboardInterrupt:
        if writer:
            _write_json(run_dir / JOB_FILE, {**record, "status": "failed", "reason": "interrupted"})
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure of a job is recorded, the sweep goes on
        reason = failure_reason(exc)
        if isinstance(exc, (GlmtasksError, _JobProcessError)):
            log.error("job %s failed: %s", run_dir.name, reason)
        else:
            log.error("job %s failed: %s", run_dir.name, reason, exc_info=exc)
        print(f"error: {reason}", file=sys.stderr)
        if writer:
            _write_json(run_dir / JOB_FILE, {**record, "status": "failed", "reason": reason, "seconds": round(time.perf_counter() - started, 2)})
        return None

    score = result.get("score")
    finite = isinstance(score, (int, float)) and math.isfinite(score)
    record.update(
        status="completed" if finite or score is None else "failed",
        metric=result.get("monitor"), mode=result.get("mode"), score=score if finite else None,
        test=result.get("test"), seconds=round(time.perf_counter() - started, 2),
    )
    if not finite and score is not None:
        record["reason"] = f"the monitored metric {result.get('monitor')} is {score}"
    if writer:
        _write_json(run_dir / JOB_FILE, record)
    if report is not None:
        print(report(result))
    return float(score) if finite else None


class _JobProcessError(Exception):
    """A job run in its own process exited with an error (the message is its reason)."""


# ---------------------------------------------------------------------------------------
# The summary.


def _job_key(record: dict[str, Any]) -> tuple:
    name = str(record.get("job", ""))
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def collect_jobs(sweep_dir: str | Path, final: bool = True) -> list[dict[str, Any]]:
    """The record of every job under ``sweep_dir``, in job order.

    A job directory without ``job.json`` (Hydra made it, the job never started) and, when
    ``final``, a job still marked running (killed, or ended outside Python) count as failed.
    """
    sweep_dir = Path(sweep_dir)
    records: dict[Path, dict[str, Any]] = {}
    for path in sweep_dir.rglob(JOB_FILE):
        try:
            records[path.parent] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            records[path.parent] = {"job": path.parent.name, "status": "failed", "reason": "unreadable job.json", "overrides": []}
    for path in sweep_dir.rglob("overrides.yaml"):
        job_dir = path.parent.parent
        if path.parent.name == ".hydra" and job_dir != sweep_dir and job_dir not in records:
            records[job_dir] = {"job": job_dir.name, "status": "running", "overrides": _read_overrides(path), "run_dir": str(job_dir)}
    jobs = []
    for job_dir, record in records.items():
        record = {**record, "run_dir": record.get("run_dir") or str(job_dir)}
        if final and record.get("status") == "running":
            record.update(status="failed", reason=record.get("reason") or "the job ended without a result (killed, or it crashed outside Python)")
        jobs.append(record)
    return sorted(jobs, key=_job_key)


def _read_overrides(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line[2:].strip() for line in lines if line.startswith("- ")]


def split_override(override: str) -> tuple[str, str]:
    """``key=value`` -> (key, value); ``+``/``++``/``~`` prefixes are dropped from the key."""
    key, _, value = override.partition("=")
    return key.lstrip("+~"), value


def swept_parameters(jobs: Sequence[dict[str, Any]]) -> list[str]:
    """Override keys whose value differs between jobs (or that only some jobs set), in first-seen order."""
    seen: dict[str, set] = {}
    counts: dict[str, int] = {}
    for job in jobs:
        for key, value in (split_override(o) for o in job.get("overrides", [])):
            seen.setdefault(key, set()).add(value)
            counts[key] = counts.get(key, 0) + 1
    return [key for key, values in seen.items() if len(values) > 1 or counts[key] < len(jobs)]


def _metric_info(jobs: Sequence[dict[str, Any]]) -> tuple[str, Optional[str]]:
    for job in jobs:
        if job.get("metric"):
            return job["metric"], job.get("mode")
    return "metric", None


def _best(jobs: Sequence[dict[str, Any]], mode: Optional[str]) -> Optional[dict[str, Any]]:
    scored = [j for j in jobs if j.get("status") == "completed" and isinstance(j.get("score"), (int, float))]
    if not scored:
        return None
    pick = min if mode == "min" else max
    return pick(scored, key=lambda j: j["score"])


def summary_rows(jobs: Sequence[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of the summary table: job, status, metric, each swept parameter, overrides, run_dir, reason."""
    metric, _ = _metric_info(jobs)
    params = swept_parameters(jobs)
    columns = ["job", "status", metric, *params, "overrides", "run_dir", "reason"]
    rows = []
    for job in jobs:
        values = dict(split_override(o) for o in job.get("overrides", []))
        score = job.get("score")
        rows.append({
            "job": job.get("job", ""), "status": job.get("status", ""),
            metric: "" if score is None else f"{score:.6g}",
            **{p: values.get(p, "") for p in params},
            "overrides": " ".join(job.get("overrides", [])), "run_dir": job.get("run_dir", ""),
            "reason": job.get("reason", ""),
        })
    return columns, rows


def format_markdown(jobs: Sequence[dict[str, Any]], sweep_dir: Path) -> str:
    """The Markdown summary: counts, the best job, the overrides all jobs share, and the table.

    The table's overrides column holds each job's own overrides (those not shared by all);
    run directories are relative to the sweep directory.
    """
    metric, mode = _metric_info(jobs)
    columns, rows = summary_rows(jobs)
    shared = [o for o in jobs[0].get("overrides", []) if all(o in j.get("overrides", []) for j in jobs)] if jobs else []
    completed = sum(1 for j in jobs if j.get("status") == "completed")
    failed = sum(1 for j in jobs if j.get("status") == "failed")
    direction = {"max": " (higher is better)", "min": " (lower is better)"}.get(mode or "", "")
    lines = [f"# Sweep {sweep_dir}", "", f"{len(jobs)} jobs: {completed} completed, {failed} failed. Metric: `{metric}`{direction}."]
    best = _best(jobs, mode)
    if best is not None:
        own = [o for o in best.get("overrides", []) if o not in shared]
        lines.append(f"Best: job {best['job']}, {metric} = {best['score']:.6g} (`{' '.join(own)}`).")
    if shared:
        lines.append(f"Overrides of every job: `{' '.join(shared)}`.")
    lines += ["", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for job, row in zip(jobs, rows):
        row = dict(row, overrides=" ".join(o for o in job.get("overrides", []) if o not in shared))
        try:
            row["run_dir"] = str(Path(row["run_dir"]).relative_to(sweep_dir))
        except ValueError:
            pass
        lines.append("| " + " | ".join(str(row[c]).replace("|", "\\|") for c in columns) + " |")
    return "\n".join(lines) + "\n"


def plot_summary(jobs: Sequence[dict[str, Any]], path: Path) -> bool:
    """Write a PNG of the metric against each swept parameter (failed jobs as red crosses).

    Numeric parameters spanning a factor of 10 or more get a log axis; others are shown as
    categories. Returns False (and writes nothing) when matplotlib is not installed.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        log.warning("matplotlib is not installed: no %s (pip install 'glmtasks[sweep]')", path.name)
        return False
    metric, _ = _metric_info(jobs)
    params = swept_parameters(jobs) or ["job"]
    figure = Figure(figsize=(4.2 * len(params), 3.4), layout="constrained")
    FigureCanvasAgg(figure)
    done = [j for j in jobs if j.get("status") == "completed" and j.get("score") is not None]
    for i, param in enumerate(params):
        axis = figure.add_subplot(1, len(params), i + 1)

        def value(job: dict[str, Any]) -> str:
            return str(job.get("job")) if param == "job" else dict(split_override(o) for o in job.get("overrides", [])).get(param, "")

        raw = [value(j) for j in jobs]
        numbers = _as_numbers(raw)
        if numbers is not None:
            x_of = dict(zip(raw, numbers))
            positive = [n for n in numbers if n > 0]
            if len(positive) == len(numbers) and max(positive) / min(positive) >= 10:
                axis.set_xscale("log")
        else:
            categories = sorted(set(raw))
            x_of = {c: float(k) for k, c in enumerate(categories)}
            axis.set_xticks(range(len(categories)), categories, rotation=30, ha="right")
        xs = [x_of[value(j)] for j in done]
        axis.plot(xs, [j["score"] for j in done], "o", color="tab:blue", label="completed")
        fails = [j for j in jobs if j.get("status") != "completed"]
        if fails:  # at the foot of the axes (they have no metric): x in data units, y in axes units
            axis.plot([x_of[value(j)] for j in fails], [0.04] * len(fails), "x", color="tab:red", markersize=9,
                      label="failed", transform=axis.get_xaxis_transform(), clip_on=False)
            axis.legend(fontsize="small")
        axis.set_xlabel(param)
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
    figure.suptitle(f"{metric} per job ({len(done)} of {len(jobs)} completed)", fontsize="medium")
    figure.savefig(path, dpi=110)
    return True


def _as_numbers(values: Sequence[str]) -> Optional[list[float]]:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def write_summary(sweep_dir: str | Path, final: bool = True, plot: bool = True) -> list[dict[str, Any]]:
    """Write ``summary.csv``, ``summary.md`` and (with ``plot``) ``summary.png`` in ``sweep_dir``; returns the jobs."""
    sweep_dir = Path(sweep_dir)
    jobs = collect_jobs(sweep_dir, final=final)
    if not jobs:
        return jobs
    columns, rows = summary_rows(jobs)
    buffer = io.StringIO()
    table = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    table.writeheader()
    table.writerows(rows)
    for name, text in (("summary.csv", buffer.getvalue()), ("summary.md", format_markdown(jobs, sweep_dir))):
        tmp = sweep_dir / f"{name}.{os.getpid()}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, sweep_dir / name)
    if plot:
        tmp = sweep_dir / f"summary.{os.getpid()}.tmp.png"
        if plot_summary(jobs, tmp):
            os.replace(tmp, sweep_dir / "summary.png")
    return jobs


# ---------------------------------------------------------------------------------------
# The Hydra callback.

from hydra.experimental.callback import Callback as _HydraCallback  # noqa: E402 - only the callback needs Hydra


class SweepSummary(_HydraCallback):
    """Hydra callback: keeps ``summary.csv``/``summary.md`` current as jobs end; adds ``summary.png`` at the end.

    Registered in ``conf/hydra/default.yaml`` (``hydra.callbacks.sweep_summary``). Jobs that
    Hydra itself saw fail (an exception that escaped the job) are recorded as failed.
    Under launchers that run jobs elsewhere (joblib workers, SLURM) the job-end hook runs
    there; the final summary is written by the process that ran the sweep.
    """

    def on_job_end(self, config: Any, job_return: Any = None, **kwargs: Any) -> None:
        """Record a job Hydra saw fail; refresh the summary table (not the plot) of a multirun."""
        from glmtasks.distributed import is_rank_zero

        sweep_dir = _sweep_dir(config)
        if sweep_dir is None or not is_rank_zero():
            return
        try:
            if job_return is not None and getattr(job_return.status, "name", "") == "FAILED":
                run_dir = Path(config.hydra.runtime.output_dir)
                error = getattr(job_return, "_return_value", None)
                previous = {}
                if (run_dir / JOB_FILE).is_file():
                    previous = json.loads((run_dir / JOB_FILE).read_text(encoding="utf-8"))
                _write_json(run_dir / JOB_FILE, {
                    "job": run_dir.name, "overrides": list(job_return.overrides or []), "run_dir": str(run_dir), **previous,
                    "status": "failed", "reason": failure_reason(error) if isinstance(error, BaseException) else "failed",
                })
            write_summary(sweep_dir, final=False, plot=False)
        except Exception as exc:  # noqa: BLE001 - a summary problem must not fail the job
            log.warning("could not update the sweep summary: %s", exc)

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        """Write the final summary table and plot at the sweep root and print the table."""
        sweep_dir = _sweep_dir(config)
        if sweep_dir is None or not sweep_dir.is_dir():
            return
        jobs = write_summary(sweep_dir, final=True, plot=True)
        if jobs:
            print(format_markdown(jobs, sweep_dir))
            print(f"sweep summary: {sweep_dir / 'summary.md'} (also summary.csv, summary.png)")


def _sweep_dir(config: Any) -> Optional[Path]:
    from hydra.types import RunMode

    hydra = config.get("hydra") if hasattr(config, "get") else None
    if hydra is None or hydra.get("mode") != RunMode.MULTIRUN:
        return None
    return Path(str(hydra.sweep.dir))
