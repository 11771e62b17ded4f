"""The chat datamodule: conversations from json/jsonl files (or the hub, or the demo) to supervised tokens.

Features:

* training: ``input_ids`` and ``labels`` (assistant replies and their end tokens, see
  :mod:`.template`), packed into rows with restarting ``position_ids`` (``data.packing``) or
  padded with an ``attention_mask``;
* validation and test: the whole conversation (loss and perplexity on its replies) plus the
  context of its last reply as ``prompt_ids`` (rendered with the generation prompt and tokenized
  as at inference) and that reply as ``references``;
* predict: ``prompt_ids`` of the whole conversation (the next reply is generated), or of the
  context of its last reply when it ends with one (which is then the reference).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Iterator, Optional

from glmtasks.api import DataError, TaskDataModule, read_text
from glmtasks_chat.config import ChatDataConfig
from glmtasks_chat.conversations import conversation_problem, split_last_reply, to_messages
from glmtasks_chat.packing import pack_features
from glmtasks_chat.template import IGNORE_INDEX, encode_conversation, prepare_tokenizer, render

log = logging.getLogger(__name__)

TRAIN_ON = ("all_turns", "last_turn")


def read_json_records(path: str, key: str) -> list[dict[str, Any]]:
    """Objects of a JSON lines file (one per non-blank line), or of a JSON document: a list of
    objects, ``{"data": [...]}`` or one object; ``.gz`` allowed. Nested values stay as they are."""
    text = read_text(path, key)
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if isinstance(document, dict):
        rows = document["data"] if isinstance(document.get("data"), list) else [document]
    elif isinstance(document, list):
        rows = document
    else:
        rows = []
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"line {number} of {path} (data.{key}) is not valid JSON: {exc.msg}; fix the line (one conversation object per line)") from exc
    if not rows:
        raise DataError(f"{path} (data.{key}) holds no conversations; give JSON lines, one conversation object per line")
    bad = next((i for i, row in enumerate(rows, 1) if not isinstance(row, dict)), None)
    if bad is not None:
        raise DataError(f"record {bad} of {path} (data.{key}) is {type(rows[bad - 1]).__name__}, not a JSON object with a conversation")
    return rows


class ChatDataModule(TaskDataModule):
    """Conversations as supervised assistant tokens; see the module docstring for the features.

    ``task_info``: ``language``, ``max_target_length`` and ``scoring`` (the settings of the
    reply metrics).
    """

    config: ChatDataConfig

    def __init__(self, config: ChatDataConfig):
        if config.train_on not in TRAIN_ON:
            raise DataError(f"unknown data.train_on '{config.train_on}'; use all_turns or last_turn")
        self.truncated = 0
        super().__init__(config)

    # -- reading ---------------------------------------------------------------------------
    def read_file(self, path: str, key: str, labelled: bool) -> list[dict[str, Any]]:
        """Conversations of a json/jsonl file in any supported format (``data.conversation_format``)."""
        if self.config.format not in (None, "json", "jsonl"):
            raise DataError(f"task=chat reads JSON or JSON lines files, not data.format={self.config.format}")
        return self.convert_rows(read_json_records(path, key), f"{path} (data.{key})")

    def convert_rows(self, rows: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
        """Each row as ``{"messages": [...]}``."""
        return [to_messages(row, self.config) for row in rows]

    def record_problem(self, record: dict[str, Any], labelled: bool) -> Optional[str]:
        """A conversation that is not a list of messages, has an unknown role, an empty message,
        or (``labelled``) no assistant reply. (One the chat template refuses, such as roles that do
        not alternate where the template demands it, is found by :meth:`set_tokenizer`.)"""
        messages = record["messages"]
        if messages is None:
            return (f"no conversation found (looked for '{self.config.messages_column}', '{self.config.conversations_column}', "
                    "'instruction'+'output'); set data.conversation_format and its column")
        return conversation_problem(messages, labelled)

    def demo_records(self, split: str, size: int, seed: int) -> list[dict[str, Any]]:
        """Generated customer-service conversations in English and Chinese (:mod:`.demo`)."""
        from glmtasks_chat.demo import generate_conversations

        return [to_messages(row, self.config) for row in generate_conversations(size, seed)]

    def build_task_info(self) -> dict[str, Any]:
        """Scoring settings of the reply metrics."""
        from dataclasses import asdict

        c = self.config
        return {"language": c.language or "en", "max_target_length": c.max_target_length, "scoring": asdict(c.scoring)}

    def training_texts(self) -> Iterator[str]:
        """Every message of the training conversations (for a tokenizer trained from scratch)."""
        for record in self.split_records("train"):
            for message in record["messages"]:
                yield message["content"]

    def set_tokenizer(self, tokenizer: Any) -> None:
        """Use ``tokenizer`` with the chat template of ``data.chat_template`` (see :func:`.template.prepare_tokenizer`);
        conversations the template refuses are invalid rows (``data.invalid_rows`` stops at or skips them)."""
        prepare_tokenizer(tokenizer, self.config.chat_template)
        super().set_tokenizer(tokenizer)
        checked: dict[int, list[dict[str, Any]]] = {}
        for split, records in list(self.splits.items()):
            if id(records) not in checked:  # a split shared by two names (test = validation) stays one list
                checked[id(records)] = self.drop_invalid(split, records, lambda record, s=split: self._template_problem(record, s),
                                                         lambda row, record, s=split: conversation_name(record, s))
            self.splits[split] = checked[id(records)]

    def _template_problem(self, record: dict[str, Any], split: str) -> Optional[str]:
        """Why the chat template refuses the conversation (as it is rendered for ``split``), or None."""
        messages = record["messages"]
        try:
            if split == "predict":
                render(self.tokenizer, split_last_reply(messages)[0], True)
            else:
                render(self.tokenizer, messages, False)
        except DataError as exc:
            return str(exc)
        return None

    # -- encoding --------------------------------------------------------------------------
    def encode_split(self, split: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Features of ``split``; training features are packed when ``data.packing`` is on."""
        self.truncated = 0
        features = super().encode_split(split, records)
        if self.truncated:
            log.warning("%d conversations of the %s split are longer than data.max_length=%d and were cut", self.truncated, split, self.config.max_length)
        if split == "train":
            kept = [f for f in features if any(label != IGNORE_INDEX for label in f["labels"][1:])]
            if len(kept) < len(features):
                log.warning("%d training conversations have no reply left within data.max_length=%d and are not trained on", len(features) - len(kept), self.config.max_length)
            if not kept:
                raise DataError(f"no training conversation has a reply within data.max_length={self.config.max_length}; raise it")
            if self.config.packing:
                packed = pack_features(kept, self.config.max_length)
                for number, row in enumerate(packed):
                    row["index"] = number
                log.info("packed %d training conversations into %d rows of up to %d tokens", len(kept), len(packed), self.config.max_length)
                return packed
            return kept
        return features

    def encode(self, record: dict[str, Any], split: str) -> dict[str, Any]:
        """The features of one conversation (see the module docstring)."""
        messages = record["messages"]
        context, reply = self._context_and_reply(messages, split)
        if split == "predict":
            feature = self._prompt(context)
            if reply is not None:
                feature["references"] = [reply]
            return feature
        ids, labels = self._conversation(messages)
        feature = {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}
        if split != "train":
            feature.update(self._prompt(context))
            feature["references"] = [reply]
        return feature

    @staticmethod
    def _context_and_reply(messages: list[dict[str, Any]], split: str) -> tuple[list[dict[str, Any]], Optional[str]]:
        """What a reply is generated from and the reference: the last assistant reply of labelled
        splits (messages after it are ignored); for inputs to predict, a final assistant message or none."""
        if split == "predict":
            return split_last_reply(messages)
        last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
        return messages[:last], messages[last]["content"]

    def _conversation(self, messages: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
        try:
            ids, labels = encode_conversation(self.tokenizer, messages, last_turn_only=self.config.train_on == "last_turn")
        except DataError as exc:
            raise DataError(f"{conversation_name({'messages': messages})}: {exc}") from exc
        if len(ids) > self.config.max_length:
            self.truncated += 1
            ids, labels = ids[: self.config.max_length], labels[: self.config.max_length]
        return ids, labels

    def _prompt(self, context: list[dict[str, Any]]) -> dict[str, Any]:
        """The context rendered with the generation prompt, tokenized as at inference; its end kept when too long."""
        ids = self.tokenizer(render(self.tokenizer, context, True), add_special_tokens=False)["input_ids"]
        if len(ids) > self.config.max_length:
            self.truncated += 1
            ids = ids[-self.config.max_length :]
        return {"prompt_ids": ids, "prompt_mask": [1] * len(ids)}

    def describe(self, record: dict[str, Any], split: str) -> dict[str, Any]:
        """The context and, when known, the reference reply."""
        context, reply = self._context_and_reply(record["messages"], split)
        return {"messages": context, **({"reference": reply} if reply is not None else {})}

    def feature_length(self, feature: dict[str, Any]) -> int:
        """Tokens of the conversation (or of the prompt, for inputs to predict)."""
        return len(feature.get("input_ids") or feature["prompt_ids"])


def conversation_name(record: dict[str, Any], split: Optional[str] = None) -> str:
    """How an error names a conversation: its opening words (and split), e.g. ``conversation beginning 'Hi' (train split)``."""
    opening = record["messages"][0]["content"][:40].replace("\n", " ")
    return f"conversation beginning {opening!r}" + (f" ({split} split)" if split else "")
