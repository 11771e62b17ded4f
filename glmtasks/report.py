"""The report of a run: ``report.png`` (loss, learning rate, every validation metric against steps) and the
figures plugins add through ``glmtasks_draw_figures`` (``report-<name>.png``), drawn from the files the run wrote.

matplotlib is optional: without it :func:`write_report` logs one line saying what it skipped
and returns. Figures are drawn on matplotlib's Agg canvas (``Figure`` + ``FigureCanvasAgg``,
never ``pyplot``), so no window ever opens and no display is needed.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from glmtasks.runinfo import RunFiles

log = logging.getLogger(__name__)

REPORT_FILE = "report.png"
PANEL_LINES = 6
"""At most this many metrics share one panel of report.png (more panels follow)."""
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def matplotlib_missing() -> Optional[str]:
    """None when matplotlib can draw here, else the one-line reason it cannot."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError:
        return "matplotlib is not installed"
    return None


def save_figure(path: Path, draw: Callable[[Any], None], size: tuple[float, float] = (10, 6), title: str = "") -> Path:
    """A fresh Agg figure of ``size`` inches, filled by ``draw(figure)``, written to ``path`` (PNG, 100 dpi)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    draw(figure)
    if title:
        figure.suptitle(title)
    tmp = path.with_name(path.stem + ".tmp.png")
    figure.savefig(tmp, dpi=100)
    tmp.replace(path)
    return path


def write_report(run_dir: str | Path, registry: Any = None) -> list[Path]:
    """Write ``report.png`` and the plugins' ``report-<name>.png`` into ``run_dir``; returns the files written.

    Never raises for a figure that fails: a broken figure is logged in one line and skipped.
    Without matplotlib nothing is written and one line says so.
    """
    run = RunFiles(run_dir)
    missing = matplotlib_missing()
    if missing:
        log.warning("%s: skipped the run report (%s and task figures); pip install matplotlib to get them", missing, REPORT_FILE)
        return []
    written: list[Path] = []
    try:
        written.append(save_figure(run.path / REPORT_FILE, lambda figure: draw_run(run, figure), size=_report_size(run), title=_title(run)))
    except Exception as exc:  # noqa: BLE001 - the report never fails a finished run
        log.warning("could not draw %s: %s: %s", REPORT_FILE, type(exc).__name__, _first_line(exc))
    for plugin, figure in plugin_figures(run, registry):
        name = getattr(figure, "name", None)
        if not isinstance(name, str) or not _NAME.match(name) or not callable(getattr(figure, "draw", None)):
            log.warning("plugin '%s' returned %r from glmtasks_draw_figures; expected ReportFigure(name, draw) with a simple name", plugin, figure)
            continue
        try:
            written.append(save_figure(run.path / f"report-{name}.png", figure.draw, title=figure.title))
        except Exception as exc:  # noqa: BLE001 - a plugin's figure never fails the run
            log.warning("plugin '%s' could not draw report-%s.png: %s: %s", plugin, name, type(exc).__name__, _first_line(exc))
    log.info("report: %s in %s", ", ".join(path.name for path in written), run.path)
    return written


def plugin_figures(run: RunFiles, registry: Any = None) -> list[tuple[str, Any]]:
    """(plugin name, ReportFigure) from every plugin's ``glmtasks_draw_figures(run)``; a plugin that raises is logged and skipped."""
    if registry is None:
        from glmtasks.registry import default_registry

        registry = default_registry()
    manager = getattr(registry, "manager", None)
    if manager is None:
        return []
    found: list[tuple[str, Any]] = []
    for impl in manager.hook.glmtasks_draw_figures.get_hookimpls():
        try:
            figures = impl.function(**({"run": run} if "run" in impl.argnames else {}))
        except Exception as exc:  # noqa: BLE001 - a plugin's bug costs only its figures
            log.warning("plugin '%s' failed in glmtasks_draw_figures: %s: %s", impl.plugin_name, type(exc).__name__, _first_line(exc))
            continue
        found += [(impl.plugin_name, figure) for figure in figures or []]
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


def _title(run: RunFiles) -> str:
    monitor, score = run.monitor
    backbone = (run.config.get("backbone") or {}).get("name", "")
    parts = [f"task={run.task}", f"backbone={backbone}" if backbone else "", f"{monitor}={score:.4g}" if isinstance(score, (int, float)) else ""]
    return f"{'  '.join(p for p in parts if p)}\n{run.path.name}"


# ---------------------------------------------------------------------------------------
# report.png


def curve_source(run: RunFiles) -> RunFiles:
    """The run whose ``logs/metrics.csv`` has the curves: the run itself, or for mode=evaluate the training run."""
    if run.history() or run.source_run is None:
        return run
    return run.source_run


def metric_panels(history: Sequence[dict[str, float]], monitor: Optional[str]) -> list[list[str]]:
    """Validation metrics (not the loss) in groups of at most :data:`PANEL_LINES`, the monitored one first."""
    names = sorted({key for row in history for key in row if key.startswith("val/") and key != "val/loss"})
    if monitor in names:
        names.remove(monitor)
        names.insert(0, monitor)
    return [names[i : i + PANEL_LINES] for i in range(0, len(names), PANEL_LINES)]


def _panels(run: RunFiles) -> tuple[RunFiles, list[tuple[str, list[str]]]]:
    source = curve_source(run)
    history = source.history()
    panels: list[tuple[str, list[str]]] = [("loss", ["train/loss", "val/loss"])]
    lr: list[str] = []
    for name in sorted({key for row in history for key in row if key.startswith("lr-")}):
        if all(source.curve(name) != source.curve(kept) for kept in lr):  # param groups on one schedule: one line
            lr.append(name)
    if lr:
        panels.append(("learning rate", lr))
    groups = metric_panels(history, source.monitor[0])
    for number, group in enumerate(groups, 1):
        panels.append((f"validation metrics{f' ({number}/{len(groups)})' if len(groups) > 1 else ''}", group))
    if run.mode == "evaluate":
        panels.append((f"evaluated on {run.metrics.get('split', '?')}", []))
    return source, panels


def _report_size(run: RunFiles) -> tuple[float, float]:
    count = len(_panels(run)[1])
    return (11.0, 3.2 * ((count + 1) // 2) + 1.0)


def draw_run(run: RunFiles, figure: Any) -> None:
    """Fill ``figure`` with the run's panels: loss (training and validation), learning rate, validation metrics
    (the monitored one first), and for mode=evaluate the evaluated metrics as bars."""
    source, panels = _panels(run)
    history = source.history()
    rows = (len(panels) + 1) // 2
    for position, (title, names) in enumerate(panels, 1):
        ax = figure.add_subplot(rows, 2, position)
        ax.set_title(title)
        if not names:
            _draw_final_metrics(ax, run)
            continue
        drawn = 0
        for name in names:
            steps, values = source.curve(name)
            if steps:
                style = "o-" if len(steps) < 30 or name.startswith("val/") else "-"
                ax.plot(steps, values, style, markersize=3, label=name, linewidth=1.2)
                drawn += 1
        if drawn:
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        else:
            reason = "no logs/metrics.csv (curves need logger=csv)" if not history else "not logged"
            ax.text(0.5, 0.5, reason, ha="center", va="center", transform=ax.transAxes, color="gray")
            ax.set_xticks([])
            ax.set_yticks([])


def _draw_final_metrics(ax: Any, run: RunFiles) -> None:
    values = {k: v for k, v in run.scalars().items() if not k.endswith("/loss")}
    names = sorted(values)[:20]
    ax.barh(range(len(names)), [values[n] for n in names], color="tab:blue")
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    for i, name in enumerate(names):
        ax.text(values[name], i, f" {values[name]:.4g}", va="center", fontsize=7)
