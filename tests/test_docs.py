"""The plugin author's guide (docs/plugins.md) documents every hook, spec field and head method as they are.

A hookspec added to glmtasks/hookspecs.py fails here until docs/plugins.md has a heading with
its exact signature, a "firstresult: yes|no" line and an example; a hook of the base datamodule
fails until the guide lists it with its parameters. (tests/test_api.py checks the API's names.)
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from glmtasks import hookspecs
from glmtasks.head import TaskHead
from glmtasks.specs import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "plugins.md"
HEADING = re.compile(r"^(#+)\s+(.*)$")


class _Annotation:
    """An annotation rendered as written in the source (``from __future__ import annotations``)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def signature_text(function, drop_self: bool = False) -> str:
    """``name(arg: type, ...) -> type`` with annotations exactly as written in the source."""
    signature = inspect.signature(function)
    parameters = [
        p.replace(annotation=_Annotation(p.annotation) if isinstance(p.annotation, str) else p.annotation)
        for name, p in signature.parameters.items()
        if not (drop_self and name == "self")
    ]
    returns = signature.return_annotation
    signature = signature.replace(parameters=parameters, return_annotation=_Annotation(returns) if isinstance(returns, str) else returns)
    return f"{function.__name__}{signature}"


def hook_specs() -> dict[str, tuple[object, dict]]:
    """Hook name -> (function, pluggy spec options) for every hookspec glmtasks declares."""
    specs = {}
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction):
        options = getattr(function, "glmtasks_spec", None)
        if options is not None:
            specs[name] = (function, options)
    return specs


def sections() -> list[tuple[str, str]]:
    """(heading text, body up to the next heading of the same or a higher level) of the guide."""
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    found = []
    for i, line in enumerate(lines):
        match = HEADING.match(line)
        if not match:
            continue
        level, body = len(match.group(1)), []
        for following in lines[i + 1 :]:
            m = HEADING.match(following)
            if m and len(m.group(1)) <= level:
                break
            body.append(following)
        found.append((match.group(2), "\n".join(body)))
    return found


def section_of(code: str) -> str:
    for heading, body in sections():
        if f"`{code}`" in heading:
            return body
    raise AssertionError(f"docs/plugins.md has no heading `{code}`; add '### `{code}`' with when it is called, what it returns, firstresult and an example")


def test_hookspecs_are_found():
    assert "glmtasks_register_tasks" in hook_specs()


@pytest.mark.parametrize("hook", sorted(hook_specs()))
def test_every_hook_is_documented_with_its_exact_signature(hook):
    function, options = hook_specs()[hook]
    body = section_of(signature_text(function))
    expected = f"firstresult: {'yes' if options.get('firstresult') else 'no'}"
    assert expected in body, f"the section of {hook} in docs/plugins.md must say '{expected}'"
    assert "Returns:" in body and "Called:" in body, f"the section of {hook} must say when it is called and what it returns"
    assert "@hookimpl" in body and f"def {hook}(" in body, f"the section of {hook} needs an example implementation"


def test_documented_hooks_exist():
    known = hook_specs()
    for heading, _ in sections():
        for name in re.findall(r"`(glmtasks_\w+)\(", heading):
            assert name in known, f"docs/plugins.md documents hook {name}, which glmtasks/hookspecs.py does not declare"


@pytest.mark.parametrize("spec", [TaskSpec, HeadSpec, DataModuleSpec, MetricSpec], ids=lambda s: s.__name__)
def test_every_spec_field_is_documented(spec):
    body = {heading.strip("` "): text for heading, text in sections()}.get(spec.__name__)
    assert body is not None, f"docs/plugins.md needs a '### {spec.__name__}' section listing its fields"
    for field in dataclasses.fields(spec):
        assert f"`{field.name}`" in body, f"field {spec.__name__}.{field.name} is missing from its section of docs/plugins.md"


@pytest.mark.parametrize("method", ["forward", "predict"])
def test_head_protocol_methods_are_documented_with_their_signatures(method):
    assert method in {name for name, _ in inspect.getmembers(TaskHead, inspect.isfunction)}
    text = signature_text(getattr(TaskHead, method), drop_self=True)
    assert f"`{text}`" in GUIDE.read_text(encoding="utf-8"), f"docs/plugins.md must document the head method `{text}`"


def test_the_optional_export_hook_is_documented():
    assert "`save_extras(directory: Path) -> None`" in GUIDE.read_text(encoding="utf-8")


def datamodule_hooks() -> list[str]:
    """The methods of TaskDataModule a task overrides (its first block, up to ``adopt_task_info``)."""
    from glmtasks.datamodule import TaskDataModule

    names = [name for name in TaskDataModule.__dict__ if not name.startswith("_") and callable(TaskDataModule.__dict__[name])]
    return names[: names.index("adopt_task_info")]


def test_datamodule_hooks_are_found():
    assert {"encode", "encode_batch", "read_file", "demo_records"} <= set(datamodule_hooks())


@pytest.mark.parametrize("hook", datamodule_hooks())
def test_every_datamodule_hook_is_documented_with_its_parameters(hook):
    from glmtasks.datamodule import TaskDataModule

    parameters = [p for p in inspect.signature(getattr(TaskDataModule, hook)).parameters if p != "self"]
    assert f"`{hook}({', '.join(parameters)})`" in GUIDE.read_text(encoding="utf-8"), f"docs/plugins.md must list the datamodule hook `{hook}({', '.join(parameters)})`"
