"""Every shipped config composes and validates; bad configs fail with one clear line."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from glmtasks.cli import compose, precheck, validate
from glmtasks.config import parse_run_config
from glmtasks.errors import ConfigError, GlmtasksError
from glmtasks.searchpath import config_search_dirs

# Options that need a value the user must give.
REQUIRED = {("backbone", "hf"): ["backbone.name_or_path=some/model"]}
SKIP_GROUPS = {"hydra", "hparams_search"}


def shipped_options() -> list[tuple[str, str]]:
    options = set()
    for directory in config_search_dirs():
        for group in directory.iterdir():
            if group.is_dir() and group.name not in SKIP_GROUPS:
                options.update((group.name, f.stem) for f in group.glob("*.yaml"))
    return sorted(options)


def test_primary_config_composes_to_a_valid_run_config():
    config = validate(OmegaConf.to_container(compose([]), resolve=True))
    assert config.task.name == "sentiment" and config.backbone.name == "glm-tiny"
    assert config.trainer["accelerator"] == "cpu"


@pytest.mark.parametrize("group,option", shipped_options())
def test_every_shipped_option_composes_and_validates(group, option):
    overrides = [f"{group}={option}"] + REQUIRED.get((group, option), [])
    if group != "data":
        validate(OmegaConf.to_container(compose(overrides), resolve=True))
        return
    # A data option belongs to some task: it must validate with at least one registered task.
    from glmtasks.registry import default_registry

    problems = []
    for task in default_registry().tasks:
        try:
            validate(OmegaConf.to_container(compose([f"task={task.name}", *overrides]), resolve=True))
            return
        except GlmtasksError as exc:
            problems.append(f"{task.name}: {exc}")
    pytest.fail(f"data={option} validates with no task: {problems}")


def test_every_task_has_its_default_data_config():
    from glmtasks.registry import default_registry

    for task in default_registry().tasks:
        cfg = compose([f"task={task.name}"])
        assert cfg.task.name == task.name


@pytest.mark.parametrize(
    "overrides,message",
    [
        (["task=sentimnt"], "unknown task 'sentimnt' (did you mean 'sentiment'?); no installed plugin provides it"),
        (["backbone=glm-tinny"], "unknown backbone 'glm-tinny' (did you mean 'glm-tiny'?)"),
        (["data=sst3"], "unknown data 'sst3' (did you mean 'sst2'?)"),
        (["trainer.max_step=3"], "unknown config key 'trainer.max_step' (did you mean 'max_steps'?)"),
        (["optimizer.lr=fast"], "'optimizer.lr' must be float, got 'fast'"),
        (["+trainer.bogus_arg=1"], "unknown key 'trainer.bogus_arg'; it is not an argument of Trainer.__init__"),
        (["+data.text_colum=x"], "unknown key 'data.text_colum' (did you mean 'text_column'?)"),
        (["task.head=nope"], "unknown head 'nope'"),
        (["optimizer.lr=[1"], "cannot parse override"),
    ],
)
def test_bad_overrides_fail_in_one_line(overrides, message):
    with pytest.raises(GlmtasksError) as info:
        precheck(overrides)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_all_errors_are_reported_at_once():
    raw = OmegaConf.to_container(compose([]), resolve=True)
    raw["optimizer"]["lrr"] = 1
    raw["callbacks"]["progress"] = True
    with pytest.raises(ConfigError) as info:
        parse_run_config(raw)
    assert "optimizer.lrr" in str(info.value) and "callbacks.progress" in str(info.value)


def test_reserved_trainer_keys_point_to_their_group():
    raw = OmegaConf.to_container(compose([]), resolve=True)
    raw["trainer"]["logger"] = False
    with pytest.raises(ConfigError, match="use the 'logger' config group"):
        parse_run_config(raw)


# ---------------------------------------------------------------------------------------
# Declared keys: every field of the task's config classes is in the composed config, with its default.


def test_documented_data_keys_need_no_plus():
    from glmtasks.cli import compose_dict, validate

    config = validate(compose_dict(["task=sentiment", "data=sst2", "data.max_train_samples=2000", "data.validation_size=5"]))
    assert config.data["max_train_samples"] == 2000 and config.data["text_column"] == "sentence"


def test_data_and_head_defaults_come_from_the_config_classes():
    import dataclasses

    from glmtasks.cli import compose_dict
    from glmtasks_classification.config import ClassificationDataConfig
    from glmtasks_generation.config import GenerationHeadConfig

    data = compose_dict(["task=classification"])["data"]
    defaults = dataclasses.asdict(ClassificationDataConfig())
    assert set(data) == set(defaults)
    assert {k: v for k, v in data.items() if k != "source"} == {k: v for k, v in defaults.items() if k != "source"}
    head_config = compose_dict(["task=translation", "task.head_config.num_beams=4"])["task"]["head_config"]
    assert head_config == {**dataclasses.asdict(GenerationHeadConfig()), "num_beams": 4}


def test_a_task_gives_trainer_defaults_that_the_command_line_overrides(hermetic_registry, tmp_path):
    import types

    from glmtasks.api import TaskSpec, hookimpl
    from glmtasks.cli import compose_dict
    from glmtasks.registry import using_registry
    from glmtasks.searchpath import register_task_nodes

    (tmp_path / "task").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "task" / "epochs.yaml").write_text("# test\nname: epochs\n")
    (tmp_path / "data" / "epochs.yaml").write_text("# test\nsource: demo\n")
    plugin = types.ModuleType("epochs_plugin")
    plugin.glmtasks_register_tasks = hookimpl(lambda: [TaskSpec(
        name="epochs", description="", head="sequence_classification", datamodule="classification",
        metrics=("accuracy",), monitor="accuracy", trainer={"max_epochs": 7, "gradient_clip_val": 0.5})])
    plugin.glmtasks_register_config_dirs = hookimpl(lambda: [tmp_path])
    import glmtasks_classification.plugin as classification

    with using_registry(hermetic_registry(classification, plugin)) as registry:
        register_task_nodes(registry)
        trainer = compose_dict(["task=epochs"])["trainer"]
        assert trainer["max_epochs"] == 7 and trainer["gradient_clip_val"] == 0.5 and trainer["accelerator"] == "cpu"
        assert compose_dict(["task=epochs", "trainer.max_epochs=2"])["trainer"]["max_epochs"] == 2
        assert compose_dict(["task=epochs", "trainer=gpu"])["trainer"]["max_epochs"] == 7


def test_a_head_without_options_refuses_them_and_a_typo_is_named(tmp_path):
    from glmtasks.cli import precheck

    with pytest.raises(GlmtasksError, match=r"unknown key 'task.head_config.num_beam' \(did you mean 'num_beams'\?\)"):
        precheck(["task=translation", "+task.head_config.num_beam=4"])
    with pytest.raises(GlmtasksError, match=r"unknown config key 'task.head_config.num_beam' \(did you mean 'num_beams'\?\)"):
        precheck(["task=translation", "task.head_config.num_beam=4"])


def test_export_of_adapters_alone_is_refused_for_a_model_built_from_scratch():
    from glmtasks.cli import precheck

    with pytest.raises(GlmtasksError, match=r"backbone.peft.merge_on_export=false exports only the adapters"):
        precheck(["task=sentiment", "peft=lora", "backbone.peft.merge_on_export=false"])
