"""``mode=chat``: a terminal conversation with a trained model, its replies streamed as they are generated.

Each line read is a user message; the head's ``reply(messages, on_text)`` generates the next
assistant message and calls ``on_text`` with each piece of text as soon as it is decoded. Commands:
``/reset`` starts a new conversation, ``/system <text>`` sets the system prompt (and resets),
``/exit`` (or end of input, Ctrl-D) ends. Every exchange is appended to ``conversation.jsonl`` in
the run directory as it happens.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

HELP = "type a message; /reset starts over, /system <text> sets the system prompt, /exit ends"


def converse(
    reply: Callable[[list[dict[str, str]], Callable[[str], None]], str],
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    system: Optional[str] = None,
    transcript: Optional[Path] = None,
) -> int:
    """Run the conversation loop until ``/exit`` or end of input; returns the number of replies given.

    Args:
        reply: ``reply(messages, on_text)`` -> the assistant's reply to ``messages``.
        system: the initial system prompt (None: no system message).
        transcript: a JSON lines file to which each exchange is appended.
    """
    interactive = stdin.isatty()
    messages = _start(system)
    replies = 0
    if interactive:
        stdout.write(f"{HELP}\n")
    while True:
        if interactive:
            stdout.write("you> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text == "/exit":
            break
        if text == "/reset" or text.startswith("/system"):
            if text.startswith("/system"):
                system = text[len("/system"):].strip() or None
            messages = _start(system)
            stdout.write("(new conversation)\n")
            continue
        messages.append({"role": "user", "content": text})
        stdout.write("assistant> ")
        stdout.flush()

        def show(piece: str) -> None:
            stdout.write(piece)
            stdout.flush()

        answer = reply(messages, show)
        stdout.write("\n")
        stdout.flush()
        messages.append({"role": "assistant", "content": answer})
        replies += 1
        if transcript is not None:
            with transcript.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"messages": messages[-2:], "turn": replies}, ensure_ascii=False) + "\n")
    return replies


def _start(system: Optional[str]) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}] if system else []


def head_reply(head: Any) -> Callable[[list[dict[str, str]], Callable[[str], None]], str]:
    """The head's ``reply`` method, or a one-line :class:`glmtasks.errors.ConfigError` when the task has none."""
    from glmtasks.errors import ConfigError

    reply = getattr(head, "reply", None)
    if not callable(reply):
        raise ConfigError(f"mode=chat needs a conversational head (one with reply(messages, on_text), like task=chat's); {type(head).__name__} has none")
    return reply
