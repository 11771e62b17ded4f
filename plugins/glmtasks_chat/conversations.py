"""Conversations in the formats people have, read into one shape: a list of ``{role, content}`` messages.

Formats (``data.conversation_format``):

* ``messages``: ``{"messages": [{"role": "user", "content": "..."}, ...]}`` (the chat-template shape);
* ``sharegpt``: ``{"conversations": [{"from": "human", "value": "..."}, ...], "system": "..."}``;
* ``alpaca``: ``{"instruction": ..., "input": ..., "output": ..., "system": ..., "history": [[q, a], ...]}``;
* ``transcript``: one text of ``Speaker: text`` lines, speakers mapped to roles by ``data.speaker_roles``;
* ``auto``: decided per row by its keys, in the order above.

Nothing here rejects a row: :func:`conversation_problem` says what is wrong with a converted
conversation, and the datamodule stops or skips the row (``data.invalid_rows``).
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from glmtasks.api import ConfigError

ROLES = ("system", "user", "assistant", "tool")
"""Roles a conversation may use (``tool``: a tool's output, GLM-4's ``observation``)."""

SHAREGPT_ROLES = {
    "human": "user", "user": "user",
    "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant", "bard": "assistant", "model": "assistant",
    "function_call": "assistant",
    "system": "system",
    "observation": "tool", "tool": "tool", "function": "tool",
}
"""ShareGPT speaker names (``from``) and the roles they play."""

FORMATS = ("auto", "messages", "sharegpt", "alpaca", "transcript")

_SPEAKER_LINE = re.compile(r"^\s*([^:：\n]{1,40}?)\s*[:：]\s?(.*)$")


def to_messages(row: Mapping[str, Any], config: Any) -> dict[str, Any]:
    """The record ``{"messages": [...]}`` of one row; a value of the wrong shape is kept as it is
    (under ``messages``) for :func:`conversation_problem` to name."""
    kind = config.conversation_format
    if kind not in FORMATS:
        raise ConfigError(f"unknown data.conversation_format '{kind}'; use one of {', '.join(FORMATS)}")
    if kind == "auto":
        kind = detect_format(row, config)
    if kind == "unknown":
        return {"messages": None}
    if kind == "messages":
        messages = row.get(config.messages_column)
    elif kind == "sharegpt":
        messages = _from_sharegpt(row.get(config.conversations_column))
    elif kind == "alpaca":
        messages = _from_alpaca(row)
    else:
        messages = _from_transcript(row.get(config.transcript_column), config.speaker_roles)
    system = row.get(config.system_column) if kind != "messages" else None
    if isinstance(messages, list):
        if isinstance(system, str) and system.strip() and not _has_system(messages):
            messages = [{"role": "system", "content": system}, *messages]
        elif config.system_prompt and not _has_system(messages):
            messages = [{"role": "system", "content": config.system_prompt}, *messages]
    return {"messages": messages}


def detect_format(row: Mapping[str, Any], config: Any) -> str:
    """The format of ``row`` from the keys it has a value for (``auto``), or ``unknown``."""
    def has(key: str) -> bool:
        return row.get(key) is not None

    if has(config.messages_column):
        return "messages"
    if has(config.conversations_column):
        return "sharegpt"
    if has("instruction") and has("output"):
        return "alpaca"
    if has(config.transcript_column) and config.speaker_roles:
        return "transcript"
    return "unknown"


def _has_system(messages: list) -> bool:
    return bool(messages) and isinstance(messages[0], Mapping) and messages[0].get("role") == "system"


def _from_sharegpt(turns: Any) -> Any:
    if not isinstance(turns, list):
        return turns
    messages = []
    for turn in turns:
        if not isinstance(turn, Mapping):
            return turns
        speaker = turn.get("from")
        role = SHAREGPT_ROLES.get(str(speaker).lower(), f"unknown:{speaker}")
        messages.append({"role": role, "content": turn.get("value")})
    return messages


def _from_alpaca(row: Mapping[str, Any]) -> list:
    messages: list[dict[str, Any]] = []
    for pair in row.get("history") or []:
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            messages += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
        else:
            messages.append({"role": "unknown:history", "content": pair})
    instruction, extra = row.get("instruction"), row.get("input")
    prompt = instruction
    if isinstance(instruction, str) and isinstance(extra, str) and extra.strip():
        prompt = f"{instruction}\n\n{extra}"
    return messages + [{"role": "user", "content": prompt}, {"role": "assistant", "content": row.get("output")}]


def _from_transcript(text: Any, speaker_roles: Mapping[str, str]) -> Any:
    """``Speaker: text`` lines as messages; a line without a speaker continues the previous message."""
    if not isinstance(text, str):
        return text
    messages: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _SPEAKER_LINE.match(line)
        speaker = match.group(1).strip() if match else None
        if match and speaker in speaker_roles:
            messages.append({"role": str(speaker_roles[speaker]), "content": match.group(2).strip()})
        elif messages and not (match and _looks_like_speaker(speaker)):
            messages[-1]["content"] += "\n" + line.strip()
        else:
            messages.append({"role": f"unknown:{speaker}", "content": line})
    return messages


def _looks_like_speaker(name: Optional[str]) -> bool:
    return bool(name) and len(name.split()) <= 3


def conversation_problem(messages: Any, labelled: bool) -> Optional[str]:
    """What is wrong with a conversation, or None.

    A conversation is a non-empty list of ``{role, content}`` messages with known roles and
    non-empty text, a system message only first, and (``labelled``) at least one assistant reply.
    """
    if not isinstance(messages, list):
        return f"the conversation is {type(messages).__name__}, not a list of messages (check data.conversation_format)"
    if not messages:
        return "the conversation has no messages"
    for number, message in enumerate(messages, 1):
        if not isinstance(message, Mapping) or "role" not in message or "content" not in message:
            return f"message {number} is not an object with 'role' and 'content'"
        role, content = message["role"], message["content"]
        if isinstance(role, str) and role.startswith("unknown:"):
            return f"message {number} has unknown speaker '{role[8:]}'; map it to a role (data.speaker_roles for transcripts)"
        if role not in ROLES:
            return f"message {number} has unknown role {role!r}; roles are {', '.join(ROLES)}"
        if role == "system" and number != 1:
            return f"message {number} is a system message; only the first message may be one"
        if not isinstance(content, str):
            return f"message {number} ({role}) has {type(content).__name__} content, not text"
        if not content.strip():
            return f"message {number} ({role}) is empty"
    if labelled and not any(m["role"] == "assistant" for m in messages):
        return "the conversation has no assistant reply to learn"
    return None


def split_last_reply(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Optional[str]]:
    """``(context, reply)``: the messages before the last assistant reply and that reply, when the
    conversation ends with one; else ``(messages, None)`` (the next reply is to be generated)."""
    if messages and messages[-1]["role"] == "assistant":
        return messages[:-1], messages[-1]["content"]
    return messages, None
