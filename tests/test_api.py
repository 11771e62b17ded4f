"""The plugin API is the one door: plugins import nothing else of glmtasks, and every exported name is documented."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import glmtasks.api as api

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "plugins.md"
PLUGIN_SOURCES = sorted((REPO / "plugins").rglob("*.py")) + sorted(
    path for path in (REPO / "examples").rglob("*.py") if "tests" not in path.parts
)
HYDRA_MODULES = {"glmtasks/cli.py", "glmtasks/sweep.py", "glmtasks/searchpath.py"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import statement in ``path``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_the_scan_covers_every_builtin_plugin_and_the_examples():
    packages = {path.relative_to(REPO).parts[1] for path in PLUGIN_SOURCES}
    for expected in ("glmtasks_classification", "glmtasks_qa", "glmtasks_ner", "glmtasks_pretrain", "glmtasks-intent"):
        assert expected in packages


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_plugins_import_glmtasks_only_through_the_api(path):
    wrong = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for line, module in imported_modules(path)
        if (module == "glmtasks" or module.startswith("glmtasks.")) and module != "glmtasks.api"
    ]
    assert not wrong, "plugins may import only glmtasks.api: " + "; ".join(wrong)


def test_the_import_rule_catches_an_internal_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from glmtasks.data import pad_rows\n    import glmtasks.api\n")
    assert [module for _, module in imported_modules(bad)] == ["glmtasks.data", "glmtasks.api"]


def test_only_the_hydra_boundary_imports_hydra_or_omegaconf():
    offenders = []
    for path in sorted((REPO / "glmtasks").rglob("*.py")) + PLUGIN_SOURCES:
        relative = str(path.relative_to(REPO))
        if relative in HYDRA_MODULES:
            continue
        for line, module in imported_modules(path):
            if module.split(".")[0] in ("hydra", "omegaconf"):
                offenders.append(f"{relative}:{line} imports {module}")
    assert not offenders


@pytest.mark.parametrize("name", api.__all__)
def test_every_exported_name_resolves(name):
    assert getattr(api, name) is not None


@pytest.mark.parametrize("name", api.__all__)
def test_every_exported_name_is_documented_in_the_plugin_guide(name):
    guide = GUIDE.read_text(encoding="utf-8")
    assert re.search(rf"`{re.escape(name)}[`(\[]", guide), f"glmtasks.api.{name} is not documented in docs/plugins.md"


def test_unknown_name_lists_the_api():
    with pytest.raises(AttributeError, match="the plugin API is: .*TaskDataModule"):
        api.no_such_name  # noqa: B018


def test_registering_a_plugin_does_not_import_torch():
    code = (
        "import sys\n"
        "from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl\n"
        "heavy = [m for m in ('torch', 'lightning', 'transformers', 'hydra') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
