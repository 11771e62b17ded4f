"""Classification metrics (torchmetrics), built from the datamodule's label set."""

from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score


def accuracy(task_info: dict) -> MulticlassAccuracy:
    """Fraction of examples whose predicted label is the gold label."""
    return MulticlassAccuracy(num_classes=len(task_info["labels"]), average="micro")


def macro_f1(task_info: dict) -> MulticlassF1Score:
    """F1 of each label, averaged with equal weight per label."""
    return MulticlassF1Score(num_classes=len(task_info["labels"]), average="macro")
