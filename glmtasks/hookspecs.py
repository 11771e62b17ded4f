"""Every hook a glmtasks plugin can implement.

A plugin is a module (or object) with functions decorated by ``glmtasks.hookimpl`` whose
names match the specifications below. Implementations may take fewer arguments than the
specification: pluggy passes only those they name, so hooks can gain arguments later
without breaking existing plugins.

Built-in tasks (``plugins/glmtasks_*``) use exactly these hooks; a third-party package
adds a task by declaring an entry point in the ``glmtasks`` group that points at its
plugin module.

Phases: *registration* hooks are called once, when the plugin manager is built, and
their results are collected from every plugin (none of them is ``firstresult``); the
*report* hook (``glmtasks_draw_figures``) is called after a run, once per run directory.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("glmtasks")


@hookspec
def glmtasks_register_tasks() -> list:
    """Register tasks.

    Returns:
        A list of :class:`glmtasks.specs.TaskSpec`. Task names must be unique across all
        plugins; a duplicate fails with the names of both plugins.
    """


@hookspec
def glmtasks_register_heads() -> list:
    """Register heads, the models that turn a batch into a loss and predictions.

    Returns:
        A list of :class:`glmtasks.specs.HeadSpec`. A plugin may register a head for a task
        it does not own; users select it with ``task.head=<name>``.
    """


@hookspec
def glmtasks_register_datamodules() -> list:
    """Register datamodules, which read, tokenize and batch data for a task.

    Returns:
        A list of :class:`glmtasks.specs.DataModuleSpec`. Users select one with
        ``data.datamodule=<name>`` (the task names its default).
    """


@hookspec
def glmtasks_register_metrics() -> list:
    """Register metrics (torchmetrics), computed on validation and test data.

    Returns:
        A list of :class:`glmtasks.specs.MetricSpec`. Tasks name them in ``metrics``.
    """


@hookspec
def glmtasks_register_config_dirs() -> list:
    """Contribute Hydra config directories.

    Each directory is added to Hydra's search path after glmtasks' own ``conf/``; its
    group folders (``task/``, ``data/``, ``experiment/``, ...) merge with the built-in
    ones, so ``task=<your task>`` works right after ``pip install`` of a plugin.

    Returns:
        A list of absolute directory paths (``str`` or ``pathlib.Path``).
    """


@hookspec
def glmtasks_draw_figures(run) -> list:
    """Add figures to the report of a finished run (a *report* hook, not a registration hook).

    Called at the end of training and of ``mode=evaluate`` (after ``metrics.json`` and
    ``predictions.jsonl`` are written), and by ``python -m glmtasks report <run dir>``; only
    when matplotlib is installed. Every plugin is called for every run: return figures only
    for your own tasks (check ``run.task``). A plugin that raises loses its figures with a
    one-line warning; the run is not affected.

    Args:
        run: a :class:`glmtasks.runinfo.RunFiles` (``glmtasks.api.RunFiles``), a read-only
            view of the run directory: ``task``, ``task_info``, ``metrics`` (metrics.json),
            ``config``, ``predictions()`` (the records of predictions.jsonl), ``history()`` and
            ``curve(name)`` (logs/metrics.csv), ``path``.

    Returns:
        A list of :class:`glmtasks.specs.ReportFigure` (empty or None for none); each is
        saved as ``report-<name>.png``.
    """
