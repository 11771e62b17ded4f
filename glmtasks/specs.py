"""What plugins register: small frozen records naming a task, head, datamodule or metric.

Factories may be given as callables or as ``"module:attribute"`` strings. Strings are
imported only when the factory is first used, so listing plugins stays fast and a plugin's
heavy imports (torch, transformers) happen only for the task that is run.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Union

Factory = Union[Callable[..., Any], str]


def resolve_factory(factory: Factory) -> Callable[..., Any]:
    """Return the callable behind ``factory``, importing ``"module:attribute"`` strings."""
    if callable(factory):
        return factory
    module_name, _, attribute = factory.partition(":")
    if not attribute:
        raise ValueError(f"factory {factory!r} must look like 'package.module:attribute'")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class TaskSpec:
    """A task: which head, datamodule and metrics it uses by default, and what to monitor.

    Attributes:
        name: the value users pass as ``task=<name>``; also the name of the task's config
            file ``task/<name>.yaml`` and of its default data config ``data/<name>.yaml``.
        description: one line shown by ``python -m glmtasks plugins``.
        head: name of the default head (a registered :class:`HeadSpec`).
        datamodule: name of the default datamodule (a registered :class:`DataModuleSpec`).
        metrics: names of registered :class:`MetricSpec` computed on validation and test.
        monitor: the metric (one of ``metrics``) that selects the best checkpoint, drives
            early stopping and is returned to sweepers.
        mode: ``"max"`` or ``"min"``: whether a larger ``monitor`` value is better.
        trainer: default ``trainer:`` settings of the task (say ``{"max_epochs": 3}`` for its
            demo); they override the ``trainer=`` preset, while an ``experiment=`` or the
            command line overrides them.
    """

    name: str
    description: str
    head: str
    datamodule: str
    metrics: tuple[str, ...]
    monitor: str
    mode: str = "max"
    trainer: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HeadSpec:
    """A head: builds the model that maps a batch to a loss, metric inputs and predictions.

    ``factory(backbone, tokenizer, task_info, head_config)`` returns a
    :class:`glmtasks.head.TaskHead`. ``backbone`` is the validated
    :class:`glmtasks.config.BackboneConfig`, ``task_info`` what the datamodule learned from
    the data (for example ``{"labels": [...]}``), ``head_config`` an instance of
    ``config_class`` built from ``task.head_config`` (unknown keys and wrong types are
    reported with the rest of the config), or an empty dict when the head has no options.

    ``config_class`` is a dataclass whose fields (with their defaults and docstrings) are the
    head's options: every field is a declared ``task.head_config.<field>`` key.
    """

    name: str
    factory: Factory
    description: str = ""
    config_class: Optional[Factory] = None


@dataclass(frozen=True)
class DataModuleSpec:
    """A datamodule: reads, tokenizes and batches a task's data.

    ``factory(config)`` returns a datamodule (:class:`glmtasks.datamodule.TaskDataModule`
    or anything satisfying :class:`glmtasks.datamodule.DataModuleProtocol`); ``config`` is an
    instance of ``config_class``, a dataclass extending :class:`glmtasks.config.DataConfig`,
    built from the ``data:`` section (unknown keys rejected). Every field of ``config_class``
    is a declared ``data.<field>`` key whose default is the field's.
    """

    name: str
    factory: Factory
    config_class: Factory
    description: str = ""


@dataclass(frozen=True)
class MetricSpec:
    """A metric: ``factory(task_info)`` returns a ``torchmetrics.Metric``.

    ``task_info`` is passed only when the factory has a parameter of that name, so a
    torchmetrics class that needs no options is a factory as it is
    (``factory="torchmetrics.regression:PearsonCorrCoef"``); :meth:`build` applies this rule.

    The metric's ``update`` receives the ``metric_inputs`` tuple that the head returns for
    each batch; ``compute`` returns a scalar tensor, or a dict of named scalars. A metric may
    also have a ``metadata()`` method returning a JSON-serializable dict (facts that are no
    score, such as a sacreBLEU signature); the run writes it to ``metrics.json`` under
    ``metric_metadata.<metric name>`` after testing.
    """

    name: str
    factory: Factory
    description: str = ""

    def build(self, task_info: dict) -> Any:
        """The metric: ``factory(task_info)``, or ``factory()`` when it takes no ``task_info``."""
        import inspect

        factory = resolve_factory(self.factory)
        try:
            wants_info = "task_info" in inspect.signature(factory).parameters
        except (TypeError, ValueError):  # builtins without a signature
            wants_info = False
        return factory(task_info) if wants_info else factory()


@dataclass(frozen=True)
class ReportFigure:
    """One figure a plugin adds to a run's report (returned by ``glmtasks_draw_figures``).

    Attributes:
        name: file name stem: the figure is saved as ``report-<name>.png`` in the run directory
            (letters, digits, ``-`` and ``_``).
        draw: ``draw(figure)`` fills a fresh ``matplotlib.figure.Figure`` (``figure.add_subplot``,
            ``ax.bar``...); it may resize it with ``figure.set_size_inches``. It is called only
            when matplotlib is installed, with the non-interactive Agg canvas: no window opens,
            and the plugin need not import matplotlib itself.
        title: the figure's title (``figure.suptitle``); empty for none.
    """

    name: str
    draw: Callable[[Any], None]
    title: str = ""


@dataclass
class Registrations:
    """Everything one plugin registered; used by the registry to attribute names."""

    plugin: str
    tasks: list[TaskSpec] = field(default_factory=list)
    heads: list[HeadSpec] = field(default_factory=list)
    datamodules: list[DataModuleSpec] = field(default_factory=list)
    metrics: list[MetricSpec] = field(default_factory=list)
