"""The plugin satisfies glmtasks' contracts (glmtasks.testing.check_plugin on the tiny backbone)."""

from __future__ import annotations

import glmtasks_intent.plugin
from glmtasks.api import check_plugin


def test_intent_plugin_satisfies_the_glmtasks_contracts():
    report = check_plugin(glmtasks_intent.plugin, data={"intent_slots": {"demo_train_size": 48, "demo_eval_size": 12}})
    assert not report.problems
    assert any("head 'intent_slots' forward, backward, predict" in line for line in report.checked)
    assert sum("accepts the metric_inputs" in line for line in report.checked) == 3
