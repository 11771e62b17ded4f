"""Reading conversations: messages, ShareGPT, Alpaca and transcripts into one shape; what makes one invalid."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from glmtasks_chat.config import ChatDataConfig
from glmtasks_chat.conversations import conversation_problem, split_last_reply, to_messages


def config(**changes):
    return SimpleNamespace(**{**ChatDataConfig().__dict__, **changes})


def test_sharegpt_roles_and_system_column_become_messages():
    row = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"},
                             {"from": "observation", "value": "42"}], "system": "be brief"}
    assert to_messages(row, config())["messages"] == [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"}, {"role": "tool", "content": "42"},
    ]


def test_alpaca_joins_instruction_and_input_and_keeps_history():
    row = {"instruction": "Translate", "input": "Hallo", "output": "Hello", "history": [["q1", "a1"]]}
    messages = to_messages(row, config())["messages"]
    assert messages == [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
                        {"role": "user", "content": "Translate\n\nHallo"}, {"role": "assistant", "content": "Hello"}]
    assert to_messages({"instruction": "Say hi", "input": "", "output": "hi"}, config())["messages"][0]["content"] == "Say hi"


def test_transcript_lines_map_speakers_to_roles_and_continue_lines():
    text = "#Person1#: Hi, how are you?\n#Person2#: Fine.\nReally fine.\n#Person1#：好的"
    cfg = config(conversation_format="transcript", speaker_roles={"#Person1#": "user", "#Person2#": "assistant"})
    assert to_messages({"dialogue": text}, cfg)["messages"] == [
        {"role": "user", "content": "Hi, how are you?"}, {"role": "assistant", "content": "Fine.\nReally fine."},
        {"role": "user", "content": "好的"},
    ]
    third = to_messages({"dialogue": "#Person1#: a\n#Person3#: b"}, cfg)["messages"]
    assert conversation_problem(third, True).startswith("message 2 has unknown speaker '#Person3#'")


def test_default_system_prompt_is_added_only_where_none_is_given():
    cfg = config(system_prompt="You help.")
    plain = to_messages({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}, cfg)
    assert plain["messages"][0] == {"role": "system", "content": "You help."}
    own = to_messages({"messages": [{"role": "system", "content": "Mine."}, {"role": "user", "content": "a"}]}, cfg)
    assert [m["content"] for m in own["messages"]] == ["Mine.", "a"]


def test_auto_format_ignores_columns_that_are_null_in_a_mixed_file():
    row = {"messages": None, "conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}
    assert to_messages(row, config())["messages"][1]["role"] == "assistant"
    assert to_messages({"text": "no conversation"}, config())["messages"] is None


@pytest.mark.parametrize("messages, labelled, problem", [
    ([], True, "the conversation has no messages"),
    ("hi", True, "the conversation is str, not a list of messages"),
    ([{"role": "user", "content": "a"}], True, "the conversation has no assistant reply to learn"),
    ([{"role": "user", "content": "a"}], False, None),
    ([{"role": "bot", "content": "a"}], True, "message 1 has unknown role 'bot'"),
    ([{"role": "user", "content": " "}, {"role": "assistant", "content": "b"}], True, "message 1 (user) is empty"),
    ([{"role": "user", "content": 3}, {"role": "assistant", "content": "b"}], True, "message 1 (user) has int content"),
    ([{"role": "user", "content": "a"}, {"role": "system", "content": "s"}], False, "message 2 is a system message"),
    ([{"role": "user"}], True, "message 1 is not an object with 'role' and 'content'"),
])
def test_conversation_problems_name_the_message(messages, labelled, problem):
    found = conversation_problem(messages, labelled)
    assert (found is None) if problem is None else found.startswith(problem)


def test_split_last_reply():
    messages = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    assert split_last_reply(messages) == (messages[:1], "b")
    assert split_last_reply(messages[:1]) == (messages[:1], None)


@pytest.mark.parametrize("text, count", [
    ('{"messages": []}\n\n{"messages": []}\n', 2),
    ('[{"messages": []}, {"messages": []}, {"messages": []}]', 3),
    ('{\n  "data": [{"messages": []}]\n}\n', 1),
    ('{"messages": [\n]}', 1),
])
def test_json_lines_lists_and_documents_are_read(tmp_path, text, count):
    from glmtasks_chat.data import read_json_records

    path = tmp_path / "chats.json"
    path.write_text(text, encoding="utf-8")
    assert len(read_json_records(str(path), "train_file")) == count


@pytest.mark.parametrize("text, message", [
    ('{"messages": []}\n{"messages": [}\n', "line 2 of"),
    ('[{"messages": []}, 3]', "record 2 of"),
    ("\n\n", "holds no conversations"),
    ('[{"messages": []}', "line 1 of"),
])
def test_broken_json_is_one_line_naming_where(tmp_path, text, message):
    from glmtasks.api import DataError
    from glmtasks_chat.data import read_json_records

    path = tmp_path / "chats.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message) as error:
        read_json_records(str(path), "train_file")
    assert "\n" not in str(error.value)
