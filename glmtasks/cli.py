"""The command line: ``python -m glmtasks [plugins | runs | compare | report | --help | [-m] overrides...]``.

The only module that imports Hydra. Configs are composed once before Hydra runs so that a
bad override (unknown task, misspelt key) fails in one line with exit code 2, before a
run directory is made; then ``hydra.main`` runs the job (or the sweep, with ``-m``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from glmtasks.errors import ConfigError, GlmtasksError
from glmtasks.registry import Registry, default_registry, did_you_mean
from glmtasks.run import refuse_used_run_dir

EXAMPLES = """\
examples:
  python -m glmtasks task=sentiment                                  offline demo (glm-tiny)
  python -m glmtasks task=sentiment data=sst2 backbone=minilm        real data, pretrained encoder
  python -m glmtasks task=classification data.source=files data.train_file=train.csv data.validation_file=dev.csv
  python -m glmtasks experiment=sst2_minilm                          a saved experiment
  python -m glmtasks -m task=sentiment optimizer.lr=1e-4,5e-4        a sweep, one run per value
  python -m glmtasks task=sentiment --cfg job                        print the composed config
  python -m glmtasks plugins                                         tasks, heads, datamodules, metrics
  python -m glmtasks runs task=sentiment since=2d                    runs under outputs/, newest first
  python -m glmtasks compare outputs/sentiment/<run> outputs/sentiment/<run>   metrics, differing config, curves
  python -m glmtasks report outputs/sentiment/<run>                  redraw a run's report.png and task figures
"""

# Sections whose keys are not declared in advance (Lightning Trainer arguments, model config
# fields, optimizer arguments): a new key there is added with ``+key=value``.
FREE_FORM_SECTIONS = ("trainer", "backbone.model_config", "optimizer.kwargs")

# Hydra's own command-line flags; when present, the pre-check is skipped and Hydra handles them.
HYDRA_FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--info", "--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--experimental-rerun"}


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Console entry point (``glmtasks`` and ``python -m glmtasks``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["plugins"]:
            print(format_plugins(default_registry()))
            return
        if args[:1] in (["runs"], ["compare"], ["report"]):
            print(run_files_command(args[0], args[1:]))
            return
        if args[:1] in (["-h"], ["--help"]):
            print(help_text(default_registry()))
            return
        if not any(a.startswith("-") and a not in ("-m", "--multirun") for a in args):
            multirun = "-m" in args or "--multirun" in args
            precheck([a for a in args if a not in ("-m", "--multirun")], multirun=multirun)
        run_hydra(args)
    except GlmtasksError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


def run_files_command(command: str, args: list[str]) -> str:
    """``runs`` (list run directories), ``compare`` (runs side by side) and ``report`` (redraw a run's figures)."""
    if command == "runs":
        from glmtasks.runs import format_runs, select_runs

        return format_runs(*select_runs(args))
    if command == "compare":
        from glmtasks.runs import compare

        return compare(args)
    from glmtasks.report import matplotlib_missing, write_report

    if not args:
        raise ConfigError("usage: python -m glmtasks report <run dir> ... (python -m glmtasks runs lists them)")
    missing = matplotlib_missing()
    if missing:
        raise ConfigError(f"{missing}; pip install matplotlib to draw reports")
    lines = []
    for path in args:
        if not (Path(path) / "metrics.json").is_file():
            raise ConfigError(f"{path} has no metrics.json: only a finished run has a report (python -m glmtasks runs lists them)")
        lines.append(f"{path}: {', '.join(p.name for p in write_report(path, default_registry()))}")
    return "\n".join(lines)


def help_text(registry: Registry) -> str:
    """Usage, every config group with its options (read from the config folders), examples."""
    from glmtasks.searchpath import config_search_dirs

    groups: dict[str, set[str]] = {}
    for directory in config_search_dirs():
        for group in sorted(p for p in directory.iterdir() if p.is_dir()):
            groups.setdefault(group.name, set()).update(f.stem for f in group.glob("*.yaml"))
    lines = ["usage: python -m glmtasks [plugins | runs | compare | report] [-m] [group=option ...] [key=value ...]", "", "config groups (group=option):"]
    for name in sorted(groups):
        if name != "hydra":
            lines.append(f"  {name:<15} {', '.join(sorted(groups[name]))}")
    lines += ["", EXAMPLES, "Hydra's flags also work: --cfg job, --info, --hydra-help, -m/--multirun."]
    return "\n".join(lines)


def format_plugins(registry: Registry) -> str:
    """What ``python -m glmtasks plugins`` prints: every name with the plugin that provided it."""
    sections = [
        ("tasks", registry.tasks), ("heads", registry.heads),
        ("datamodules", registry.datamodules), ("metrics", registry.metrics),
    ]
    lines: list[str] = []
    for title, catalog in sections:
        lines.append(f"{title}:")
        for spec in catalog:
            lines.append(f"  {spec.name:<26} {catalog.plugin_of(spec.name):<18} {spec.description}")
    lines.append("config dirs:")
    lines += [f"  {path}  ({plugin})" for path, plugin in registry.config_dirs]
    if registry.manager is not None:
        drawers = [impl.plugin_name for impl in registry.manager.hook.glmtasks_draw_figures.get_hookimpls()]
        lines.append(f"report figures (glmtasks_draw_figures): {', '.join(sorted(drawers)) or 'none'}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Pre-check: compose and validate before Hydra makes a run directory.


def _single_run_overrides(overrides: list[str]) -> list[str]:
    """Overrides with each sweep replaced by its first value (Optuna ranges are dropped)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    single = []
    for override, text in zip(parsed, overrides):
        if not override.is_sweep_override():
            single.append(text)
            continue
        try:
            first = next(iter(override.sweep_string_iterator()))
        except Exception:  # noqa: BLE001 - range/interval sweeps have no value list
            continue
        single.append(f"{override.get_key_element()}={first}")
    return single


def compose(overrides: list[str], with_hydra: bool = False):
    """Compose the primary config with ``overrides`` (Hydra's Compose API).

    With ``with_hydra`` the result keeps the ``hydra`` node (run directory and so on).
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from glmtasks.searchpath import core_config_dir, prepare_hydra

    prepare_hydra()
    with initialize_config_dir(version_base="1.3", config_dir=str(core_config_dir()), job_name="glmtasks"):
        return hydra_compose("config", overrides=overrides, return_hydra_config=with_hydra)


def compose_dict(overrides: list[str]) -> dict[str, Any]:
    """The composed config (without ``hydra``) as plain Python values, interpolations resolved."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(compose(overrides), resolve=True)


def precheck(overrides: list[str], multirun: bool = False) -> None:
    """Compose and validate the run config; raise :class:`ConfigError` in one line if invalid.

    Also refuses a ``hydra.run.dir`` that holds an earlier run, before Hydra writes into it.
    """
    from hydra.errors import HydraException, OverrideParseException
    from omegaconf import OmegaConf, open_dict
    from omegaconf.errors import OmegaConfBaseException

    try:
        single = _single_run_overrides(overrides)
        cfg = compose(single, with_hydra=True)
        run_dir = None if multirun else cfg.hydra.run.dir
        with open_dict(cfg):
            del cfg["hydra"]
        raw = OmegaConf.to_container(cfg, resolve=True)
    except OverrideParseException as exc:
        raise ConfigError(f"cannot parse override: {_one_line(str(exc))}") from exc
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(explain_composition_error(exc, single)) from exc
    if run_dir:
        refuse_used_run_dir(Path(run_dir))
    validate(raw)


def validate(raw: dict[str, Any]):
    """Everything the run checks before touching data: sections, task names, data and head keys."""
    from glmtasks.config import parse_run_config
    from glmtasks.run import check_config

    config = parse_run_config(raw)
    check_config(config, default_registry())
    return config


def explain_composition_error(exc: Exception, overrides: list[str]) -> str:
    """Turn a Hydra/OmegaConf composition error into one line that names the fix."""
    from hydra.errors import MissingConfigException

    message = str(exc)
    if isinstance(exc, MissingConfigException) and exc.missing_cfg_file and "/" in exc.missing_cfg_file:
        group, _, name = exc.missing_cfg_file.rpartition("/")
        options = sorted(exc.options or [])
        if options and group == "task":
            return (
                f"unknown task '{name}'{did_you_mean(name, options)}; no installed plugin provides it (tasks: "
                f"{', '.join(options)}; installed plugins: {', '.join(installed_plugins())}); a plugin package adds its "
                "tasks through a 'glmtasks' entry point once it is pip-installed"
            )
        if options:
            return f"unknown {group} '{name}'{did_you_mean(name, options)}; available: {', '.join(options)} (choose with {group}=<option>)"
        return f"no config '{exc.missing_cfg_file}.yaml' found; a task's default data must be data/<task>.yaml (or pass data=<option>)"
    match = re.search(r"Could not override '([^']+)'", message)
    if match:
        key = match.group(1)
        parent, _, leaf = key.rpartition(".")
        siblings = _keys_at(parent, [o for o in overrides if not o.lstrip("+~").startswith(key + "=")])
        hint = did_you_mean(leaf, siblings) if siblings else ""
        if parent in FREE_FORM_SECTIONS or (parent and not siblings):  # a free-form mapping ({} by default)
            return f"unknown config key '{key}'{hint}; check the spelling, or add a new key with +{key}=<value>"
        return f"unknown config key '{key}'{hint}; check the spelling (python -m glmtasks <your overrides> --cfg job lists every key)"
    match = re.search(r"Could not load '([^']+)'", message)
    if match:
        return f"cannot load config '{match.group(1)}': {_one_line(message)}"
    return _one_line(message)


def installed_plugins() -> list[str]:
    """Names of the loaded plugins (the entry-point names), sorted."""
    registry = default_registry()
    catalogs = (registry.tasks, registry.heads, registry.datamodules, registry.metrics)
    names = {catalog.plugin_of(spec.name) for catalog in catalogs for spec in catalog}
    return sorted(names | {plugin for _, plugin in registry.config_dirs})


def _keys_at(parent: str, overrides: list[str]) -> list[str]:
    from omegaconf import OmegaConf

    try:
        node = OmegaConf.select(compose(overrides), parent) if parent else compose(overrides)
        return list(node.keys()) if node is not None and hasattr(node, "keys") else []
    except Exception:  # noqa: BLE001 - hints are best effort
        return []


def _one_line(message: str) -> str:
    return " ".join(line.strip() for line in message.strip().splitlines() if line.strip())


# ---------------------------------------------------------------------------------------
# The Hydra job.


def run_hydra(args: list[str]) -> None:
    """Hand the arguments to ``hydra.main`` (single run, multirun, or Hydra's own flags)."""
    import hydra

    from glmtasks.searchpath import core_config_dir, prepare_hydra

    prepare_hydra()
    sys.argv = [sys.argv[0], *args]

    @hydra.main(version_base="1.3", config_path=str(core_config_dir()), config_name="config")
    def _job(cfg) -> Optional[float]:
        return run_job(cfg)

    _job()


def run_job(cfg) -> Optional[float]:
    """One Hydra job: validate, run the mode, and return the monitored metric (for sweepers).

    In a multirun, a failed job is recorded in its ``job.json`` and the sweep goes on
    (:func:`glmtasks.sweep.run_sweep_job`); a single run fails in one line with exit code 2.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from glmtasks.run import run

    _quiet_libraries()
    hydra_config = HydraConfig.get()

    def load_config():
        raw = OmegaConf.to_container(cfg, resolve=True)
        raw["paths"]["run_dir"] = hydra_config.runtime.output_dir
        return validate(raw)

    if hydra_config.mode == RunMode.MULTIRUN:
        from glmtasks.sweep import run_sweep_job

        return run_sweep_job(load_config, run, hydra_config.runtime.output_dir, list(hydra_config.overrides.task), report=_summary)
    try:
        result = run(load_config())
    except GlmtasksError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    print(_summary(result))
    return result["score"]


def _quiet_libraries() -> None:
    """No per-split progress bars from datasets, none for writing a few model files: errors stay one line, logs stay readable."""
    import datasets
    from transformers.utils import logging as transformers_logging

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()


def _summary(result: dict[str, Any]) -> str:
    def fmt(metrics: dict[str, float]) -> str:
        return " ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items()))

    lines = []
    if "val" in result:
        lines += [f"validation: {fmt(result['val'])}", f"test: {fmt(result['test'])}"]
    if "metrics" in result:
        lines.append(f"{result['split']}: {fmt(result['metrics'])}")
    if "predictions" in result:
        lines.append(f"predictions: {result['predictions']} lines in {result['run_dir']}/predictions.jsonl")
    if "export" in result:
        lines.append(f"export: {result['export']}")
    return "\n".join(lines + [f"run directory: {result['run_dir']}"])
