"""Config classes stay light: composing a config (even to answer a typo) must not import torch & co.

The CLI resolves the ``config_class`` of every registered datamodule and head to declare each
``data.*``/``task.head_config.*`` key; importing them all must leave the heavy libraries unloaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PLUGIN_MODULES = [f"{path.parent.name}.plugin" for path in sorted((REPO / "plugins").glob("*/plugin.py"))] + ["glmtasks_intent.plugin"]
HEAVY = ("torch", "lightning", "transformers", "datasets")

CHECK = """
import importlib, sys
plugin = importlib.import_module(sys.argv[1])
specs = [spec for hook in ("glmtasks_register_heads", "glmtasks_register_datamodules")
         for spec in (getattr(plugin, hook)() if hasattr(plugin, hook) else [])]
names = [spec.config_class for spec in specs if isinstance(spec.config_class, str)]
assert names, f"{sys.argv[1]} registers no config_class"
for name in names:
    module, _, attribute = name.partition(":")
    getattr(importlib.import_module(module), attribute)
heavy = [m for m in sys.argv[2:] if m in sys.modules]
assert not heavy, f"importing {names} loaded {heavy}"
"""


def test_every_builtin_plugin_is_checked():
    for expected in ("glmtasks_classification", "glmtasks_ner", "glmtasks_qa", "glmtasks_pretrain", "glmtasks_summarization", "glmtasks_translation"):
        assert f"{expected}.plugin" in PLUGIN_MODULES


@pytest.mark.parametrize("module", PLUGIN_MODULES)
def test_config_classes_import_no_heavy_library(module):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "examples" / "glmtasks-intent"), env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", CHECK, module, *HEAVY], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
