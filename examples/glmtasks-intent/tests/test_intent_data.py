"""The generated set, reading files, one-line data errors, and word/sub-token alignment."""

from __future__ import annotations

import json

import pytest

from glmtasks.api import DataError, train_bpe_tokenizer
from glmtasks_intent.config import IntentSlotsDataConfig
from glmtasks_intent.data import IntentSlotsDataModule, encode_words, first_subtokens
from glmtasks_intent.demo import INTENTS, generate, held_out, write_demo_files
from glmtasks_intent.tags import spans, tag_problem

def test_demo_is_deterministic_balanced_and_valid_bio():
    examples = generate(60, seed=3)
    assert examples == generate(60, seed=3)
    assert {e["intent"] for e in examples} == set(INTENTS)
    for e in examples:
        assert len(e["tokens"]) == len(e["tags"]) and not any(tag_problem(t) for t in e["tags"])


def test_held_out_values_appear_only_outside_training():
    def values(examples):
        return {(s, " ".join(e["tokens"][b:x])) for e in examples for s, b, x in spans(e["tags"])}

    train, evaluation = values(generate(400, seed=0)), values(generate(400, seed=1, unseen_share=0.5))
    unseen = {(slot, v) for slot in ("city", "artist", "date") for v in held_out(slot)}
    assert not train & unseen and evaluation & unseen


def files_config(tmp_path, **fields):
    return IntentSlotsDataConfig(source="files", train_file=str(tmp_path / "train.jsonl"), validation_file=str(tmp_path / "validation.jsonl"), **fields)


def test_reads_the_written_demo_files(tmp_path):
    write_demo_files(tmp_path, train_size=30, eval_size=12)
    datamodule = IntentSlotsDataModule(files_config(tmp_path, test_file=str(tmp_path / "test.jsonl")))
    assert datamodule.task_info["intents"] == INTENTS
    assert datamodule.task_info["slot_tags"][0] == "O"
    record = datamodule.example_record("test", 0)
    assert record["text"] == " ".join(record["tokens"]) and len(record["tags"]) == len(record["tokens"])


def test_reads_csv_with_space_separated_words_and_tags(tmp_path):
    rows = "tokens,tags,intent\nwake me at noon,O O O B-time,set_alarm\nplay jazz,O B-genre,play_music\n"
    for split in ("train", "validation"):
        (tmp_path / f"{split}.csv").write_text(rows)
    config = IntentSlotsDataConfig(source="files", train_file=str(tmp_path / "train.csv"), validation_file=str(tmp_path / "validation.csv"))
    datamodule = IntentSlotsDataModule(config)
    assert datamodule.task_info == {"intents": ["play_music", "set_alarm"], "slot_tags": ["O", "B-genre", "I-genre", "B-time", "I-time"]}


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


GOOD = {"tokens": ["fly", "to", "oslo"], "tags": ["O", "O", "B-to_city"], "intent": "book_flight"}


@pytest.mark.parametrize(
    ("bad_validation_row", "message"),
    [
        ({**GOOD, "tags": ["O", "B-to_city"]}, r"row 2 of .*validation.jsonl \(data.validation_file\) has 3 words but 2 tags; give exactly one tag per word"),
        ({**GOOD, "tags": ["O", "O", "to_city"]}, r"row 2 of .*: tag 'to_city' is not BIO"),
        ({**GOOD, "intent": "cancel"}, r"intent 'cancel' in row 2 of the validation data is not one of \[book_flight\]; .* data.intents=\[...\]"),
        ({**GOOD, "tags": ["O", "O", "B-date"]}, r"slot tag 'B-date' in row 2 of the validation data .* data.slot_types=\[...\]"),
    ],
    ids=["tag-count", "not-bio", "unknown-intent", "unknown-slot"],
)
def test_bad_rows_fail_in_one_line_naming_row_and_fix(tmp_path, bad_validation_row, message):
    write_jsonl(tmp_path / "train.jsonl", [GOOD])
    write_jsonl(tmp_path / "validation.jsonl", [GOOD, bad_validation_row])
    with pytest.raises(DataError, match=message) as error:
        IntentSlotsDataModule(files_config(tmp_path))
    assert "\n" not in str(error.value)


def test_missing_files_name_the_key_to_set(tmp_path):
    with pytest.raises(DataError, match=r"no data files are set; give them with data.train_file=<file> data.validation_file=<file>"):
        IntentSlotsDataModule(IntentSlotsDataConfig(source="files"))
    write_jsonl(tmp_path / "train.jsonl", [GOOD])
    with pytest.raises(DataError, match=r"there is no validation data; give it with data.validation_file=<file>"):
        IntentSlotsDataModule(IntentSlotsDataConfig(source="files", train_file=str(tmp_path / "train.jsonl")))
    write_jsonl(tmp_path / "validation.jsonl", [GOOD])
    datamodule = IntentSlotsDataModule(IntentSlotsDataConfig(source="files", validation_file=str(tmp_path / "validation.jsonl")))
    with pytest.raises(DataError, match=r"there is no train data; give it with data.train_file=<file>"):
        list(datamodule.training_texts())


def test_first_subtokens_maps_each_word_to_its_first_token():
    words = ["fly", "to", "new", "york"]  # "fly to new york"
    offsets = [(0, 0), (0, 2), (2, 3), (4, 6), (7, 10), (11, 13), (13, 15), (0, 0)]
    assert first_subtokens(offsets, words) == [1, 3, 4, 5]
    assert first_subtokens(offsets[:4], words) == [1, 3, -1, -1]  # truncated


def test_encode_words_aligns_with_a_byte_level_tokenizer():
    tokenizer = train_bpe_tokenizer(["book a flight from boston to new york"] * 3, vocab_size=280)
    words = "book a flight from rio de janeiro".split()
    features = encode_words(tokenizer, words, max_length=64)
    starts = features["word_starts"]
    assert all(s >= 0 for s in starts) and starts == sorted(starts)
    assert [tokenizer.decode(features["input_ids"][s : e]).strip() for s, e in zip(starts, starts[1:])] == words[:-1]


def test_predict_file_needs_no_gold_and_takes_a_trained_models_labels(tmp_path):
    write_jsonl(tmp_path / "predict.jsonl", [{"tokens": "wake me at noon"}, {"tokens": ["play", "jazz"]}])
    config = IntentSlotsDataConfig(source="files", predict_file=str(tmp_path / "predict.jsonl"))
    datamodule = IntentSlotsDataModule(config)
    assert datamodule.task_info == {}  # nothing labelled: the trained model's labels come later
    datamodule.adopt_task_info({"intents": ["play_music", "set_alarm"], "slot_tags": ["O", "B-time", "I-time"]})
    datamodule.set_tokenizer(train_bpe_tokenizer(["wake me at noon", "play jazz"] * 3, vocab_size=270))
    datamodule.setup("predict")
    batch = next(iter(datamodule.predict_dataloader()))
    assert "intent_label" not in batch and batch["num_words"].tolist() == [4, 2]
    assert datamodule.example_record("predict", 1) == {"text": "play jazz", "tokens": ["play", "jazz"]}
