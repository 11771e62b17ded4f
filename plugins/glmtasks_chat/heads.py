"""The chat head: a causal LM trained on assistant tokens, generating replies with the model's stop tokens.

Training batches are padded (``attention_mask``) or packed (``position_ids`` restarting per
conversation and no attention mask: see :mod:`.packing`). Evaluation batches also carry the
context of each conversation's last reply (``prompt_ids``), from which the reply is generated
and scored. The decoding settings, with every token that ends a reply under the chat template
as ``eos_token_id``, are the model's ``generation_config``, which the export saves, so plain
transformers (``apply_chat_template`` + ``generate``) stops where the run did.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Optional, Sequence

import torch

from glmtasks.api import ConfigError, HeadOutput, is_encoder_decoder, load_model
from glmtasks_chat.config import ChatHeadConfig
from glmtasks_chat.template import IGNORE_INDEX, render, stop_token_ids
from glmtasks_generation.heads import move_padding


class ChatHead(torch.nn.Module):
    """Assistant-token loss; reply generation for metrics, predictions and ``mode=chat``.

    ``metric_inputs``: ``(replies, references, nll_sum, token_count)``: generated and reference
    replies for BLEU/ROUGE, and the summed negative log-likelihood of the supervised tokens with
    their count for perplexity.
    """

    def __init__(self, model: torch.nn.Module, tokenizer: Any, config: ChatHeadConfig):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.config = config

    def _nll(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed next-token NLL of the supervised tokens and their number."""
        inputs: dict[str, Any] = {"input_ids": batch["input_ids"], "use_cache": False}
        if "position_ids" in batch:  # packed rows: block-diagonal causal attention from the positions
            inputs["position_ids"] = batch["position_ids"]
        else:
            inputs["attention_mask"] = batch["attention_mask"]
        logits = self.model(**inputs).logits[:, :-1]  # (B, L-1, V): position t predicts token t+1
        labels = batch["labels"][:, 1:]  # (B, L-1)
        nll = torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE_INDEX, reduction="sum"
        )
        return nll, (labels != IGNORE_INDEX).sum()

    def forward(self, batch: dict[str, Any]) -> HeadOutput:
        """Mean NLL of assistant tokens; in evaluation also the generated last replies."""
        nll, count = self._nll(batch)
        loss = nll / count.clamp(min=1)
        if self.training or "references" not in batch:
            return HeadOutput(loss=loss)
        replies = self.generate(batch)
        return HeadOutput(
            loss=loss,
            metric_inputs=(replies, batch["references"], nll.detach(), count),
            predictions=lambda: self._records(batch, replies),
        )

    @torch.no_grad()
    def generate(self, batch: dict[str, Any], streamer: Any = None) -> list[str]:
        """The reply to each prompt of the batch (``prompt_ids``, ``prompt_mask``)."""
        ids, mask = move_padding(batch["prompt_ids"], batch["prompt_mask"], "left")  # (B, P)
        out = self.model.generate(input_ids=ids, attention_mask=mask, use_cache=True, streamer=streamer)
        new_tokens = out[:, ids.shape[1] :]  # (B, N)
        return [text.strip() for text in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]

    def reply(self, messages: Sequence[dict[str, str]], on_text: Optional[Callable[[str], None]] = None) -> str:
        """The next assistant reply to a conversation, streamed to ``on_text`` piece by piece as it is generated."""
        from transformers import TextStreamer

        streamer = None
        if on_text is not None:
            streamer = TextStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
            streamer.on_finalized_text = lambda text, stream_end=False: on_text(text)
        ids = self.tokenizer(render(self.tokenizer, messages, True), add_special_tokens=False, return_tensors="pt")["input_ids"]
        device = next(self.model.parameters()).device
        ids = ids.to(device)
        return self.generate({"prompt_ids": ids, "prompt_mask": torch.ones_like(ids)}, streamer=streamer)[0]

    def predict(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        """``{"index", "reply"}`` per conversation (the writer adds the context and the reference)."""
        return self._records(batch, self.generate(batch))

    @staticmethod
    def _records(batch: dict[str, Any], replies: list[str]) -> list[dict[str, Any]]:
        return [{"index": int(i), "reply": text} for i, text in zip(batch["index"], replies)]


def chat_generation_config(model: Any, tokenizer: Any, config: ChatHeadConfig, max_new_tokens: int) -> Any:
    """The model's ``GenerationConfig`` with the head's decoding settings and the template's stop tokens."""
    generation = copy.deepcopy(model.generation_config)
    generation._from_model_config = False
    generation.max_new_tokens = max_new_tokens
    generation.num_beams = config.num_beams
    generation.do_sample = config.do_sample
    if config.do_sample:
        generation.temperature, generation.top_p = config.temperature, config.top_p
    if config.repetition_penalty != 1.0:
        generation.repetition_penalty = config.repetition_penalty
    generation.pad_token_id = tokenizer.pad_token_id
    stops = stop_token_ids(tokenizer)
    generation.eos_token_id = stops if len(stops) > 1 else stops[0]
    return generation


def make_chat_head(backbone: Any, tokenizer: Any, task_info: dict, head_config: ChatHeadConfig) -> ChatHead:
    """Build ``AutoModelForCausalLM`` with its chat ``generation_config``; the tokenizer pads on the left (saved with it)."""
    if head_config.num_beams < 1:
        raise ConfigError("task.head_config.num_beams must be >= 1")
    if is_encoder_decoder(backbone):
        raise ConfigError(f"task=chat trains decoder-only chat models; backbone '{backbone.name}' is an encoder-decoder (use a *ForCausalLM model)")
    model = load_model(backbone, "AutoModelForCausalLM", tokenizer)
    max_new_tokens = head_config.max_new_tokens or int(task_info.get("max_target_length", 128))
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    base.generation_config = chat_generation_config(base, tokenizer, head_config, max_new_tokens)
    tokenizer.padding_side = "left"
    tokenizer.init_kwargs["padding_side"] = "left"
    return ChatHead(model, tokenizer, head_config)
