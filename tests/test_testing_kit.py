"""glmtasks.testing: the tiny backbone, contract checks that catch broken plugins, task runs, fixtures."""

from __future__ import annotations

import types
from importlib.metadata import distributions
from pathlib import Path

import pytest

import glmtasks.testing
from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl
from glmtasks.testing import PluginContractError, check_plugin, plugin_path_env, run_task, tiny_backbone_config

FIXTURES = Path(__file__).parent / "fixtures"
SMALL_DEMO = {"source": "demo", "demo_train_size": 32, "demo_eval_size": 8, "max_length": 32}


def test_tiny_backbone_is_glm_tiny_shrunk_and_accepts_overrides():
    config = tiny_backbone_config(model_config={"num_hidden_layers": 2}, tokenizer_vocab_size=500)
    assert config.name == "glm-tiny" and config.model_type == "glm" and config.name_or_path is None
    assert config.model_config["hidden_size"] == 64 and config.model_config["num_hidden_layers"] == 2
    assert config.model_config["num_attention_heads"] == 4  # kept from conf/backbone/glm-tiny.yaml
    assert config.tokenizer_vocab_size == 500


def test_fixtures_are_served_by_the_pytest11_entry_point(request, tiny_backbone, glmtasks_run):
    assert request.config.pluginmanager.get_plugin("glmtasks") is glmtasks.testing
    assert tiny_backbone.model_config["hidden_size"] == 64 and callable(glmtasks_run)


def test_a_sound_plugin_passes(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES / "topic_plugin"))
    report = check_plugin("topic_plugin.plugin", requires=["glmtasks_classification.plugin"], data={"topic": SMALL_DEMO})
    assert not report.problems
    assert any("metric 'error_rate' accepts the metric_inputs of head 'sequence_classification'" in line for line in report.checked)


def write_configs(root: Path, task: str, data_lines: str) -> Path:
    (root / "task").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "task" / f"{task}.yaml").write_text(f"# test\nname: {task}\n")
    (root / "data" / f"{task}.yaml").write_text(f"# test\n{data_lines}\n")
    return root


def plugin_module(name: str, task: TaskSpec, heads=(), datamodules=(), metrics=(), config_dir=None):
    """A plugin module registering ``task`` and the given specs."""
    module = types.ModuleType(name)
    module.glmtasks_register_tasks = hookimpl(lambda: [task])
    module.glmtasks_register_heads = hookimpl(lambda: list(heads))
    module.glmtasks_register_datamodules = hookimpl(lambda: list(datamodules))
    module.glmtasks_register_metrics = hookimpl(lambda: list(metrics))
    if config_dir is not None:
        module.glmtasks_register_config_dirs = hookimpl(lambda: [config_dir])
    return module


def test_broken_registrations_and_configs_are_all_reported_at_once(tmp_path):
    task = TaskSpec(name="broken", description="", head="missing_module_head", datamodule="dict_config", metrics=("m",), monitor="m")
    plugin = plugin_module(
        "broken_plugin",
        task,
        heads=[HeadSpec(name="missing_module_head", factory="no_such_module_xyz:make")],
        datamodules=[DataModuleSpec(name="dict_config", factory="builtins:dict", config_class="builtins:dict")],
        metrics=[MetricSpec(name="m", factory="torchmetrics:MeanMetric")],
    )
    with pytest.raises(PluginContractError) as error:
        check_plugin(plugin)
    message = str(error.value)
    assert "head 'missing_module_head': factory 'no_such_module_xyz:make' does not resolve: ModuleNotFoundError" in message
    assert "datamodule 'dict_config': config_class <class 'dict'> must be a @dataclass" in message
    assert "task 'broken': no task/broken.yaml in the registered config dirs" in message
    assert "task 'broken': no data/broken.yaml" in message
    assert "metric 'm': factory resolves" in message  # what passed is listed too


def test_an_unknown_data_key_is_reported(tmp_path):
    config_dir = write_configs(tmp_path / "conf", "typo", "source: demo\ndemo_train_sise: 10")
    task = TaskSpec(name="typo", description="", head="sequence_classification", datamodule="classification", metrics=("accuracy",), monitor="accuracy")
    report = check_plugin(plugin_module("typo_plugin", task, config_dir=config_dir), requires=["glmtasks_classification.plugin"], raise_on_problems=False)
    assert any("unknown key 'data.demo_train_sise' (did you mean 'demo_train_size'?)" in p for p in report.problems)


def dict_returning_head(backbone, tokenizer, task_info, head_config):
    """The built-in classification head, but forward returns a dict instead of a HeadOutput."""
    from glmtasks_classification.heads import make_sequence_classification_head

    head = make_sequence_classification_head(backbone, tokenizer, task_info, head_config)
    head.forward = lambda batch: {"loss": head.model(input_ids=batch["input_ids"]).logits.sum()}
    return head


def head_predicting_without_index(backbone, tokenizer, task_info, head_config):
    """The built-in classification head, but its predictions lose the ``index``."""
    from glmtasks_classification.heads import make_sequence_classification_head

    head = make_sequence_classification_head(backbone, tokenizer, task_info, head_config)
    predict = head.predict
    head.predict = lambda batch: [{k: v for k, v in r.items() if k != "index"} for r in predict(batch)]
    return head


def head_whose_test_predictions_disagree(backbone, tokenizer, task_info, head_config):
    """The built-in classification head, but the records built in the test pass flip every label."""
    from glmtasks_classification.heads import make_sequence_classification_head

    head = make_sequence_classification_head(backbone, tokenizer, task_info, head_config)
    forward = head.forward

    def flipped(batch):
        out = forward(batch)
        records = out.predictions
        out.predictions = lambda: [{**r, "prediction": head.labels[1 - head.labels.index(r["prediction"])]} for r in records()]
        return out

    head.forward = flipped
    return head


def metric_logging_other_names(task_info):
    """A metric whose compute() returns a dict without the task's monitor name."""
    from torchmetrics import MeanMetric

    class Renamed(MeanMetric):
        def update(self, predicted, gold):
            super().update((predicted == gold).float())

        def compute(self):
            return {"agreement": super().compute()}

    return Renamed()


@pytest.mark.parametrize(
    ("head", "metric", "expected"),
    [
        (dict_returning_head, "accuracy", "head 'h'.forward must return glmtasks.api.HeadOutput, got dict"),
        (head_predicting_without_index, "accuracy", "head 'h'.predict must return one dict per example with its batch 'index'"),
        (head_whose_test_predictions_disagree, "accuracy", "head 'h': HeadOutput.predictions() must return what predict(batch) returns"),
        ("glmtasks_classification.heads:make_sequence_classification_head", "renamed", "monitor 'renamed' is not among the logged metric values ['agreement']"),
    ],
    ids=["forward-returns-dict", "predict-drops-index", "test-predictions-disagree", "monitor-not-logged"],
)
def test_broken_heads_and_metrics_are_caught_on_a_real_batch(tmp_path, head, metric, expected):
    config_dir = write_configs(tmp_path / "conf", "t", "\n".join(f"{k}: {v}" for k, v in SMALL_DEMO.items()))
    task = TaskSpec(name="t", description="", head="h", datamodule="classification", metrics=(metric,), monitor=metric)
    plugin = plugin_module(
        "bad_head_plugin", task, heads=[HeadSpec(name="h", factory=head, config_class="glmtasks_classification.heads:SequenceClassificationConfig")],
        metrics=[MetricSpec(name="renamed", factory=metric_logging_other_names)], config_dir=config_dir,
    )
    with pytest.raises(PluginContractError) as error:
        check_plugin(plugin, requires=["glmtasks_classification.plugin"])
    assert expected in str(error.value)


def test_plugin_path_env_declares_entry_points_for_a_subprocess(tmp_path):
    env = plugin_path_env({"intent": "glmtasks_intent.plugin"}, tmp_path / "eps")
    paths = env["PYTHONPATH"].split(":")
    assert paths[0] == str(tmp_path / "eps") and any(Path(p, "glmtasks_intent").is_dir() for p in paths)
    (dist,) = distributions(path=[str(tmp_path / "eps")])
    assert [(ep.group, ep.name, ep.value) for ep in dist.entry_points] == [("glmtasks", "intent", "glmtasks_intent.plugin")]


def test_run_task_raises_with_the_cli_error(tmp_path):
    with pytest.raises(AssertionError, match=r"exited with 2:\nerror: unknown task 'no_such_task'"):
        run_task("no_such_task", [], tmp_path)
    run = run_task("no_such_task", [], tmp_path, check=False)
    assert run.returncode == 2 and run.run_dir is None and run.metrics == {}


@pytest.mark.parametrize(("plugin", "data"), [
    ("glmtasks_classification.plugin", {"sentiment": {"demo_train_size": 32, "demo_eval_size": 8}, "classification": SMALL_DEMO}),
    ("glmtasks_ner.plugin", {"ner": {"demo_train_size": 32, "demo_eval_size": 8}}),
    ("glmtasks_translation.plugin", {"translation": {"demo_train_size": 32, "demo_eval_size": 8}}),
    ("glmtasks_summarization.plugin", {"summarization": {"demo_train_size": 32, "demo_eval_size": 8}}),
])
def test_builtin_plugins_pass_the_contract_their_test_predictions_included(plugin, data):
    report = check_plugin(plugin, data=data)
    assert not report.problems
