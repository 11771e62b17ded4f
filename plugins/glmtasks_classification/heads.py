"""The sequence-classification head: a transformers ``*ForSequenceClassification`` model.

The architecture decides the pooling: GLM (decoder-only) pools the last non-padding token,
BERT-like encoders their first ([CLS]) token. Because the head *is* the transformers
class, the export is what ``pipeline("text-classification")`` loads, labels included.
"""

from __future__ import annotations

from typing import Any

import torch

from glmtasks.api import HeadOutput, load_model
from glmtasks_classification.config import SequenceClassificationConfig

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class SequenceClassificationHead(torch.nn.Module):
    """Cross-entropy over labels; predicts the most likely label with its probability."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, labels: list[str]):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.labels = labels

    def _logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        inputs = {k: batch[k] for k in MODEL_INPUTS if k in batch}
        return self.model(**inputs).logits  # (B, num_labels)

    def forward(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        logits = self._logits(batch)
        predictions = None if self.training else (lambda: self._records(logits.detach(), batch["index"]))
        if "labels" not in batch:
            return HeadOutput(loss=None, predictions=predictions)
        loss = torch.nn.functional.cross_entropy(logits.float(), batch["labels"])
        return HeadOutput(loss=loss, metric_inputs=(logits.argmax(-1), batch["labels"]), predictions=predictions)

    @torch.inference_mode()
    def predict(self, batch: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
        return self._records(self._logits(batch), batch["index"])

    def _records(self, logits: torch.Tensor, indices: torch.Tensor) -> list[dict[str, Any]]:
        """The most likely label of each example, with its probability."""
        scores, ids = logits.float().softmax(-1).max(-1)  # (B,), (B,)
        return [
            {"index": int(i), "prediction": self.labels[int(label)], "score": round(float(score), 6)}
            for i, label, score in zip(indices, ids, scores)
        ]


def make_sequence_classification_head(backbone, tokenizer, task_info: dict, head_config: SequenceClassificationConfig) -> SequenceClassificationHead:
    """Build the head for ``task_info["labels"]``."""
    labels = list(task_info["labels"])
    options = {} if head_config.classifier_dropout is None else {"classifier_dropout": head_config.classifier_dropout}
    model = load_model(
        backbone,
        "AutoModelForSequenceClassification",
        tokenizer,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        **options,
    )
    return SequenceClassificationHead(model, tokenizer, labels)
