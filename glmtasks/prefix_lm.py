"""GLM's prefix language model on a causal-LM backbone: a bidirectional prefix, 2D positions.

GLM (Du et al., 2022) reads part A of an input bidirectionally and generates part B
left to right; every token has two position indices (the position in part A, and the
position inside the span part B fills in). ``task=pretrain`` trains this pattern with blank
infilling; a head that fine-tunes from such a model (the classification plugin's
``verbalizer`` head) must give the model the same pattern. Both use these pieces, so the
mask, the positions and the block-position table are defined once:

* :func:`attention_allowed` / :func:`additive_mask`: the 4D attention mask (part A sees
  part A; part B sees part A and itself causally), passed to transformers as it is;
* :class:`BlockPositionEmbedding`: the second position index as a learned table added to the
  token embeddings (row 0, ordinary text, fixed at zero), saved next to an export as
  :data:`BLOCK_POSITION_FILE` (:func:`save_block_position_weight`) and read back with
  :func:`load_block_position_weight`;
* :func:`prefix_lm_hidden_states`: one forward pass of a decoder with all of the above.

The first position index is the model's own rotary ``position_ids`` (see
``plugins/glmtasks_pretrain/heads.py`` for why the table, not GLM-130B's 2D RoPE).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import torch

BLOCK_POSITION_FILE = "block_position_embeddings.safetensors"
"""File of the block-position table next to an exported causal LM (plain transformers ignores it)."""


def attention_allowed(prefix_length: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Which key each query may attend to: ``(B, 1, T, T)`` booleans, True where allowed.

    Query ``q`` sees key ``k`` when ``k`` is not padding and either ``k < prefix_length``
    (part A, seen by every token: bidirectional inside part A) or ``k <= q`` (causal).
    A padding query sees its own position only, so no row is empty. ``prefix_length`` 0 is
    the plain causal mask.

    Args:
        prefix_length: (B,) length of part A of each example.
        attention_mask: (B, T) 1 for tokens, 0 for padding (right padding).
    """
    length = attention_mask.shape[1]
    q = torch.arange(length, device=attention_mask.device).view(1, length, 1)  # (1, T, 1)
    k = torch.arange(length, device=attention_mask.device).view(1, 1, length)  # (1, 1, T)
    allowed = (k <= q) | (k < prefix_length.view(-1, 1, 1))  # (B, T, T)
    allowed = allowed & attention_mask.bool().view(-1, 1, length)  # padding keys hidden
    allowed = torch.where(~attention_mask.bool().view(-1, length, 1), q == k, allowed)  # padding queries: self only
    return allowed.unsqueeze(1)  # (B, 1, T, T)


def additive_mask(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``allowed`` as the additive float mask transformers adds to attention scores (0 or the dtype's minimum)."""
    zeros = torch.zeros((), dtype=dtype, device=allowed.device)
    return torch.where(allowed, zeros, torch.finfo(dtype).min)  # (B, 1, T, T)


class BlockPositionEmbedding(torch.nn.Embedding):
    """GLM's second position index (position inside a span) as a learned table; row 0 is always zero."""

    def __init__(self, num_positions: int, hidden_size: int, std: float = 0.02):
        super().__init__(num_positions, hidden_size, padding_idx=0)
        with torch.no_grad():
            self.weight.normal_(0.0, std)
            self.weight[0].zero_()


def load_block_position_weight(directory: Optional[str]) -> Optional[torch.Tensor]:
    """The block-position table saved next to the model in ``directory`` (an export of a
    blank-infilling run), or None when there is none (a causal LM, a hub id, no directory)."""
    if not directory:
        return None
    saved = Path(directory) / BLOCK_POSITION_FILE
    if not saved.is_file():
        return None
    from safetensors.torch import load_file

    return load_file(str(saved))["weight"]


def save_block_position_weight(table: Optional[torch.nn.Module], directory: str | Path) -> None:
    """Write ``table``'s weight next to an export as :data:`BLOCK_POSITION_FILE` (nothing when ``table`` is None)."""
    if table is None:
        return
    from safetensors.torch import save_file

    save_file({"weight": table.weight.detach().cpu().contiguous()}, str(Path(directory) / BLOCK_POSITION_FILE))


def prefix_lm_hidden_states(
    decoder: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    prefix_length: torch.Tensor,
    position_ids: torch.Tensor,
    block_position_ids: Optional[torch.Tensor] = None,
    block_positions: Optional[torch.nn.Module] = None,
) -> torch.Tensor:
    """Last hidden states ``(B, T, H)`` of ``decoder`` (a transformers base model) on GLM's pattern.

    Token embeddings plus ``block_positions(block_position_ids)`` when a table is given,
    rotary ``position_ids``, and the prefix mask of :func:`attention_allowed` as a 4D
    additive mask (transformers 5 uses a 4D mask as given).
    """
    embeds = decoder.get_input_embeddings()(input_ids)  # (B, T, H)
    if block_positions is not None and block_position_ids is not None:
        embeds = embeds + block_positions(block_position_ids).to(embeds.dtype)  # (B, T, H)
    allowed = attention_allowed(prefix_length, attention_mask)  # (B, 1, T, T)
    return decoder(inputs_embeds=embeds, position_ids=position_ids, attention_mask=additive_mask(allowed, embeds.dtype)).last_hidden_state
