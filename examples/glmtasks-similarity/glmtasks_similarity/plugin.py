"""Registrations of the similarity plugin (cheap to import: no torch)."""

from pathlib import Path

from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl


@hookimpl
def glmtasks_register_tasks():
    """Sentence-pair similarity, selected on Pearson correlation."""
    return [TaskSpec(name="similarity", description="similarity of two sentences, 0-5 (STS-B style)", head="regression",
                     datamodule="sentence_pairs", metrics=("pearson", "spearman"), monitor="pearson", trainer={"max_epochs": 5})]


@hookimpl
def glmtasks_register_heads():
    """One real-valued output on a transformers sequence classifier."""
    return [HeadSpec(name="regression", factory="glmtasks_similarity.heads:make_regression_head",
                     description="AutoModelForSequenceClassification with num_labels=1 and a mean squared error loss")]


@hookimpl
def glmtasks_register_datamodules():
    """Scored sentence pairs from files or a generated demo set."""
    return [DataModuleSpec(name="sentence_pairs", factory="glmtasks_similarity.data:SentencePairs",
                           config_class="glmtasks_similarity.config:SentencePairsConfig",
                           description="sentence pairs with a similarity score (csv/tsv/jsonl or demo)")]


@hookimpl
def glmtasks_register_metrics():
    """Pearson and Spearman correlation of predicted and gold scores (torchmetrics classes, no options)."""
    return [MetricSpec(name="pearson", factory="torchmetrics.regression:PearsonCorrCoef", description="linear correlation"),
            MetricSpec(name="spearman", factory="torchmetrics.regression:SpearmanCorrCoef", description="rank correlation")]


@hookimpl
def glmtasks_register_config_dirs():
    """task/similarity.yaml and data/similarity.yaml."""
    return [Path(__file__).parent / "conf"]
