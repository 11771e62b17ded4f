"""Hook implementations of glmtasks-intent (registrations only; no heavy imports).

Factories and config classes are ``"module:attribute"`` strings, so ``python -m glmtasks plugins``
lists this plugin without importing torch; the modules are imported only when the task runs.
"""

from pathlib import Path

from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl

_PACKAGE = "glmtasks_intent"


@hookimpl
def glmtasks_register_tasks():
    """``intent_slots``: an intent per utterance and a slot tag per word, learnt jointly."""
    return [
        TaskSpec(
            name="intent_slots",
            description="joint intent classification and BIO slot tagging (glmtasks-intent example)",
            head="intent_slots",
            datamodule="intent_slots",
            metrics=("frame_accuracy", "intent_accuracy", "slot_f1"),
            monitor="frame_accuracy",
        )
    ]


@hookimpl
def glmtasks_register_heads():
    """AutoModel encoder with a pooled intent classifier and a per-word slot tagger."""
    return [
        HeadSpec(
            name="intent_slots",
            factory=f"{_PACKAGE}.heads:make_intent_slots_head",
            config_class=f"{_PACKAGE}.config:IntentSlotsHeadConfig",
            description="AutoModel + intent classifier (pooled) + slot tagger (first sub-token per word)",
        )
    ]


@hookimpl
def glmtasks_register_datamodules():
    """Utterances with an intent and BIO tags, from files or the generated command set."""
    return [
        DataModuleSpec(
            name="intent_slots",
            factory=f"{_PACKAGE}.data:IntentSlotsDataModule",
            config_class=f"{_PACKAGE}.config:IntentSlotsDataConfig",
            description="tokens/tags/intent tables (jsonl, csv, ...) or a generated command set",
        )
    ]


@hookimpl
def glmtasks_register_metrics():
    """Intent accuracy, slot-span F1 and frame (whole-utterance) accuracy."""
    return [
        MetricSpec(name="intent_accuracy", factory=f"{_PACKAGE}.metrics:intent_accuracy", description="share of correct intents"),
        MetricSpec(name="slot_f1", factory=f"{_PACKAGE}.metrics:slot_f1", description="slot span F1/precision/recall (type and words exact)"),
        MetricSpec(name="frame_accuracy", factory=f"{_PACKAGE}.metrics:frame_accuracy", description="share of utterances with intent and all tags right"),
    ]


@hookimpl
def glmtasks_register_config_dirs():
    """``task/intent_slots.yaml``, ``data/intent_slots.yaml`` and ``experiment/`` configs."""
    return [Path(__file__).parent / "conf"]
