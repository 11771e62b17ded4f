"""Supervised tokens of a conversation: exactly the assistant replies and the tokens that end them."""

from __future__ import annotations

import pytest

from glmtasks.api import ConfigError, train_bpe_tokenizer
from glmtasks_chat.template import DEFAULT_TEMPLATE, IGNORE_INDEX, encode_conversation, prepare_tokenizer, stop_token_ids

CONVERSATION = [
    {"role": "system", "content": "You are a shop assistant."},
    {"role": "user", "content": "Where is my order 1234?"},
    {"role": "assistant", "content": "Order 1234 arrives on Monday."},
    {"role": "user", "content": "谢谢"},
    {"role": "assistant", "content": "不客气"},
]

# The shape of GLM-4-chat's template (written here, not copied): a prefix, <|role|> markers with a
# newline, and nothing after a reply: the next <|user|> ends it.
GLM4_LIKE = ("[gMASK]<sop>{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}{% endfor %}"
             "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def bpe():
    texts = [m["content"] for m in CONVERSATION] * 20
    return train_bpe_tokenizer(texts, 400)


def supervised_text(tokenizer, labels):
    """The supervised tokens, decoded with special tokens shown, in runs separated by ' | '."""
    runs, current = [], []
    for label in labels + [IGNORE_INDEX]:
        if label != IGNORE_INDEX:
            current.append(label)
        elif current:
            runs.append(tokenizer.decode(current, skip_special_tokens=False))
            current = []
    return runs


def test_default_template_supervises_each_reply_and_its_eos():
    tokenizer = bpe()
    prepare_tokenizer(tokenizer, None)  # trained here, no template: glmtasks' template and role tokens
    assert tokenizer.chat_template == DEFAULT_TEMPLATE and "<|assistant|>" in tokenizer.get_vocab()
    ids, labels = encode_conversation(tokenizer, CONVERSATION)
    assert len(ids) == len(labels)
    assert supervised_text(tokenizer, labels) == ["Order 1234 arrives on Monday.<eos>", "不客气<eos>"]
    assert stop_token_ids(tokenizer) == [tokenizer.eos_token_id]
    _, last = encode_conversation(tokenizer, CONVERSATION, last_turn_only=True)
    assert supervised_text(tokenizer, last) == ["不客气<eos>"]


def test_ids_are_the_rendered_conversation():
    tokenizer = bpe()
    prepare_tokenizer(tokenizer, None)
    ids, _ = encode_conversation(tokenizer, CONVERSATION)
    assert tokenizer.decode(ids, skip_special_tokens=False) == tokenizer.apply_chat_template(CONVERSATION, tokenize=False)


def test_glm4_style_template_supervises_the_next_role_marker_and_a_final_eos():
    tokenizer = bpe()
    tokenizer.add_tokens(["[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>"], special_tokens=True)
    tokenizer.chat_template = GLM4_LIKE
    _, labels = encode_conversation(tokenizer, CONVERSATION)
    assert supervised_text(tokenizer, labels) == ["\nOrder 1234 arrives on Monday.<|user|>", "\n不客气<eos>"]
    stops = tokenizer.convert_ids_to_tokens(stop_token_ids(tokenizer))
    assert sorted(stops) == ["<eos>", "<|user|>"]


def test_a_template_that_ends_replies_with_plain_text_is_refused():
    tokenizer = bpe()
    tokenizer.chat_template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}"
    with pytest.raises(ConfigError, match="ends an assistant reply with no special token"):
        encode_conversation(tokenizer, CONVERSATION)


def test_a_pretrained_tokenizer_without_a_template_is_refused_unless_one_is_chosen(tmp_path):
    tokenizer = bpe()
    tokenizer.save_pretrained(tmp_path)
    from transformers import AutoTokenizer

    loaded = AutoTokenizer.from_pretrained(tmp_path)
    with pytest.raises(ConfigError, match="has no chat template; set data.chat_template=default"):
        prepare_tokenizer(loaded, None)
    prepare_tokenizer(loaded, "default")
    assert loaded.chat_template == DEFAULT_TEMPLATE


def test_a_template_that_rewrites_earlier_turns_is_refused():
    tokenizer = bpe()
    prepare_tokenizer(tokenizer, None)
    # Drops every reply but the last (as some reasoning templates do): a prefix no longer renders as a prefix.
    tokenizer.chat_template = ("{% for m in messages %}{% if m['role'] != 'assistant' or loop.last %}<|{{ m['role'] }}|>{{ m['content'] }}"
                               "{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}{% endif %}{% endfor %}"
                               "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    with pytest.raises(ConfigError, match="does not render the start of a conversation"):
        encode_conversation(tokenizer, CONVERSATION)
