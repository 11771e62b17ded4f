"""Plugin manager and registry: registration, switches, broken plugins, the listing."""

from __future__ import annotations

import types
from importlib.metadata import EntryPoint

import pytest

from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl
from glmtasks import plugins as plugin_module
from glmtasks.errors import PluginError, UnknownNameError


def make_plugin(name: str, task: str = "toy", head: str = "toy_head", metric: str = "toy_metric", **overrides):
    """A plugin module registering one task with its head, datamodule and metric."""
    module = types.ModuleType(name)

    @hookimpl
    def glmtasks_register_tasks():
        spec = dict(name=task, description="a toy task", head=head, datamodule="toy_data", metrics=(metric,), monitor=metric)
        spec.update(overrides)
        return [TaskSpec(**spec)]

    @hookimpl
    def glmtasks_register_heads():
        return [HeadSpec(name="toy_head", factory="builtins:dict")]

    @hookimpl
    def glmtasks_register_datamodules():
        return [DataModuleSpec(name="toy_data", factory="builtins:dict", config_class="builtins:dict")]

    @hookimpl
    def glmtasks_register_metrics():
        return [MetricSpec(name="toy_metric", factory="builtins:dict")]

    for fn in (glmtasks_register_tasks, glmtasks_register_heads, glmtasks_register_datamodules, glmtasks_register_metrics):
        setattr(module, fn.__name__, fn)
    return module


def test_hermetic_manager_loads_no_entry_points(hermetic_registry):
    registry = hermetic_registry()
    assert len(registry.tasks) == 0 and len(registry.heads) == 0


def test_registration_is_attributed_to_the_plugin(hermetic_registry):
    registry = hermetic_registry(make_plugin("toy_plugin"))
    assert registry.tasks.get("toy").head == "toy_head"
    assert registry.tasks.plugin_of("toy") == "toy_plugin"
    assert registry.metrics.plugin_of("toy_metric") == "toy_plugin"


def test_unknown_name_lists_known_names_and_suggests(hermetic_registry):
    registry = hermetic_registry(make_plugin("toy_plugin"))
    with pytest.raises(UnknownNameError, match=r"unknown task 'tyo' \(did you mean 'toy'\?\); known tasks: toy"):
        registry.tasks.get("tyo")


def test_duplicate_names_name_both_plugins(hermetic_registry):
    first = make_plugin("first")
    second = types.ModuleType("second")
    second.glmtasks_register_tasks = first.glmtasks_register_tasks
    with pytest.raises(PluginError, match="both plugin 'first' and plugin 'second'"):
        hermetic_registry(first, second)


def test_task_naming_an_unregistered_head_fails(hermetic_registry):
    with pytest.raises(PluginError, match="names head 'missing_head'"):
        hermetic_registry(make_plugin("bad", head="missing_head"))


def test_task_monitoring_a_metric_it_lacks_fails(hermetic_registry):
    with pytest.raises(PluginError, match="monitors 'other'"):
        hermetic_registry(make_plugin("bad", monitor="other"))


def test_plugin_raising_in_a_hook_is_named(hermetic_registry):
    module = types.ModuleType("crashing")

    @hookimpl
    def glmtasks_register_tasks():
        raise RuntimeError("boom")

    module.glmtasks_register_tasks = glmtasks_register_tasks
    with pytest.raises(PluginError, match="plugin 'crashing' failed in glmtasks_register_tasks: RuntimeError: boom"):
        hermetic_registry(module)


def test_wrong_return_type_is_reported(hermetic_registry):
    module = types.ModuleType("wrong")

    @hookimpl
    def glmtasks_register_heads():
        return ["not a spec"]

    module.glmtasks_register_heads = glmtasks_register_heads
    with pytest.raises(PluginError, match="plugin 'wrong' returned str"):
        hermetic_registry(module)


def _fake_entry_points(monkeypatch, eps):
    monkeypatch.setattr(plugin_module, "entry_points", lambda group: eps)


def test_broken_entry_point_fails_with_its_name(monkeypatch):
    ep = EntryPoint(name="broken", value="no_such_module_xyz.plugin", group="glmtasks")
    _fake_entry_points(monkeypatch, [ep])
    with pytest.raises(PluginError, match=r"plugin 'broken' \(entry point no_such_module_xyz.plugin\) failed to load: ModuleNotFoundError"):
        plugin_module.create_plugin_manager()


def test_only_named_plugins_are_loaded(monkeypatch):
    eps = [
        EntryPoint(name="classification", value="glmtasks_classification.plugin", group="glmtasks"),
        EntryPoint(name="broken", value="no_such_module_xyz.plugin", group="glmtasks"),
    ]
    _fake_entry_points(monkeypatch, eps)
    monkeypatch.setenv("GLMTASKS_PLUGINS", "classification")
    manager = plugin_module.create_plugin_manager()
    assert manager.has_plugin("classification") and not manager.has_plugin("broken")
    monkeypatch.setenv("GLMTASKS_PLUGINS", "nope")
    with pytest.raises(PluginError, match="unknown plugin"):
        plugin_module.create_plugin_manager()


def test_disable_autoload_keeps_only_builtin_plugins(monkeypatch):
    builtin = [ep for ep in plugin_module.entry_points(group="glmtasks") if ep.name == "classification"]
    assert builtin, "the classification plugin must be installed through its entry point"
    third_party = EntryPoint(name="broken", value="no_such_module_xyz.plugin", group="glmtasks")
    _fake_entry_points(monkeypatch, builtin + [third_party])
    monkeypatch.setenv("GLMTASKS_DISABLE_PLUGIN_AUTOLOAD", "1")
    manager = plugin_module.create_plugin_manager()
    assert manager.has_plugin("classification") and not manager.has_plugin("broken")


def test_builtin_tasks_come_from_entry_points():
    from glmtasks.registry import Registry

    registry = Registry.from_plugin_manager(plugin_module.create_plugin_manager())
    assert registry.tasks.plugin_of("sentiment") == "classification"
    assert {"sentiment", "classification"} <= {t.name for t in registry.tasks}


def test_plugins_command_lists_everything_with_its_plugin(run_cli):
    result = run_cli("plugins")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for section in ("tasks:", "heads:", "datamodules:", "metrics:"):
        assert section in lines
    assert any(line.split()[:2] == ["sentiment", "classification"] for line in lines)
    assert any(line.split()[:2] == ["sequence_classification", "classification"] for line in lines)
    assert any(line.split()[:2] == ["macro_f1", "classification"] for line in lines)


def test_broken_plugin_fails_the_cli_in_one_line(run_cli, tmp_path):
    dist = tmp_path / "site" / "broken_glmtasks_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-glmtasks-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[glmtasks]\nbroken = broken_glmtasks_plugin.plugin\n")
    import os

    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")])}
    result = run_cli("plugins", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "plugin 'broken' (entry point broken_glmtasks_plugin.plugin) failed to load" in result.stderr
