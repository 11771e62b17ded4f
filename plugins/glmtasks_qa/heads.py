"""The span-extraction head: start and end logits per token, n-best span decoding, export.

Models whose type transformers maps to ``AutoModelForQuestionAnswering`` (BERT, MiniLM,
RoBERTa, Llama, Qwen, ...) are used as that class, so the export loads with
``AutoModelForQuestionAnswering`` (transformers 5 has no question-answering pipeline; decode
with :func:`best_spans`). transformers 5 has no GLM question-answering class
(``GlmForQuestionAnswering`` does not exist), so for GLM (and any other model type without
one) the head is the bare ``AutoModel`` plus a linear layer ``qa_outputs`` (hidden -> 2) on
its last hidden states; the export then holds the backbone (it loads with ``AutoModel``)
and ``qa_outputs.safetensors`` (written by :meth:`SpanExtractionHead.save_extras`; the
core saves the model, LoRA adapters merged, and the tokenizer), and :func:`load_exported`
rebuilds the whole model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import torch

from glmtasks.api import HeadOutput, load_model
from glmtasks_qa.config import SpanExtractionConfig

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
SPAN_LAYER_FILE = "qa_outputs.safetensors"
SPAN_LAYER_CONFIG = "qa_outputs.json"


def best_spans(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    context_mask: torch.Tensor,
    max_answer_length: int,
    n_best: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ``n_best`` highest-scoring valid spans of each window (exact search, not a beam).

    A span ``(s, e)`` is valid when both ends are context tokens, ``s <= e`` and
    ``e - s + 1 <= max_answer_length``; its score is ``start_logits[s] + end_logits[e]``.

    Args:
        start_logits, end_logits: ``(B, T)``.
        context_mask: ``(B, T)``, nonzero at context tokens.

    Returns:
        ``scores, starts, ends``, each ``(B, k)`` with ``k = min(n_best, T * T)``, best first;
        slots beyond a window's valid spans have score ``-inf``.
    """
    B, T = start_logits.shape
    scores = start_logits.float()[:, :, None] + end_logits.float()[:, None, :]  # (B, T, T): [b, s, e]
    positions = torch.arange(T, device=start_logits.device)
    length = positions[None, :] - positions[:, None]  # (T, T): e - s
    band = (length >= 0) & (length < max_answer_length)  # (T, T)
    mask = context_mask.bool()
    valid = band[None] & mask[:, :, None] & mask[:, None, :]  # (B, T, T)
    scores = scores.masked_fill(~valid, float("-inf"))
    top, flat = scores.reshape(B, T * T).topk(min(n_best, T * T), dim=-1)  # (B, k)
    return top, flat // T, flat % T


class SpanExtractionHead(torch.nn.Module):
    """Cross-entropy on answer start and end; decodes the best spans to text.

    Args:
        model: a transformers ``*ForQuestionAnswering`` model, or a base model when
            ``span_layer`` is given.
        tokenizer: saved with the export.
        span_layer: ``Linear(hidden, 2)`` on the base model's last hidden states, or None.
        max_answer_length: longest answer, in tokens, the decoder considers.
        n_best_size: spans kept per window (and per question in predictions).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        span_layer: Optional[torch.nn.Linear] = None,
        max_answer_length: int = 30,
        n_best_size: int = 20,
    ):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.qa_outputs = span_layer
        self.max_answer_length = max_answer_length
        self.n_best_size = n_best_size

    def logits(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Start and end logits, each ``(B, T)``."""
        inputs = {k: batch[k] for k in MODEL_INPUTS if k in batch}
        if self.qa_outputs is None:
            out = self.model(**inputs)
            return out.start_logits, out.end_logits
        hidden = self.model(**inputs).last_hidden_state  # (B, T, H)
        start, end = self.qa_outputs(hidden).unbind(-1)  # (B, T, 2) -> 2 x (B, T)
        return start, end

    def forward(self, batch: dict[str, Any]) -> HeadOutput:
        """Training loss (mean of start and end cross-entropy); in eval mode also each window's best span for the metric."""
        start_logits, end_logits = self.logits(batch)
        loss = None
        if "start_positions" in batch:
            loss = 0.5 * (
                torch.nn.functional.cross_entropy(start_logits.float(), batch["start_positions"])
                + torch.nn.functional.cross_entropy(end_logits.float(), batch["end_positions"])
            )
        if self.training:
            return HeadOutput(loss=loss)
        scores, starts, ends = best_spans(start_logits, end_logits, batch["context_mask"], self.max_answer_length, 1)
        texts = [
            _span_text(batch, b, int(starts[b, 0]), int(ends[b, 0])) if torch.isfinite(scores[b, 0]) else ""
            for b in range(len(batch["context"]))
        ]
        # No ``predictions`` builder: a prediction record ranks n-best candidates over all windows of
        # a question, and test batches need not hold all of them; predict batches do.
        return HeadOutput(loss=loss, metric_inputs=(batch["index"], scores[:, 0], texts, batch["answers"]))

    @torch.inference_mode()
    def predict(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        """One record per question: the best answer over all its windows, its probability
        among the n-best candidates, its character span, the context with the answer marked,
        and the next best candidates. The batch must hold all windows of its questions."""
        start_logits, end_logits = self.logits(batch)
        scores, starts, ends = best_spans(start_logits, end_logits, batch["context_mask"], self.max_answer_length, self.n_best_size)
        candidates: dict[int, dict[tuple[int, int], float]] = {}
        contexts: dict[int, str] = {}
        for b, index in enumerate(batch["index"].tolist()):
            contexts[index] = batch["context"][b]
            spans = candidates.setdefault(index, {})
            for score, s, e in zip(scores[b].tolist(), starts[b].tolist(), ends[b].tolist()):
                if score == float("-inf"):
                    break
                span = (int(batch["offset_start"][b, s]), int(batch["offset_end"][b, e]))
                spans[span] = max(score, spans.get(span, float("-inf")))
        records = []
        for index, spans in candidates.items():
            ranked = sorted(spans.items(), key=lambda item: -item[1])[: self.n_best_size]
            records.append(_answer_record(index, contexts[index], ranked))
        return records

    def save_extras(self, directory: Path) -> None:
        """For a base model, the span layer: ``qa_outputs.safetensors`` and a note ``qa_outputs.json`` (see :func:`load_exported`).

        The core has already saved the model (LoRA adapters merged) and the tokenizer here.
        """
        if self.qa_outputs is None:
            return
        from safetensors.torch import save_file

        directory = Path(directory)
        save_file({k: v.detach().cpu().contiguous() for k, v in self.qa_outputs.state_dict().items()}, str(directory / SPAN_LAYER_FILE))
        note = {
            "what": "span-extraction layer of glmtasks task=qa: Linear(hidden_size, 2) on the last hidden states; "
            "output [..., 0] = start logits, [..., 1] = end logits",
            "hidden_size": self.qa_outputs.in_features,
            "load": "glmtasks_qa.heads.load_exported(<this folder>), or AutoModel.from_pretrained + this file",
        }
        (directory / SPAN_LAYER_CONFIG).write_text(json.dumps(note, indent=2) + "\n", encoding="utf-8")


def _span_text(batch: dict[str, Any], b: int, start: int, end: int) -> str:
    return batch["context"][b][int(batch["offset_start"][b, start]) : int(batch["offset_end"][b, end])]


def _answer_record(index: int, context: str, ranked: list[tuple[tuple[int, int], float]]) -> dict[str, Any]:
    """A readable prediction: answer text, probability, span, marked context and alternatives."""
    if not ranked:
        return {"index": index, "prediction": "", "probability": 0.0, "start_char": -1, "end_char": -1, "marked": "", "n_best": []}
    scores = torch.tensor([score for _, score in ranked])
    probabilities = scores.softmax(0).tolist()
    (start, end), _ = ranked[0]
    return {
        "index": index,
        "prediction": context[start:end],
        "probability": round(probabilities[0], 4),
        "start_char": start,
        "end_char": end,
        "marked": mark_span(context, start, end),
        "n_best": [{"text": context[s:e], "probability": round(p, 4)} for ((s, e), _), p in zip(ranked[:5], probabilities)],
    }


def mark_span(context: str, start: int, end: int, width: int = 80) -> str:
    """The answer in ``[[...]]`` with up to ``width`` characters of context on each side (``…`` where cut)."""
    left, right = max(0, start - width), min(len(context), end + width)
    return (
        ("…" if left > 0 else "")
        + f"{context[left:start]}[[{context[start:end]}]]{context[end:right]}"
        + ("…" if right < len(context) else "")
    )


def _model_type(backbone) -> str:
    if not backbone.name_or_path:
        return backbone.model_type
    import transformers

    config = transformers.AutoConfig.from_pretrained(backbone.name_or_path, trust_remote_code=backbone.trust_remote_code, revision=backbone.revision)
    return config.model_type


def make_span_extraction_head(backbone, tokenizer, task_info: dict, head_config: SpanExtractionConfig) -> SpanExtractionHead:
    """Build the head: ``AutoModelForQuestionAnswering`` when the model type has one, else ``AutoModel`` plus a span layer.

    A backbone directory that is an export of this head (it holds ``qa_outputs.safetensors``)
    gets its trained span layer back, so ``checkpoint=<export>`` evaluates the trained model.
    """
    from transformers.models.auto.modeling_auto import MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES

    max_answer_length, n_best_size = head_config.max_answer_length, head_config.n_best_size
    if _model_type(backbone) in MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES:
        model = load_model(backbone, "AutoModelForQuestionAnswering", tokenizer)
        return SpanExtractionHead(model, tokenizer, None, max_answer_length, n_best_size)
    model = load_model(backbone, "AutoModel", tokenizer)
    layer = torch.nn.Linear(model.config.hidden_size, 2)
    trained = Path(backbone.name_or_path or "") / SPAN_LAYER_FILE
    if backbone.name_or_path and trained.is_file():  # an export of this head: restore its span layer too
        from safetensors.torch import load_file

        layer.load_state_dict(load_file(str(trained)))
    else:
        torch.nn.init.normal_(layer.weight, std=getattr(model.config, "initializer_range", 0.02))
        torch.nn.init.zeros_(layer.bias)
    return SpanExtractionHead(model, tokenizer, layer, max_answer_length, n_best_size)


class ExportedSpanModel(torch.nn.Module):
    """A base model plus its ``qa_outputs`` layer, as loaded by :func:`load_exported`."""

    def __init__(self, model: torch.nn.Module, qa_outputs: torch.nn.Linear):
        super().__init__()
        self.model = model
        self.qa_outputs = qa_outputs

    def forward(self, **inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(start_logits, end_logits)``, each ``(B, T)``."""
        start, end = self.qa_outputs(self.model(**inputs).last_hidden_state).unbind(-1)
        return start, end


def load_exported(directory: str | Path):
    """Load an exported QA model: ``AutoModelForQuestionAnswering`` when the export is one,
    else ``AutoModel`` plus ``qa_outputs.safetensors`` as an :class:`ExportedSpanModel`."""
    import transformers
    from safetensors.torch import load_file

    directory = Path(directory)
    if not (directory / SPAN_LAYER_FILE).exists():
        return transformers.AutoModelForQuestionAnswering.from_pretrained(directory)
    model = transformers.AutoModel.from_pretrained(directory)
    state = load_file(str(directory / SPAN_LAYER_FILE))
    layer = torch.nn.Linear(state["weight"].shape[1], 2)
    layer.load_state_dict(state)
    return ExportedSpanModel(model, layer).eval()
