"""Names -> specs, built from the plugin manager; each name remembers its plugin.

Unknown names fail with the list of known ones; duplicates fail with both plugins named.
"""

from __future__ import annotations

import difflib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Iterable, Iterator, Optional, TypeVar

import pluggy

from glmtasks.errors import PluginError, UnknownNameError
from glmtasks.specs import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec

SpecT = TypeVar("SpecT", TaskSpec, HeadSpec, DataModuleSpec, MetricSpec)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Catalog(Generic[SpecT]):
    """Specs of one kind (tasks, heads, ...) by name, with the plugin that gave each."""

    def __init__(self, kind: str, override_hint: str):
        self.kind = kind
        self.override_hint = override_hint
        self._specs: dict[str, tuple[SpecT, str]] = {}

    def add(self, spec: SpecT, plugin: str) -> None:
        """Add ``spec`` from ``plugin``; a name registered twice is a :class:`PluginError`."""
        if spec.name in self._specs:
            other = self._specs[spec.name][1]
            raise PluginError(
                f"{self.kind} '{spec.name}' is registered by both plugin '{other}' and "
                f"plugin '{plugin}'; rename one of them or uninstall one plugin"
            )
        self._specs[spec.name] = (spec, plugin)

    def get(self, name: str) -> SpecT:
        """The spec called ``name``, or an :class:`UnknownNameError` listing known names."""
        if name not in self._specs:
            known = ", ".join(sorted(self._specs)) or "none"
            raise UnknownNameError(
                f"unknown {self.kind} '{name}'{did_you_mean(name, self._specs)}; "
                f"known {self.kind}s: {known} (choose with {self.override_hint}=<name>)"
            )
        return self._specs[name][0]

    def plugin_of(self, name: str) -> str:
        """Name of the plugin that registered ``name``."""
        self.get(name)
        return self._specs[name][1]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[SpecT]:
        return iter(spec for _, (spec, _) in sorted(self._specs.items()))

    def __len__(self) -> int:
        return len(self._specs)


@dataclass
class Registry:
    """All tasks, heads, datamodules, metrics and config directories the plugins provide."""

    tasks: Catalog[TaskSpec] = field(default_factory=lambda: Catalog("task", "task"))
    heads: Catalog[HeadSpec] = field(default_factory=lambda: Catalog("head", "task.head"))
    datamodules: Catalog[DataModuleSpec] = field(
        default_factory=lambda: Catalog("datamodule", "data.datamodule")
    )
    metrics: Catalog[MetricSpec] = field(default_factory=lambda: Catalog("metric", "task.metrics"))
    config_dirs: list[tuple[Path, str]] = field(default_factory=list)
    manager: Optional[pluggy.PluginManager] = None
    """The plugin manager the registry was built from; later hooks (``glmtasks_draw_figures``) are called through it."""

    @classmethod
    def from_plugin_manager(cls, manager: pluggy.PluginManager) -> "Registry":
        """Call every registration hook of every plugin and check the result is coherent."""
        registry = cls(manager=manager)
        hook = manager.hook
        catalogs = [
            (hook.glmtasks_register_tasks, registry.tasks, TaskSpec),
            (hook.glmtasks_register_heads, registry.heads, HeadSpec),
            (hook.glmtasks_register_datamodules, registry.datamodules, DataModuleSpec),
            (hook.glmtasks_register_metrics, registry.metrics, MetricSpec),
        ]
        for caller, catalog, spec_type in catalogs:
            for plugin, specs in _call_each(caller):
                for spec in specs or []:
                    if not isinstance(spec, spec_type):
                        raise PluginError(
                            f"plugin '{plugin}' returned {type(spec).__name__} from "
                            f"{caller.name}; expected {spec_type.__name__}"
                        )
                    catalog.add(spec, plugin)
        for plugin, dirs in _call_each(hook.glmtasks_register_config_dirs):
            for directory in dirs or []:
                path = Path(directory)
                if not path.is_dir():
                    raise PluginError(f"plugin '{plugin}' registered config dir {path}, which does not exist")
                registry.config_dirs.append((path.resolve(), plugin))
        registry._check_tasks()
        return registry

    def _check_tasks(self) -> None:
        for task in self.tasks:
            plugin = self.tasks.plugin_of(task.name)
            wanted = [(self.heads, task.head), (self.datamodules, task.datamodule)]
            wanted += [(self.metrics, metric) for metric in task.metrics]
            for catalog, name in wanted:
                if name not in catalog:
                    raise PluginError(
                        f"task '{task.name}' from plugin '{plugin}' names {catalog.kind} "
                        f"'{name}', which no plugin registers"
                    )
            if task.monitor not in task.metrics:
                raise PluginError(
                    f"task '{task.name}' from plugin '{plugin}' monitors '{task.monitor}', "
                    f"which is not one of its metrics {list(task.metrics)}"
                )
            if task.mode not in ("min", "max"):
                raise PluginError(f"task '{task.name}' from plugin '{plugin}' has mode '{task.mode}'; use 'min' or 'max'")


def _call_each(caller: pluggy.HookCaller) -> Iterator[tuple[str, list]]:
    """Call each implementation of a no-argument hook separately, naming its plugin."""
    for impl in caller.get_hookimpls():
        try:
            yield impl.plugin_name, impl.function()
        except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported with its name
            raise PluginError(
                f"plugin '{impl.plugin_name}' failed in {caller.name}: {type(exc).__name__}: {exc}"
            ) from exc


_default: Registry | None = None


def default_registry() -> Registry:
    """The registry of the plugins selected from entry points (built once per process)."""
    global _default
    if _default is None:
        from glmtasks.plugins import create_plugin_manager

        _default = Registry.from_plugin_manager(create_plugin_manager())
    return _default


def set_default_registry(registry: Registry | None) -> None:
    """Replace (or with None, reset) the process-wide registry; for tests and embedding."""
    global _default
    _default = registry


@contextmanager
def using_registry(registry: Registry) -> Iterator[Registry]:
    """Make ``registry`` the process-wide registry inside a ``with`` block, then restore the previous one."""
    global _default
    previous, _default = _default, registry
    try:
        yield registry
    finally:
        _default = previous
