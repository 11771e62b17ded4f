"""Hook implementations of the classification plugin (registrations only; no heavy imports)."""

from pathlib import Path

from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl

_PACKAGE = "glmtasks_classification"


@hookimpl
def glmtasks_register_tasks():
    """Sentiment (binary) and general single-label classification of texts or text pairs."""
    common = dict(head="sequence_classification", metrics=("accuracy", "macro_f1"), monitor="accuracy")
    return [
        TaskSpec(name="sentiment", description="binary sentiment of a text (negative/positive)", datamodule="sentiment", **common),
        TaskSpec(name="classification", description="single-label classification of texts or text pairs", datamodule="classification", **common),
    ]


@hookimpl
def glmtasks_register_heads():
    """The transformers ``*ForSequenceClassification`` head (pooling chosen by the architecture), and the verbalizer (cloze) head."""
    return [
        HeadSpec(
            name="sequence_classification",
            factory=f"{_PACKAGE}.heads:make_sequence_classification_head",
            config_class=f"{_PACKAGE}.config:SequenceClassificationConfig",
            description="AutoModelForSequenceClassification: last-token pooling for GLM, [CLS] for BERT",
        ),
        HeadSpec(
            name="verbalizer",
            factory=f"{_PACKAGE}.verbalizer:make_verbalizer_head",
            config_class=f"{_PACKAGE}.config:VerbalizerConfig",
            description="GLM-style cloze: the LM logits of each label's word at the blank ('It was [MASK] .'); prefix or causal attention",
        ),
    ]


@hookimpl
def glmtasks_register_datamodules():
    """Labelled texts from csv/tsv/json(l)/parquet files, the hub, or the generated demo set."""
    return [
        DataModuleSpec(
            name="classification",
            factory=f"{_PACKAGE}.data:ClassificationDataModule",
            config_class=f"{_PACKAGE}.config:ClassificationDataConfig",
            description="labelled texts or text pairs from files, the hub, or a generated demo set",
        ),
        DataModuleSpec(
            name="sentiment",
            factory=f"{_PACKAGE}.data:SentimentDataModule",
            config_class=f"{_PACKAGE}.config:ClassificationDataConfig",
            description="classification data with exactly two labels",
        ),
    ]


@hookimpl
def glmtasks_register_metrics():
    """Accuracy and macro-averaged F1 (torchmetrics)."""
    return [
        MetricSpec(name="accuracy", factory=f"{_PACKAGE}.metrics:accuracy", description="fraction of correct labels"),
        MetricSpec(name="macro_f1", factory=f"{_PACKAGE}.metrics:macro_f1", description="F1 averaged over labels"),
    ]


@hookimpl
def glmtasks_register_config_dirs():
    """``task/``, ``data/`` and ``experiment/`` configs of this plugin."""
    return [Path(__file__).parent / "conf"]


@hookimpl
def glmtasks_draw_figures(run):
    """The confusion matrix of a sentiment or classification run (drawn from predictions.jsonl)."""
    if run.task not in ("sentiment", "classification"):
        return []
    from glmtasks_classification.figures import confusion_matrix_figure

    figure = confusion_matrix_figure(run)
    return [figure] if figure else []
