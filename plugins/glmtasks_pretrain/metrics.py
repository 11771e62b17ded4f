"""Perplexity: exp of the mean negative log-likelihood per predicted token, exact across ranks."""

from __future__ import annotations

import torch
from torchmetrics import Metric


class Perplexity(Metric):
    """``exp(sum of token NLL / number of predicted tokens)`` over a whole split.

    ``update(nll_sum, token_count)`` takes the summed NLL (nats) and the number of
    predicted tokens of one batch (the pre-training head's ``metric_inputs``). Both are
    summed across processes before ``compute``, so the value is the same as one process
    scoring every token: a per-rank or per-batch mean of perplexities would not be.
    """

    full_state_update = False
    higher_is_better = False
    is_differentiable = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_state("nll_sum", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("token_count", default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, nll_sum: torch.Tensor, token_count: torch.Tensor) -> None:
        """Add one batch: summed NLL in nats and the number of tokens it covers."""
        self.nll_sum += nll_sum.detach().to(torch.float64)
        self.token_count += token_count.detach().to(torch.long)

    def compute(self) -> torch.Tensor:
        """The perplexity (``inf`` if no token was seen)."""
        if self.token_count == 0:
            return torch.tensor(float("inf"))
        return torch.exp(self.nll_sum / self.token_count).float()


def perplexity(task_info: dict) -> Perplexity:
    """Perplexity of the tokens the objective predicts (span tokens for blank infilling, all tokens for the causal LM)."""
    return Perplexity()
