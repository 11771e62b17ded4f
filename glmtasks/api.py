"""The plugin API: the one module a task plugin imports from glmtasks.

Everything a plugin needs is exported here and documented in ``docs/plugins.md``; the
rest of glmtasks is internal and may change without notice. Built-in plugins and the
examples import only from this module (``tests/test_api.py`` enforces it).

Names are loaded on first use (PEP 562), so ``from glmtasks.api import hookimpl, TaskSpec``
in a plugin's ``plugin.py`` stays as cheap as listing plugins must be; the names that
need torch, Lightning or transformers import them when they are first touched.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # registration
    "hookimpl": "glmtasks.plugins",
    "TaskSpec": "glmtasks.specs",
    "HeadSpec": "glmtasks.specs",
    "DataModuleSpec": "glmtasks.specs",
    "MetricSpec": "glmtasks.specs",
    # run reports
    "ReportFigure": "glmtasks.specs",
    "RunFiles": "glmtasks.runinfo",
    # heads
    "HeadOutput": "glmtasks.head",
    "TaskHead": "glmtasks.head",
    "save_head": "glmtasks.head",
    "BackboneConfig": "glmtasks.config",
    "load_model": "glmtasks.backbone",
    "load_tokenizer": "glmtasks.backbone",
    "train_bpe_tokenizer": "glmtasks.backbone",
    "is_encoder_decoder": "glmtasks.backbone",
    # GLM's prefix LM (bidirectional part A, 2D positions)
    "attention_allowed": "glmtasks.prefix_lm",
    "additive_mask": "glmtasks.prefix_lm",
    "BlockPositionEmbedding": "glmtasks.prefix_lm",
    "BLOCK_POSITION_FILE": "glmtasks.prefix_lm",
    "load_block_position_weight": "glmtasks.prefix_lm",
    "save_block_position_weight": "glmtasks.prefix_lm",
    "prefix_lm_hidden_states": "glmtasks.prefix_lm",
    # data
    "DataConfig": "glmtasks.config",
    "TaskDataModule": "glmtasks.datamodule",
    "DataModuleProtocol": "glmtasks.datamodule",
    "label_names": "glmtasks.datamodule",
    "is_blank": "glmtasks.datamodule",
    "as_number": "glmtasks.datamodule",
    "label_id": "glmtasks.datamodule",
    "read_records": "glmtasks.data",
    "encode_texts": "glmtasks.data",
    "read_table": "glmtasks.data",
    "read_text": "glmtasks.data",
    "root_cause": "glmtasks.data",
    "infer_format": "glmtasks.data",
    "require_columns": "glmtasks.data",
    "PadCollator": "glmtasks.data",
    "pad_rows": "glmtasks.data",
    "train_loader": "glmtasks.data",
    "eval_loader": "glmtasks.data",
    "compute_once": "glmtasks.data",
    "distributed_position": "glmtasks.data",
    "shard_bounds": "glmtasks.data",
    "Progress": "glmtasks.progress",
    "local_data_file": "glmtasks.data",
    "split_archive_path": "glmtasks.data",
    # languages
    "is_cjk": "glmtasks.cjk",
    "normalize_punctuation": "glmtasks.cjk",
    # errors
    "GlmtasksError": "glmtasks.errors",
    "ConfigError": "glmtasks.errors",
    "DataError": "glmtasks.errors",
    # testing kit
    "check_plugin": "glmtasks.testing",
    "run_task": "glmtasks.testing",
    "tiny_backbone_config": "glmtasks.testing",
    "TINY_OVERRIDES": "glmtasks.testing",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"glmtasks.api has no name {name!r}; the plugin API is: {', '.join(__all__)}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
