"""The regression head: one score per sentence pair, exported as a plain transformers classifier."""

import torch

from glmtasks.api import HeadOutput, load_model


class RegressionHead(torch.nn.Module):
    """Mean squared error on the gold score; predicts the score."""

    def __init__(self, model, tokenizer):
        super().__init__()
        self.model, self.tokenizer = model, tokenizer

    def _scores(self, batch: dict) -> torch.Tensor:
        inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch}
        return self.model(**inputs).logits.squeeze(-1).float()  # (B, 1) -> (B,)

    def forward(self, batch: dict) -> HeadOutput:
        scores = self._scores(batch)
        records = None if self.training else (lambda: self._records(scores.detach(), batch["index"]))
        if "labels" not in batch:
            return HeadOutput(loss=None, predictions=records)
        loss = torch.nn.functional.mse_loss(scores, batch["labels"])
        return HeadOutput(loss=loss, metric_inputs=(scores.detach(), batch["labels"]), predictions=records)

    @torch.inference_mode()
    def predict(self, batch: dict) -> list:
        return self._records(self._scores(batch), batch["index"])

    def _records(self, scores: torch.Tensor, indices: torch.Tensor) -> list:
        return [{"index": int(i), "prediction": round(float(s), 4)} for i, s in zip(indices, scores)]


def make_regression_head(backbone, tokenizer, task_info: dict, head_config) -> RegressionHead:
    """A one-output sequence classifier (``problem_type=regression``: pipelines return the raw score)."""
    model = load_model(backbone, "AutoModelForSequenceClassification", tokenizer, num_labels=1, problem_type="regression")
    return RegressionHead(model, tokenizer)
