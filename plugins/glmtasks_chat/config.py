"""Configuration of ``task=chat``: the ``data:`` section and the chat head's options.

The CLI imports this module to declare every ``data.*`` and ``task.head_config.*`` key with its
default, so it imports only the standard library and light modules: never torch or transformers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from glmtasks.api import DataConfig
from glmtasks_generation.config import ScoringConfig


@dataclass
class ChatDataConfig(DataConfig):
    """The ``data:`` section of ``task=chat`` (jsonl/json files of conversations, or the demo)."""

    conversation_format: str = "auto"
    """``messages`` (``[{role, content}]``), ``sharegpt`` (``conversations: [{from, value}]``),
    ``alpaca`` (``instruction``, ``input``, ``output``), ``transcript`` (one text of
    ``Speaker: text`` lines, see ``speaker_roles``) or ``auto`` (by the keys of each row)."""
    messages_column: str = "messages"
    """Column of ``messages`` conversations."""
    conversations_column: str = "conversations"
    """Column of ShareGPT conversations."""
    system_column: str = "system"
    """Optional column with a conversation's system prompt (ShareGPT, Alpaca)."""
    transcript_column: str = "dialogue"
    """Column of ``transcript`` conversations."""
    speaker_roles: dict = field(default_factory=dict)
    """``transcript``: speaker name -> role (``user`` or ``assistant``); e.g. ``{"#Person1#": user,
    "#Person2#": assistant}``. A line whose speaker is not listed makes the row invalid."""
    system_prompt: Optional[str] = None
    """System prompt added to conversations that have none (None: no system message)."""
    chat_template: Optional[str] = None
    """The tokenizer's own template when None; ``default`` for glmtasks' template (the default of
    a tokenizer trained from scratch); or a Jinja template string. Saved with the tokenizer."""
    train_on: str = "all_turns"
    """Which replies the loss covers: ``all_turns`` (every assistant turn) or ``last_turn``."""
    max_length: int = 512
    """Tokens kept per conversation (a longer one is cut; its later replies are not learned)."""
    packing: bool = True
    """Pack short training conversations into rows of up to ``max_length`` tokens; attention never
    crosses a conversation boundary (position ids restart), so results match padding, faster."""
    max_target_length: int = 128
    """Tokens generated at most for a reply (validation, test, predict), unless the head's
    ``max_new_tokens`` is set."""
    language: Optional[str] = None
    """Language of the replies (``en``, ``zh``, ...): picks the scoring tokenizers (default ``en``)."""
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    """How generated replies are scored against the references (BLEU and ROUGE tokenizers)."""


@dataclass
class ChatHeadConfig:
    """``task.head_config`` of the ``chat_lm`` head: decoding of replies (saved as the export's generation_config)."""

    max_new_tokens: Optional[int] = None
    """Tokens generated at most per reply; default: ``data.max_target_length``."""
    num_beams: int = 1
    """1: greedy search; more: beam search."""
    do_sample: bool = False
    """Sample replies (``mode=chat`` and predictions) instead of deterministic search."""
    temperature: float = 0.7
    """Sampling temperature (with ``do_sample``)."""
    top_p: float = 0.9
    """Nucleus sampling mass (with ``do_sample``)."""
    repetition_penalty: float = 1.0
    """Penalize tokens already generated (1.0: off)."""
    generate_in_eval: bool = True
    """Generate each evaluation conversation's last reply to score BLEU/ROUGE (False: loss and
    perplexity only, much faster on large models)."""
