"""Testing kit for plugin authors: a tiny backbone, contract checks, and end-to-end task runs.

Three tools, usable from any test suite (glmtasks registers this module as a pytest plugin
through the ``pytest11`` entry point, so its fixtures need no import)::

    from glmtasks.testing import check_plugin, run_task
    import my_plugin.plugin

    def test_contract():
        check_plugin(my_plugin.plugin, data={"my_task": {"demo_train_size": 64}})

    def test_end_to_end(tmp_path):
        run = run_task("my_task", ["data.demo_train_size=64"], tmp_path,
                       plugins={"my_plugin": "my_plugin.plugin"})
        assert 0 <= run.metrics["val"]["val/my_metric"] <= 1

* :func:`check_plugin` builds a hermetic registry (no entry points) from your plugin, resolves
  every factory, and exercises each of your tasks on a tiny model: the datamodule protocol,
  the head protocol on a real batch (loss, backward, predict, export) and every
  metric on the head's metric inputs. All problems are reported at once.
* :func:`run_task` runs ``python -m glmtasks task=<task>`` in a subprocess with tiny settings
  in a temporary directory and returns the metrics; ``plugins=`` makes a plugin that is not
  installed visible to that process, as its entry point would.
* :func:`tiny_backbone_config` / the ``tiny_backbone`` fixture: ``glm-tiny`` shrunk to one
  64-wide layer; :data:`TINY_OVERRIDES` is the same on the command line.

This module imports nothing heavy at import time (pytest loads it in every session).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

TINY_BACKBONE: dict[str, Any] = {
    "tokenizer_vocab_size": 600,
    "model_config": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "head_dim": 16},
}
"""Overrides of ``conf/backbone/glm-tiny.yaml`` that make a model of about 0.1M parameters."""

TINY_OVERRIDES: list[str] = [
    "backbone=glm-tiny",
    "trainer.max_epochs=1",
    "callbacks.progress_bar=false",
    "backbone.tokenizer_vocab_size=600",
    "backbone.model_config.hidden_size=64",
    "backbone.model_config.intermediate_size=128",
    "backbone.model_config.num_hidden_layers=1",
    "backbone.model_config.head_dim=16",
]
"""Command-line overrides for a fast run: one epoch of the tiny backbone, no progress bar."""


class PluginContractError(AssertionError):
    """A plugin breaks the contracts glmtasks relies on; the message lists every problem."""


# ---------------------------------------------------------------------------------------
# The tiny backbone.


def tiny_backbone_config(**fields: Any):
    """A :class:`glmtasks.config.BackboneConfig`: ``glm-tiny`` with :data:`TINY_BACKBONE` applied.

    Keyword arguments override fields (``model_config`` entries are merged).
    """
    import yaml

    from glmtasks.config import BackboneConfig, build_dataclass, raise_if_errors
    from glmtasks.searchpath import core_config_dir

    values = yaml.safe_load((core_config_dir() / "backbone" / "glm-tiny.yaml").read_text(encoding="utf-8"))
    for overrides in (TINY_BACKBONE, fields):
        for key, value in overrides.items():
            values[key] = {**values.get(key, {}), **value} if key == "model_config" else value
    errors: list[str] = []
    config = build_dataclass(BackboneConfig, values, "backbone", errors)
    raise_if_errors(errors)
    return config


# ---------------------------------------------------------------------------------------
# Contract checks.


@dataclass
class PluginReport:
    """What :func:`check_plugin` checked."""

    plugin: str
    """Name under which the plugin was registered."""
    checked: list[str] = field(default_factory=list)
    """One line per passed check, e.g. ``task 'x': head 'y' forward/backward on a real batch``."""
    problems: list[str] = field(default_factory=list)
    """One line per broken contract (empty when :func:`check_plugin` returns)."""

    def __str__(self) -> str:
        lines = [f"plugin {self.plugin}: {len(self.checked)} checks passed, {len(self.problems)} problems"]
        lines += [f"  ok   {line}" for line in self.checked] + [f"  FAIL {line}" for line in self.problems]
        return "\n".join(lines)


def check_plugin(
    plugin: Any,
    *,
    requires: Iterable[Any] = (),
    data: Optional[Mapping[str, Mapping[str, Any]]] = None,
    backbone: Any = None,
    raise_on_problems: bool = True,
) -> PluginReport:
    """Check that everything ``plugin`` registers satisfies glmtasks' interfaces.

    Args:
        plugin: the plugin module (or object with hookimpls), or its import name
            (``"my_plugin.plugin"``).
        requires: other plugins (modules or import names) that registered what the plugin's
            tasks use, e.g. ``"glmtasks_classification.plugin"`` for a task reusing the
            built-in ``sequence_classification`` head.
        data: task name -> ``data:`` values merged over the task's ``data/<task>.yaml``; keep
            the data small here (``{"my_task": {"demo_train_size": 64}}``).
        backbone: a :class:`glmtasks.config.BackboneConfig`; default
            :func:`tiny_backbone_config`.
        raise_on_problems: raise :class:`PluginContractError` listing every problem (default);
            with False, return the report with its ``problems``.

    Checks: the registry builds (names unique, tasks name registered parts); every factory
    and ``config_class`` of the plugin resolves; a datamodule's ``config_class`` is a dataclass
    extending :class:`glmtasks.config.DataConfig`, a head's a dataclass, both with a default
    for every field; ``python -m glmtasks task=<name>`` composes (``task/<name>.yaml`` and
    ``data/<name>.yaml`` exist and hold only declared keys) into a valid config; then, for each
    task of the plugin, on the tiny backbone: the datamodule is a ``LightningDataModule``
    implementing :class:`glmtasks.datamodule.DataModuleProtocol` and yields dict-of-tensor
    batches with ``index``; the head is a ``torch.nn.Module`` implementing
    :class:`glmtasks.head.TaskHead`, returns a :class:`glmtasks.head.HeadOutput` whose finite
    loss back-propagates, predicts one JSON-serializable record per example with its
    ``index`` (and ``HeadOutput.predictions()`` gives the same records), and exports through
    the core's one path into a folder with a ``config.json``; every metric is a
    ``torchmetrics.Metric`` that accepts the head's ``metric_inputs`` and computes scalars,
    one of them named after the task's ``monitor``.

    Heads, datamodules and metrics that no task of the plugin uses (say, a new head for a
    built-in task) are only resolved; a test-only plugin with a task that uses them, passed
    as ``plugin`` with yours in ``requires``, exercises them.
    """
    from glmtasks.plugins import create_plugin_manager
    from glmtasks.registry import Registry

    plugin = _import_plugin(plugin)
    name = getattr(plugin, "__name__", None) or repr(plugin)
    report = PluginReport(plugin=name)
    try:
        manager = create_plugin_manager([*(_import_plugin(p) for p in requires), plugin], load_entry_points=False)
        registry = Registry.from_plugin_manager(manager)
    except Exception as exc:  # noqa: BLE001 - reported as a contract problem
        report.problems.append(f"registry: {type(exc).__name__}: {exc}")
        return _finish(report, raise_on_problems)
    report.checked.append("registry builds: names unique, every task names registered parts")

    own = {
        kind: [spec for spec in catalog if catalog.plugin_of(spec.name) == name]
        for kind, catalog in (("task", registry.tasks), ("head", registry.heads), ("datamodule", registry.datamodules), ("metric", registry.metrics))
    }
    if not any(own.values()) and not any(p == name for _, p in registry.config_dirs):
        report.problems.append("the plugin registers nothing (no hookimpl returned a spec or a config dir)")
    _check_factories(own, report)
    backbone = backbone or tiny_backbone_config()
    for task in own["task"]:
        _check_task(task, registry, dict((data or {}).get(task.name, {})), backbone, report)
    exercised = {s for t in own["task"] for s in (t.head, t.datamodule, *t.metrics)}
    for kind in ("head", "datamodule", "metric"):
        for spec in own[kind]:
            if spec.name not in exercised:
                report.checked.append(f"{kind} '{spec.name}': not run, as no task of this plugin uses it (its factory was only resolved)")
    return _finish(report, raise_on_problems)


def _import_plugin(plugin: Any) -> Any:
    if isinstance(plugin, str):
        import importlib

        return importlib.import_module(plugin)
    return plugin


def _finish(report: PluginReport, raise_on_problems: bool) -> PluginReport:
    if report.problems and raise_on_problems:
        raise PluginContractError(str(report))
    return report


def _check_factories(own: Mapping[str, list], report: PluginReport) -> None:
    from glmtasks.config import DataConfig
    from glmtasks.specs import resolve_factory

    for kind in ("head", "datamodule", "metric"):
        for spec in own[kind]:
            targets = [("factory", spec.factory)]
            if kind in ("head", "datamodule") and spec.config_class is not None:
                targets.append(("config_class", spec.config_class))
            for attribute, target in targets:
                try:
                    resolved = resolve_factory(target)
                except Exception as exc:  # noqa: BLE001
                    report.problems.append(f"{kind} '{spec.name}': {attribute} {target!r} does not resolve: {type(exc).__name__}: {exc}")
                    continue
                if attribute == "config_class":
                    problem = _config_class_problem(resolved, DataConfig if kind == "datamodule" else None)
                    if problem:
                        report.problems.append(f"{kind} '{spec.name}': config_class {resolved!r} {problem}")
                        continue
                elif not callable(resolved):
                    report.problems.append(f"{kind} '{spec.name}': {attribute} {target!r} is not callable")
                    continue
                report.checked.append(f"{kind} '{spec.name}': {attribute} resolves")


def _config_class_problem(cls: Any, base: Optional[type]) -> Optional[str]:
    """Why ``cls`` cannot be a config class (a dataclass, extending ``base``, every field with a default)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        return "must be a @dataclass"
    if base is not None and not issubclass(cls, base):
        return f"must extend glmtasks.api.{base.__name__}"
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if required:
        return f"must give every field a default (the declared default of its config key); {', '.join(required)} have none"
    return None


def _compose_task(task_name: str, registry: Any) -> dict[str, Any]:
    """The config ``python -m glmtasks task=<task_name>`` composes, with ``registry`` as the plugins."""
    from glmtasks.cli import compose_dict
    from glmtasks.registry import using_registry
    from glmtasks.searchpath import register_task_nodes

    with using_registry(registry):
        register_task_nodes(registry)
        return compose_dict([f"task={task_name}"])


def _mkdir(path: Optional[Path]) -> Path:
    """``path`` (created if needed), or a new temporary directory."""
    if path is None:
        return Path(tempfile.mkdtemp(prefix="glmtasks-run-"))
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_task(task, registry, data_overrides: dict, backbone, report: PluginReport) -> None:
    """Exercise one task end to end on the tiny backbone, appending to ``report``."""
    import torch
    from lightning import LightningDataModule

    from glmtasks.config import parse_run_config
    from glmtasks.datamodule import DataModuleProtocol
    from glmtasks.errors import GlmtasksError
    from glmtasks.run import build_datamodule, build_head_config, check_config
    from glmtasks.specs import resolve_factory

    where = f"task '{task.name}'"
    problems_before = len(report.problems)

    def problem(message: str) -> None:
        report.problems.append(f"{where}: {message}")

    # -- configs ---------------------------------------------------------------------------
    config_dirs = [path for path, _ in registry.config_dirs]
    for group, why in (("task", f"`task={task.name}` would not compose"), ("data", "`task=<name>` loads data/<name>.yaml by default")):
        if not any((directory / group / f"{task.name}.yaml").is_file() for directory in config_dirs):
            problem(f"no {group}/{task.name}.yaml in the registered config dirs; {why}")
    if len(report.problems) > problems_before:
        return
    try:
        raw = _compose_task(task.name, registry)
        raw["data"].update(data_overrides)
        config = parse_run_config(raw)
        resolved = check_config(config, registry)
    except GlmtasksError as exc:
        return problem(f"`python -m glmtasks task={task.name}` does not compose into a valid config (task/{task.name}.yaml and data/{task.name}.yaml must exist in a registered config dir): {exc}")
    except Exception as exc:  # noqa: BLE001
        return problem(f"a config of the task does not load: {type(exc).__name__}: {exc}")
    report.checked.append(f"{where}: `task={task.name}` composes; task/{task.name}.yaml and data/{task.name}.yaml are valid")

    # -- datamodule ------------------------------------------------------------------------
    from glmtasks.backbone import load_tokenizer

    dm_name = resolved.datamodule
    try:
        datamodule = build_datamodule(config, resolved, registry)
    except Exception as exc:  # noqa: BLE001
        return problem(f"datamodule '{dm_name}'(config) raised {type(exc).__name__}: {exc}")
    if not isinstance(datamodule, LightningDataModule) or not isinstance(datamodule, DataModuleProtocol):
        return problem(f"datamodule '{dm_name}' must be a LightningDataModule implementing glmtasks.api.DataModuleProtocol (extend glmtasks.api.TaskDataModule)")
    task_info = datamodule.task_info
    if not isinstance(task_info, dict) or not _json_ok(task_info):
        return problem(f"datamodule '{dm_name}'.task_info must be a JSON-serializable dict, got {type(task_info).__name__}")
    texts = [t for _, t in zip(range(50), datamodule.training_texts())]
    if not texts or not all(isinstance(t, str) for t in texts):
        return problem(f"datamodule '{dm_name}'.training_texts() must yield strings (got {texts[:2]!r})")
    try:
        tokenizer = load_tokenizer(backbone, datamodule.training_texts)
        datamodule.set_tokenizer(tokenizer)
        datamodule.setup("fit")
        train_batch = next(iter(datamodule.train_dataloader()))
        eval_batch = next(iter(datamodule.val_dataloader()))
        predict_batch = next(iter(datamodule.predict_dataloader()))
    except Exception as exc:  # noqa: BLE001
        return problem(f"datamodule '{dm_name}': tokenizing and batching raised {type(exc).__name__}: {exc}")
    for label, batch in (("train", train_batch), ("validation", eval_batch), ("predict", predict_batch)):
        size = len(batch["index"]) if isinstance(batch, dict) and isinstance(batch.get("index"), torch.Tensor) else None
        if size is None or not all(isinstance(v, torch.Tensor) or (isinstance(v, list) and len(v) == size) for v in batch.values()):
            kinds = {k: type(v).__name__ for k, v in batch.items()} if isinstance(batch, dict) else type(batch).__name__
            return problem(
                f"datamodule '{dm_name}': a {label} batch must be a dict with an 'index' tensor and tensors or "
                f"per-example lists as values, got {kinds}"
            )
    try:
        record = datamodule.example_record("test", int(predict_batch["index"][0]))
    except Exception as exc:  # noqa: BLE001
        return problem(f"datamodule '{dm_name}'.example_record('test', index) raised {type(exc).__name__}: {exc}")
    if not isinstance(record, dict) or not _json_ok(record):
        return problem(f"datamodule '{dm_name}'.example_record must return a JSON-serializable dict, got {record!r}")
    report.checked.append(f"{where}: datamodule '{dm_name}' protocol and batches")

    # -- head ------------------------------------------------------------------------------
    from glmtasks.head import HeadOutput, TaskHead, save_head

    head_spec = registry.heads.get(resolved.head)
    try:
        head = resolve_factory(head_spec.factory)(backbone, tokenizer, task_info, build_head_config(config.task.head_config, resolved, registry, []))
    except Exception as exc:  # noqa: BLE001
        return problem(f"head '{head_spec.name}' factory(backbone, tokenizer, task_info, head_config) raised {type(exc).__name__}: {exc}")
    if not isinstance(head, torch.nn.Module) or not isinstance(head, TaskHead):
        return problem(f"head '{head_spec.name}' must be a torch.nn.Module with model, tokenizer, forward and predict (glmtasks.api.TaskHead)")
    head.train()
    try:
        out = head(train_batch)
    except Exception as exc:  # noqa: BLE001
        return problem(f"head '{head_spec.name}'.forward(train batch) raised {type(exc).__name__}: {exc}")
    if not isinstance(out, HeadOutput):
        return problem(f"head '{head_spec.name}'.forward must return glmtasks.api.HeadOutput, got {type(out).__name__}")
    loss = out.loss
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0 or not loss.requires_grad or not math.isfinite(float(loss.detach())):
        return problem(f"head '{head_spec.name}': the loss of a labelled batch must be a finite scalar tensor with grad, got {loss!r}")
    loss.backward()
    if not any(p.grad is not None for p in head.parameters()):
        return problem(f"head '{head_spec.name}': the loss does not reach any parameter")
    head.zero_grad(set_to_none=True)
    head.eval()
    with torch.no_grad():
        eval_out = head(eval_batch)
    if not isinstance(eval_out, HeadOutput) or not isinstance(eval_out.metric_inputs, tuple) or not eval_out.metric_inputs:
        return problem(f"head '{head_spec.name}': HeadOutput.metric_inputs of a labelled batch must be a non-empty tuple")
    try:
        predictions = head.predict(predict_batch)
    except Exception as exc:  # noqa: BLE001
        return problem(f"head '{head_spec.name}'.predict(batch) raised {type(exc).__name__}: {exc}")
    indices = sorted({int(i) for i in predict_batch["index"]})  # several features (QA windows) may share an example
    got = [r.get("index") for r in predictions if isinstance(r, dict)] if isinstance(predictions, list) else []
    if not all(type(i) is int for i in got) or sorted(got) != indices:
        return problem(f"head '{head_spec.name}'.predict must return one dict per example with its batch 'index' {indices}")
    bad = [r for r in predictions if not _json_ok({**datamodule.example_record("test", int(r["index"])), **r})]
    if bad:
        return problem(f"head '{head_spec.name}'.predict record is not JSON-serializable: {bad[0]!r}")
    if eval_out.predictions is not None:
        try:
            built, predicted = eval_out.predictions(), head.predict(eval_batch)
        except Exception as exc:  # noqa: BLE001
            return problem(f"head '{head_spec.name}': HeadOutput.predictions() or predict(batch) raised {type(exc).__name__}: {exc}")
        if built != predicted:
            return problem(
                f"head '{head_spec.name}': HeadOutput.predictions() must return what predict(batch) returns for the same "
                f"batch (the test pass writes them instead of a predict pass); first record {built[:1]!r} vs {predicted[:1]!r}"
            )
    export = Path(tempfile.mkdtemp(prefix="glmtasks-check-"))
    try:
        save_head(head, export)
        if not (export / "config.json").is_file():
            problem(f"head '{head_spec.name}': the export has no config.json (head.model must be a transformers model)")
    except Exception as exc:  # noqa: BLE001
        problem(f"head '{head_spec.name}': exporting (model, tokenizer, save_extras) raised {type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(export, ignore_errors=True)
    report.checked.append(f"{where}: head '{head_spec.name}' forward, backward, predict and export on real batches")

    # -- metrics ---------------------------------------------------------------------------
    from torchmetrics import Metric

    logged: set[str] = set()
    for metric_name in resolved.metrics:
        spec = registry.metrics.get(metric_name)
        try:
            metric = spec.build(task_info)
            if not isinstance(metric, Metric):
                problem(f"metric '{metric_name}' factory(task_info) must return a torchmetrics.Metric, got {type(metric).__name__}")
                continue
            metric = metric.clone()
            metric.update(*eval_out.metric_inputs)
            value = metric.compute()
        except Exception as exc:  # noqa: BLE001
            problem(f"metric '{metric_name}' on head '{head_spec.name}' metric_inputs raised {type(exc).__name__}: {exc}")
            continue
        values = value if isinstance(value, Mapping) else {metric_name: value}
        for key, scalar in values.items():
            if not (isinstance(scalar, (int, float)) or (isinstance(scalar, torch.Tensor) and scalar.numel() == 1)):
                problem(f"metric '{metric_name}' computed {key}={scalar!r}; each value must be a scalar")
        logged.update(values)
        report.checked.append(f"{where}: metric '{metric_name}' accepts the metric_inputs of head '{head_spec.name}'")
    if resolved.monitor not in logged and len(report.problems) == problems_before:
        problem(f"monitor '{resolved.monitor}' is not among the logged metric values {sorted(logged)}")


def _json_ok(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


# ---------------------------------------------------------------------------------------
# End-to-end runs.


@dataclass
class TaskRun:
    """The outcome of :func:`run_task`."""

    returncode: int
    stdout: str
    stderr: str
    output_dir: Path
    """``paths.output_dir`` of the run (run directories are below it)."""
    run_dir: Optional[Path]
    """The run directory (None when the run failed before writing ``metrics.json``)."""
    metrics: dict
    """``metrics.json``: ``val`` and ``test`` dicts (``val/<metric>``...), ``score``, ``monitor``..."""

    def run_dirs(self) -> list[Path]:
        """Every run directory with a ``metrics.json`` under ``output_dir``, oldest first (a sweep has several)."""
        if not self.output_dir.is_dir():
            return []
        return sorted(path.parent for path in self.output_dir.rglob("metrics.json"))

    def predictions(self) -> list[dict]:
        """The lines of ``predictions.jsonl``."""
        text = (self.run_dir / "predictions.jsonl").read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()]


def plugin_path_env(plugins: Mapping[str, str], directory: Path) -> dict[str, str]:
    """Environment that makes ``plugins`` (entry-point name -> module) load in a subprocess.

    Writes a ``.dist-info`` folder declaring the entry points under ``directory`` and returns
    a ``PYTHONPATH`` holding it and the folders the modules are imported from here.
    """
    dist = directory / "glmtasks_testing_plugins-0.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: glmtasks-testing-plugins\nVersion: 0.0\n", encoding="utf-8")
    lines = "".join(f"{name} = {module}\n" for name, module in plugins.items())
    (dist / "entry_points.txt").write_text(f"[glmtasks]\n{lines}", encoding="utf-8")
    roots = [str(directory)]
    for module in plugins.values():
        spec = find_spec(module.split(".")[0])
        if spec is None:
            raise ValueError(f"plugin module {module!r} is not importable here; install it or put it on sys.path")
        location = Path(next(iter(spec.submodule_search_locations))) if spec.submodule_search_locations else Path(spec.origin)
        if str(location.parent) not in roots:
            roots.append(str(location.parent))
    existing = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": os.pathsep.join(roots + ([existing] if existing else []))}


def run_task(
    task: str,
    overrides: Sequence[str] = (),
    tmp_path: Optional[Path] = None,
    *,
    plugins: Optional[Mapping[str, str]] = None,
    env: Optional[Mapping[str, str]] = None,
    tiny: bool = True,
    check: bool = True,
    timeout: float = 900,
) -> TaskRun:
    """Run ``python -m glmtasks task=<task> <overrides>`` in a subprocess under ``tmp_path``.

    Args:
        task: the task name.
        overrides: Hydra overrides; they win over :data:`TINY_OVERRIDES` for the same key.
        tmp_path: working directory; outputs go to ``tmp_path/outputs`` (default: a new
            temporary directory).
        plugins: entry-point name -> plugin module for plugins that are not installed, e.g.
            ``{"intent": "glmtasks_intent.plugin"}`` (what your pyproject declares).
        env: extra environment variables (``HF_HUB_OFFLINE=1`` is set unless given).
        tiny: prepend :data:`TINY_OVERRIDES`.
        check: raise ``AssertionError`` with the end of stderr when the run fails.
        timeout: seconds before the run is killed.
    """
    given = {o.lstrip("+~").split("=", 1)[0] for o in overrides}
    base = [o for o in TINY_OVERRIDES if o.split("=", 1)[0] not in given] if tiny else []
    return run_glmtasks([f"task={task}", *base, *overrides], tmp_path, plugins=plugins, env=env, check=check, timeout=timeout)


def run_glmtasks(
    args: Sequence[str],
    tmp_path: Optional[Path] = None,
    *,
    plugins: Optional[Mapping[str, str]] = None,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[Path] = None,
    check: bool = False,
    timeout: float = 900,
) -> TaskRun:
    """Run ``python -m glmtasks <args>`` as a user would, outputs under ``tmp_path/outputs``.

    :func:`run_task` with nothing added: for subcommands (``plugins``), sweeps (``-m``), and
    runs that are expected to fail (``check=False``, the default here; read ``returncode``
    and ``stderr``). ``paths.output_dir`` is appended unless the first argument is a subcommand
    or a help flag. Other arguments as in :func:`run_task`; ``cwd`` defaults to ``tmp_path``.
    """
    tmp_path = _mkdir(tmp_path)
    output_dir = tmp_path / "outputs"
    full_env = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **os.environ}
    if plugins:
        full_env.update(plugin_path_env(plugins, tmp_path / "plugin-entry-points"))
    full_env.update(env or {})
    command = [sys.executable, "-m", "glmtasks", *args]
    if not (args and args[0] in ("plugins", "-h", "--help")):
        command.append(f"paths.output_dir={output_dir}")
    proc = subprocess.run(command, cwd=cwd or tmp_path, env=full_env, capture_output=True, text=True, timeout=timeout)
    run = TaskRun(proc.returncode, proc.stdout, proc.stderr, output_dir, None, {})
    found = run.run_dirs()
    if found:
        run.run_dir = found[-1]
        run.metrics = json.loads((run.run_dir / "metrics.json").read_text(encoding="utf-8"))
    if check and (proc.returncode != 0 or run.run_dir is None):
        raise AssertionError(f"{' '.join(command[1:])} exited with {proc.returncode}:\n{proc.stderr[-4000:]}")
    return run


# ---------------------------------------------------------------------------------------
# pytest fixtures (loaded through the ``pytest11`` entry point "glmtasks").

try:
    import pytest
except ImportError:  # pragma: no cover - the kit's functions work without pytest
    pytest = None

if pytest is not None:

    @pytest.fixture
    def tiny_backbone():
        """A ``BackboneConfig``: glm-tiny shrunk to one 64-wide layer (see :func:`tiny_backbone_config`)."""
        return tiny_backbone_config()

    @pytest.fixture
    def glmtasks_run(tmp_path):
        """:func:`run_task` bound to this test's ``tmp_path``: ``glmtasks_run("task", [overrides], plugins=...)``."""

        def run(task: str, overrides: Sequence[str] = (), **kwargs: Any) -> TaskRun:
            return run_task(task, overrides, tmp_path, **kwargs)

        return run
