"""The token-classification head: a transformers ``*ForTokenClassification`` model.

transformers has the class for BERT-like encoders and for GLM (``GlmForTokenClassification``),
so the export is what ``AutoModelForTokenClassification`` and
``pipeline("token-classification")`` load, label names included. Predictions are read at
the first sub-token of each word and decoded into entity spans.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from glmtasks.api import HeadOutput, load_model
from glmtasks_ner.config import TokenClassificationConfig
from glmtasks_ner.tags import mark_entities, spans_to_tags, tags_to_spans

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def word_predictions(token_label_ids: Sequence[int], word_starts: Sequence[int], labels: Sequence[str]) -> list[str]:
    """The label of each word: the one predicted at its first sub-token (``O`` for dropped words)."""
    return [labels[token_label_ids[p]] if p >= 0 else "O" for p in word_starts]


class TokenClassificationHead(torch.nn.Module):
    """Cross-entropy on first sub-tokens; entity spans per sentence for the metric and predictions.

    Args:
        model: a transformers ``*ForTokenClassification`` model.
        tokenizer: saved with the export.
        labels: label names in ``label_scheme`` (index = class id).
        label_scheme: scheme of ``labels`` (decoded leniently into spans).
        tag_scheme: scheme of the tags written to predictions (the data's own).
        word_separator: joins words in predictions (``""`` for Chinese tagged per character).
    """

    def __init__(self, model: torch.nn.Module, tokenizer: Any, labels: list[str], label_scheme: str, tag_scheme: str, word_separator: str = " "):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.labels = labels
        self.label_scheme = label_scheme
        self.tag_scheme = tag_scheme
        self.word_separator = word_separator

    def _logits(self, batch: dict[str, Any]) -> torch.Tensor:
        inputs = {k: batch[k] for k in MODEL_INPUTS if k in batch}
        return self.model(**inputs).logits  # (B, T, num_labels)

    def _spans(self, logits: torch.Tensor, batch: dict[str, Any]) -> list[list[tuple[str, int, int]]]:
        ids = logits.argmax(-1).tolist()  # (B, T)
        return [
            tags_to_spans(word_predictions(row, starts, self.labels), self.label_scheme)
            for row, starts in zip(ids, batch["word_starts"])
        ]

    def forward(self, batch: dict[str, Any]) -> HeadOutput:
        """Loss over first sub-tokens; in eval mode also predicted and gold spans for the metric."""
        logits = self._logits(batch)
        loss = None
        if "labels" in batch:
            loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), batch["labels"].flatten(), ignore_index=-100)
        if self.training:
            return HeadOutput(loss=loss)
        spans = self._spans(logits, batch)
        return HeadOutput(loss=loss, metric_inputs=(spans, batch["spans"]), predictions=lambda: self._records(batch, spans))

    @torch.inference_mode()
    def predict(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        """Per sentence: predicted tags (in the data's scheme), entities, and the sentence with entities marked."""
        return self._records(batch, self._spans(self._logits(batch), batch))

    def _records(self, batch: dict[str, Any], predicted: list[list[tuple[str, int, int]]]) -> list[dict[str, Any]]:
        return [
            {
                "index": index,
                "tags": spans_to_tags(spans, len(words), self.tag_scheme),
                "entities": [{"text": self.word_separator.join(words[s:e]), "type": t, "start": s, "end": e} for t, s, e in spans],
                "marked": mark_entities(words, spans, self.word_separator),
            }
            for index, words, spans in zip(batch["index"].tolist(), batch["words"], predicted)
        ]


def make_token_classification_head(backbone, tokenizer, task_info: dict, head_config: TokenClassificationConfig) -> TokenClassificationHead:
    """Build the head for ``task_info["labels"]`` (label names in ``task_info["label_scheme"]``)."""
    labels = list(task_info["labels"])
    options = {} if head_config.classifier_dropout is None else {"classifier_dropout": head_config.classifier_dropout}
    model = load_model(
        backbone,
        "AutoModelForTokenClassification",
        tokenizer,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        **options,
    )
    return TokenClassificationHead(
        model, tokenizer, labels, task_info["label_scheme"], task_info.get("tag_scheme", task_info["label_scheme"]), task_info.get("word_separator", " ")
    )
