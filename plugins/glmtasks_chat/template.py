"""Chat templates and the tokens a chat model learns: assistant replies and the token that ends each.

A conversation is rendered with the tokenizer's chat template and cut into segments at the
start and end of every assistant reply (found by rendering the conversation incrementally,
which works for any template that renders a prefix of a conversation as a prefix of its text).
Each segment is tokenized on its own, so a prompt is tokenized exactly as at inference, and the
reply segments are the supervised tokens.

**Learning to stop.** A template such as glmtasks' own ends a reply with the eos token, which is
then part of the reply segment. GLM-4's template ends a reply with nothing: the next role
marker (``<|user|>``) is what stops generation. When a reply segment holds no stop token, the
special token that follows it is supervised too (and becomes a stop token of generation), and
after the last reply the eos token is appended and supervised. A template that ends replies with
ordinary text cannot teach stopping and is refused.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from glmtasks.api import ConfigError, DataError

IGNORE_INDEX = -100

ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>", "<|tool|>")
"""Special tokens of glmtasks' template, added to a tokenizer that lacks them."""

DEFAULT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>{{ message['content'] }}"
    "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
"""glmtasks' chat template: ``<|role|>`` markers (GLM-4's names) and the eos token after each reply."""


def prepare_tokenizer(tokenizer: Any, chat_template: Optional[str]) -> None:
    """Give ``tokenizer`` the chat template of ``data.chat_template`` (it is saved with the tokenizer).

    None keeps the tokenizer's own template; a tokenizer trained in this run (it has no name
    and no template) gets glmtasks' template. ``default`` selects glmtasks' template, anything
    else is a Jinja template. glmtasks' role tokens are added as special tokens when missing.
    """
    if chat_template is None:
        if tokenizer.chat_template:
            return
        if getattr(tokenizer, "name_or_path", ""):
            raise ConfigError(
                f"tokenizer '{tokenizer.name_or_path}' has no chat template; set data.chat_template=default "
                "(glmtasks' template, adds role tokens) or data.chat_template='<a Jinja template>'"
            )
        chat_template = "default"
    if chat_template == "default":
        if tokenizer.eos_token is None:
            raise ConfigError("glmtasks' chat template ends replies with the eos token, and the tokenizer has none; give data.chat_template")
        missing = [t for t in ROLE_TOKENS if t not in tokenizer.get_vocab()]
        if missing:
            tokenizer.add_tokens(missing, special_tokens=True)
        chat_template = DEFAULT_TEMPLATE
    tokenizer.chat_template = chat_template


def render(tokenizer: Any, messages: Sequence[dict], generation_prompt: bool) -> str:
    """The template's text of ``messages`` (a template error, such as roles that must alternate, is a :class:`DataError`)."""
    try:
        return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=generation_prompt)
    except Exception as exc:  # noqa: BLE001 - jinja2 TemplateError and what a template raises
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"the chat template refused the conversation: {message}") from exc


def is_special(tokenizer: Any, token_id: int) -> bool:
    """Whether ``token_id`` is a special token (added ones included)."""
    added = tokenizer.added_tokens_decoder.get(token_id)
    return token_id in tokenizer.all_special_ids or bool(added is not None and added.special)


def reply_spans(tokenizer: Any, messages: Sequence[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The conversation's text and the character span ``[start, end)`` of every assistant reply
    (the reply as the template writes it, with what the template puts after it)."""
    text = render(tokenizer, messages, False)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = render(tokenizer, messages[:i], True)
        through = render(tokenizer, messages[: i + 1], False)
        if not (text.startswith(before) and text.startswith(through) and len(before) <= len(through)):
            raise ConfigError(
                "the chat template does not render the start of a conversation as the start of its text, so the "
                "assistant replies cannot be located; use another template (data.chat_template)"
            )
        spans.append((len(before), len(through)))
    return text, spans


def encode_conversation(tokenizer: Any, messages: Sequence[dict], last_turn_only: bool = False) -> tuple[list[int], list[int]]:
    """Token ids of a conversation and its labels: the ids on assistant replies (and their end
    tokens, see the module docstring), :data:`IGNORE_INDEX` elsewhere.

    Args:
        last_turn_only: supervise only the last assistant reply.
    """
    text, spans = reply_spans(tokenizer, messages)
    cuts = [0] + [p for span in spans for p in span] + [len(text)]
    ids: list[int] = []
    labels: list[int] = []
    stops = {tokenizer.eos_token_id}
    pending = False  # the last supervised reply still needs its end token
    for k in range(len(cuts) - 1):
        piece = text[cuts[k] : cuts[k + 1]]
        piece_ids = tokenizer(piece, add_special_tokens=False)["input_ids"] if piece else []
        if not piece_ids:
            continue
        if pending:  # the special token that opens the next turn ends the reply
            if not is_special(tokenizer, piece_ids[0]):
                raise ConfigError(
                    "the chat template ends an assistant reply with no special token, so the model could not learn "
                    "to stop; use a template that ends replies with a special token (data.chat_template=default)"
                )
            ids.append(piece_ids[0])
            labels.append(piece_ids[0])
            piece_ids = piece_ids[1:]
            pending = False
        is_reply = k % 2 == 1
        supervised = is_reply and (not last_turn_only or k == 2 * len(spans) - 1)
        ids += piece_ids
        labels += piece_ids if supervised else [IGNORE_INDEX] * len(piece_ids)
        pending = supervised and not stops.intersection(piece_ids)
    if pending:  # after the last reply: the eos token ends it
        if tokenizer.eos_token_id is None:
            raise ConfigError("the tokenizer has no eos token to end the last reply; give it one or use another template")
        ids.append(tokenizer.eos_token_id)
        labels.append(tokenizer.eos_token_id)
    return ids, labels


def stop_token_ids(tokenizer: Any) -> list[int]:
    """Tokens that end a reply under the tokenizer's template: eos, and every token the template
    puts after a reply (found on a two-turn probe conversation)."""
    probe = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
             {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]
    text, spans = reply_spans(tokenizer, probe)
    found = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    for start, end in spans:
        reply_ids = tokenizer(text[start:end], add_special_tokens=False)["input_ids"]
        after = tokenizer(text[end:], add_special_tokens=False)["input_ids"] if end < len(text) else []
        own = {i for i in reply_ids if is_special(tokenizer, i)}
        found.update(own)
        if not own and after and is_special(tokenizer, after[0]):
            found.add(after[0])
    return sorted(found)
