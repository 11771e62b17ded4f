"""The contract between the core LightningModule and a task's head.

A head is a ``torch.nn.Module`` that owns the transformers model and knows the task: how a
batch becomes a loss, what the metrics receive, how outputs become readable predictions,
and how the model is exported. The core calls nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Protocol, runtime_checkable

import torch


@dataclass
class HeadOutput:
    """What a head returns for one batch.

    Attributes:
        loss: scalar training loss (None when the batch has no targets).
        metric_inputs: positional arguments for every metric's ``update`` (for
            classification ``(predicted_ids, gold_ids)``).
        predictions: optional; in evaluation, a function returning the records that
            ``predict(batch)`` would return, built from this forward's outputs. When a head
            gives it, a training run writes the test split's predictions during the test
            pass instead of running the model over the test split a second time (for a
            generation task, a whole second decoding pass). It is called only when the
            records are wanted, so building them costs nothing otherwise. Leave it None when
            ``predict`` needs batches other than the test batches (extractive QA ranks answers
            over all windows of a question).
    """

    loss: Optional[torch.Tensor]
    metric_inputs: tuple = ()
    predictions: Optional[Callable[[], list[dict[str, Any]]]] = None


@runtime_checkable
class TaskHead(Protocol):
    """What :class:`glmtasks.module.TaskModule` needs from a head.

    A head is a ``torch.nn.Module`` holding the transformers model as ``model`` and its
    tokenizer as ``tokenizer``. The core exports every head the same way: LoRA adapters
    merged (unless ``backbone.peft.merge_on_export=false``), then ``model.save_pretrained`` and
    ``tokenizer.save_pretrained`` into one folder, then the head's optional
    ``save_extras(directory)`` for files of its own (a generation config, a span layer).
    """

    model: Any
    """The transformers model (``PreTrainedModel``, or a ``peft`` model wrapping one)."""
    tokenizer: Any
    """The tokenizer, saved with the export."""

    def forward(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        """Loss and metric inputs for a batch (training, validation and test), and optionally its prediction records."""

    def predict(self, batch: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        """One JSON-serializable record per example, each with the batch's ``index``."""

    # Optional: ``reply(messages, on_text) -> str``, the next assistant message of a conversation,
    # streamed piece by piece to ``on_text``; a head that has it can be talked to with ``mode=chat``.


def save_head(head: Any, directory: Path, merge_adapters: bool = True) -> None:
    """Write ``head`` to ``directory`` as a folder plain transformers loads: the one export path.

    LoRA adapters are merged into a copy of the weights (``merge_and_unload``) unless
    ``merge_adapters`` is False; then the model and tokenizer are saved, then the head's
    optional ``save_extras(directory)``. The head's own ``model`` is left untouched.
    """
    import copy

    model = head.model
    if merge_adapters and hasattr(model, "merge_and_unload"):
        model = copy.deepcopy(model).merge_and_unload()
    model.save_pretrained(directory)
    head.tokenizer.save_pretrained(directory)
    save_extras = getattr(head, "save_extras", None)
    if callable(save_extras):
        save_extras(Path(directory))
