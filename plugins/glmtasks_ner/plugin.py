"""Hook implementations of the named-entity recognition plugin (registrations only; no heavy imports)."""

from pathlib import Path

from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl

_PACKAGE = "glmtasks_ner"


@hookimpl
def glmtasks_register_tasks():
    """Named-entity recognition: a tag per word, scored on whole entities."""
    return [
        TaskSpec(
            name="ner",
            description="named-entity recognition on CoNLL column files or token/tag jsonl",
            head="token_classification",
            datamodule="conll",
            metrics=("entity_f1",),
            monitor="entity_f1",
        )
    ]


@hookimpl
def glmtasks_register_heads():
    """The transformers ``*ForTokenClassification`` head, read at each word's first sub-token."""
    return [
        HeadSpec(
            name="token_classification",
            factory=f"{_PACKAGE}.heads:make_token_classification_head",
            config_class=f"{_PACKAGE}.config:TokenClassificationConfig",
            description="AutoModelForTokenClassification (BERT, GLM, ...), first sub-token per word",
        )
    ]


@hookimpl
def glmtasks_register_datamodules():
    """CoNLL column files or jsonl with IOB1/IOB2/BIOES tags, or generated demo sentences."""
    return [
        DataModuleSpec(
            name="conll",
            factory=f"{_PACKAGE}.data:NERDataModule",
            config_class=f"{_PACKAGE}.config:NERDataConfig",
            description="CoNLL columns or token/tag jsonl (IOB1/IOB2/BIOES); or a generated demo set",
        )
    ]


@hookimpl
def glmtasks_register_metrics():
    """Entity-level precision, recall and F1 (exact span and type), overall and per type."""
    return [
        MetricSpec(
            name="entity_f1",
            factory=f"{_PACKAGE}.metrics:entity_f1",
            description="entity F1/precision/recall, overall and per type (exact span and type)",
        )
    ]


@hookimpl
def glmtasks_register_config_dirs():
    """``task/ner.yaml``, ``data/{ner,conll2003}.yaml`` and ``experiment/`` configs."""
    return [Path(__file__).parent / "conf"]


@hookimpl
def glmtasks_draw_figures(run):
    """Precision, recall and F1 bars per entity type of an NER run."""
    if run.task != "ner":
        return []
    from glmtasks_ner.figures import entity_type_figure

    figure = entity_type_figure(run)
    return [figure] if figure else []
