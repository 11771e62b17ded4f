"""The plugin manager: built-in and third-party plugins from the ``glmtasks`` entry points.

Switches (environment variables):
    GLMTASKS_DISABLE_PLUGIN_AUTOLOAD=1   load only the built-in plugins (those shipped in the
                                         glmtasks distribution), no third-party entry points.
    GLMTASKS_PLUGINS=name1,name2         load only the named entry-point plugins.

A plugin that fails to import raises :class:`glmtasks.errors.PluginError` naming the
plugin and its entry point.
"""

from __future__ import annotations

import os
from importlib.metadata import EntryPoint, entry_points
from typing import Iterable

import pluggy

from glmtasks import hookspecs
from glmtasks.errors import PluginError

ENTRY_POINT_GROUP = "glmtasks"
DISABLE_AUTOLOAD_ENV = "GLMTASKS_DISABLE_PLUGIN_AUTOLOAD"
ONLY_PLUGINS_ENV = "GLMTASKS_PLUGINS"
BUILTIN_DISTRIBUTION = "glmtasks"

hookimpl = pluggy.HookimplMarker("glmtasks")
"""Decorator marking a function of a plugin module as a hook implementation."""


def _is_builtin(entry_point: EntryPoint) -> bool:
    dist = getattr(entry_point, "dist", None)
    return dist is not None and dist.metadata["Name"] == BUILTIN_DISTRIBUTION


def _selected_entry_points() -> list[EntryPoint]:
    """Entry points of the ``glmtasks`` group after applying the two switches."""
    available = list({ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}.values())
    only = os.environ.get(ONLY_PLUGINS_ENV, "").strip()
    if only:
        wanted = [name.strip() for name in only.split(",") if name.strip()]
        known = {ep.name for ep in available}
        missing = [name for name in wanted if name not in known]
        if missing:
            raise PluginError(
                f"{ONLY_PLUGINS_ENV} names unknown plugin(s) {', '.join(missing)}; "
                f"installed plugins: {', '.join(sorted(known)) or 'none'}"
            )
        return [ep for ep in available if ep.name in wanted]
    if os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip() not in ("", "0", "false", "False"):
        return [ep for ep in available if _is_builtin(ep)]
    return available


def create_plugin_manager(
    extra_plugins: Iterable[object] = (), load_entry_points: bool = True
) -> pluggy.PluginManager:
    """Build a plugin manager with glmtasks' hookspecs.

    Args:
        extra_plugins: plugin modules or objects registered after the entry points
            (tests and programmatic use register plugins this way).
        load_entry_points: when False, nothing is loaded from entry points (a hermetic
            manager for tests).
    """
    manager = pluggy.PluginManager("glmtasks")
    manager.add_hookspecs(hookspecs)
    if load_entry_points:
        for entry_point in _selected_entry_points():
            try:
                plugin = entry_point.load()
            except Exception as exc:  # noqa: BLE001 - any import failure is the plugin's
                raise PluginError(
                    f"plugin '{entry_point.name}' (entry point {entry_point.value}) failed to "
                    f"load: {type(exc).__name__}: {exc}; fix or uninstall it, or skip it with "
                    f"{ONLY_PLUGINS_ENV}=<plugins to load>"
                ) from exc
            _register(manager, plugin, entry_point.name)
    for plugin in extra_plugins:
        _register(manager, plugin, getattr(plugin, "__name__", None) or repr(plugin))
    return manager


def _register(manager: pluggy.PluginManager, plugin: object, name: str) -> None:
    if manager.is_registered(plugin):
        return
    try:
        manager.register(plugin, name=name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise PluginError(f"plugin '{name}' could not be registered: {exc}") from exc
