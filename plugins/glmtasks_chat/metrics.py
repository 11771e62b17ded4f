"""Metrics of ``task=chat``: perplexity on assistant tokens, BLEU-4 and ROUGE of generated replies.

Every metric receives the chat head's ``(replies, references, nll_sum, token_count)``. The reply
metrics are the summarization and translation plugins' ROUGE and sacreBLEU (DDP-safe, any
script; configured by ``data.scoring`` and ``data.language``: Chinese is scored on characters
by default, on jieba words with ``data.scoring.rouge_tokenizer=zh_words``; full-width punctuation
reads as ASCII for BLEU), taking the first two inputs.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torchmetrics import Metric

from glmtasks_summarization.metrics import Rouge
from glmtasks_translation.metrics import SacreMetric, bleu_tokenizer, cjk_language


class AssistantPerplexity(Metric):
    """exp(total NLL / total tokens) over every supervised assistant token (token-weighted, DDP-safe)."""

    full_state_update = False
    higher_is_better = False
    is_differentiable = False

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.add_state("nll", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("tokens", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, replies: Sequence[str], references: Sequence[Sequence[str]], nll: torch.Tensor, tokens: torch.Tensor) -> None:
        """Add a batch's summed NLL and token count."""
        self.nll += nll.detach().to(self.nll)
        self.tokens += tokens.detach().to(self.tokens)

    def compute(self) -> torch.Tensor:
        """Perplexity (inf before any token)."""
        if int(self.tokens) == 0:
            return torch.tensor(math.inf, dtype=torch.float64)
        return torch.exp(self.nll / self.tokens)


class ReplyRouge(Rouge):
    """ROUGE F-measure (0-100) of generated replies against the reference replies."""

    def update(self, replies: Sequence[str], references: Sequence[Sequence[str]], *_: Any) -> None:
        """Score each reply (the head's other inputs are ignored)."""
        super().update(replies, references)


class ReplyBleu(SacreMetric):
    """Corpus BLEU-4 (sacreBLEU, 0-100) of generated replies."""

    def update(self, replies: Sequence[str], references: Sequence[Sequence[str]], *_: Any) -> None:
        """Add the batch's statistics (the head's other inputs are ignored)."""
        super().update(replies, references)


def perplexity() -> AssistantPerplexity:
    """Perplexity of the assistant tokens."""
    return AssistantPerplexity()


def bleu4(task_info: dict) -> ReplyBleu:
    """BLEU-4 of replies; tokenizer from ``data.scoring.bleu_tokenize`` / ``data.language`` (``zh`` for Chinese)."""
    from sacrebleu.metrics import BLEU

    scoring = task_info.get("scoring", {})
    tokenize = bleu_tokenizer(scoring.get("bleu_tokenize", "auto"), task_info.get("language", "en"))
    return ReplyBleu(BLEU(tokenize=tokenize, lowercase=scoring.get("lowercase", False)), normalize_punctuation=cjk_language(task_info))


def _rouge(rouge_type: str):
    def make(task_info: dict) -> ReplyRouge:
        scoring = task_info.get("scoring", {})
        return ReplyRouge(rouge_type, use_stemmer=scoring.get("rouge_stemmer", True),
                          tokenizer=scoring.get("rouge_tokenizer", "auto"), language=task_info.get("language", "en"))

    make.__name__ = make.__qualname__ = rouge_type
    make.__doc__ = f"{rouge_type} F-measure (0-100) of generated replies, configured by data.scoring and data.language."
    return make


rouge1 = _rouge("rouge1")
rouge2 = _rouge("rouge2")
rougeL = _rouge("rougeL")
