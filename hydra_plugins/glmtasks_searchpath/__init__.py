"""Hydra search-path plugin: adds glmtasks' configs and those of every glmtasks plugin."""

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class GlmtasksSearchPathPlugin(SearchPathPlugin):
    """Appends ``glmtasks/conf`` and each plugin's registered config directories."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from glmtasks.searchpath import config_search_dirs, prepare_hydra

        prepare_hydra()
        for directory in config_search_dirs():
            search_path.append(provider="glmtasks", path=f"file://{directory}")
