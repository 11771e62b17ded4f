"""task=qa on malformed and unusual SQuAD-format files (tests/data/malformed/qa/, see its README).

Every file either reads correctly (the expected questions and answers, then windows whose
answer spans are exactly the answer texts, and a batch) or stops with one
:class:`~glmtasks.api.DataError` line naming the file, where in it, and the fix: never a
traceback, never silently wrong labels.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from glmtasks.api import DataError, run_task, train_bpe_tokenizer
from glmtasks_qa.config import QADataConfig
from glmtasks_qa.data import QADataModule

CORPUS = Path(__file__).resolve().parents[1] / "data" / "malformed" / "qa"
VALID = CORPUS / "valid.json"
SMALL = dict(max_length=64, doc_stride=16, max_query_length=16, batch_size=4, eval_batch_size=4, cache_features=False)

VALID_ANSWERS = {
    "e1": (["1889"], [34]),
    "e2": (["Gustave Eiffel"], [116]),
    "m1": (["Warsaw"], [24]),
    "m2": (["1911"], [119]),
    "a1": (["Brazil, Peru and Colombia"], [31]),
}
"""Question id -> (answer texts, answer starts) of valid.json."""

# file -> (where in the file, the fix): regular expressions the one-line message must match,
# besides naming the file and the data.* key it was given as.
ERRORS = {
    "truncated.json": (r"malformed JSON .* at line 38 column 17: Unterminated string", r"is it truncated\?\); fix the file"),
    "truncated.json.gz": (r"EOFError: Compressed file ended", r"give a complete, readable gzip file"),
    "empty_file.json": (r"is empty", r"give a SQuAD-format JSON file"),
    "json_lines.json": (r"at line 2 column 1: Extra data", r"JSON lines\? task=qa reads one SQuAD-format JSON object"),
    "top_level_list.json": (r"not SQuAD-format JSON: .* found a list", r"write it as \{\"data\": "),
    "no_data_key.json": (r"found an object with keys \['articles', 'version'\]", r"write it as \{\"data\": "),
    "data_not_list.json": (r"'data' of .* is an object, not a list of articles", r"write it as \"data\": \["),
    "empty_data.json": (r"has no articles: its 'data' list is empty", r"give a file with questions"),
    "article_not_object.json": (r"article 1 of .* is a string", r"not an object with 'title' and 'paragraphs'; fix the file"),
    "paragraph_missing_context.json": (r"paragraph 1 of article 1 .* its context is null or missing", r"needs a 'context' string .*; fix the paragraph"),
    "paragraph_missing_qas.json": (r"paragraph 0 of article 0 .* its qas is null or missing", r"needs a 'context' string and a 'qas' list"),
    "paragraph_not_object.json": (r"paragraph 0 of article 1 .* is a string", r"it needs a 'context' string and a 'qas' list"),
    "context_not_string.json": (r"paragraph 0 of article 1 .* its context is a list", r"fix the paragraph"),
    "question_not_string.json": (r"question 'm2' \(article 1, paragraph 0, question 1\)", r"needs a 'question' string.*give the question's text"),
    "empty_question.json": (r"question 'm1' \(article 1, paragraph 0, question 0\) has an empty question text", r"fix the row, or drop invalid rows with data.invalid_rows=skip"),
    "duplicate_ids.json": (r"question id 'e2' appears twice .*: article 0, paragraph 0, question 1 and article 1, paragraph 1, question 0", r"give every question its own id"),
    "answer_text_number.json": (r"answer 0 of question 'e1' \(article 0, paragraph 0, question 0\) .* a number \(1889\)", r"fix the answer"),
    "answer_not_in_context.json": (r"question 'm2' \(article 1, paragraph 0, question 1\) has no answer found in its context \(answer text 'Stockholm'\)", r"fix the row, or drop invalid rows with data.invalid_rows=skip"),
    "empty_answer_text.json": (r"answer 0 of question 'e2' \(article 0, paragraph 0, question 1\) .* has empty text", r"give the answer's text, or mark the question unanswerable with \"is_impossible\": true"),
    "impossible_with_answers.json": (r"question 'e2' \(article 0, paragraph 0, question 1\) .* is marked \"is_impossible\": true but has answers", r"remove its answers or set \"is_impossible\": false"),
    "latin1.json": (r"is not UTF-8 text: byte 0xe9 at line 63 column 132", r"save the file as UTF-8"),
    "predict_no_answers.json": (r"question 'e1' \(article 0, paragraph 0, question 0\) .* needs an 'answers' list, but it is null or missing", r"questions to answer go in data.predict_file"),
}

# file -> question id -> (answer texts, answer starts) of its training records, in order.
READS = {
    "valid.json": VALID_ANSWERS,
    "utf8_bom.json": VALID_ANSWERS,
    "utf16.json": VALID_ANSWERS,
    "flat_records.json": VALID_ANSWERS,  # the JSON layout of Hugging Face's run_qa example
    "answer_start_shifted.json": VALID_ANSWERS,  # starts off by 1 and 2, given as text, negative: read at the text
    "missing_ids.json": dict(zip(["0-0-0", "0-0-1", "1-0-0", "1-0-1", "1-1-0"], VALID_ANSWERS.values())),
    "first_answer_not_in_context.json": {**VALID_ANSWERS, "m1": (["Warszawa", "Warsaw"], [-1, 24])},
    "squad2_unanswerable.json": {
        "e1": VALID_ANSWERS["e1"], "e2": VALID_ANSWERS["e2"], "e3": ([], []),
        "m1": VALID_ANSWERS["m1"], "m2": VALID_ANSWERS["m2"], "a1": VALID_ANSWERS["a1"], "a2": ([], []), "a3": ([], []),
    },
    "unicode_context.json": {
        "u1": (["Ｆａｌｃｏｎ"], [25]), "u2": (["Cape Canaveral"], [47]), "u3": (["Se\u0301bastien"], [63]), "u4": (["李明 and 王芳"], [90]),
    },
}


def test_the_corpus_is_covered():
    files = {p.name for p in CORPUS.iterdir() if p.name != "README.md"}
    assert files == set(ERRORS) | set(READS), "every file of the corpus has an expected outcome"
    assert len(files) >= 10


def datamodule(**files: Path | str) -> QADataModule:
    return QADataModule(QADataConfig(source="files", **{k: str(v) for k, v in files.items()}, **SMALL))


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_a_malformed_file_is_one_data_error_line_naming_the_file_the_place_and_the_fix(name):
    where, fix = ERRORS[name]
    with pytest.raises(DataError) as caught:
        datamodule(train_file=CORPUS / name, validation_file=VALID)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    assert str(CORPUS / name) in message, message
    assert "(data.train_file)" in message or name in ("empty_question.json", "answer_not_in_context.json"), message  # those name the record
    assert re.search(where, message), f"{where!r} not in {message!r}"
    assert re.search(fix, message), f"{fix!r} not in {message!r}"


def test_a_bad_validation_file_names_data_validation_file():
    with pytest.raises(DataError, match=r"duplicate_ids.json \(data.validation_file\): article 0, paragraph 0, question 1 and article 1"):
        datamodule(train_file=VALID, validation_file=CORPUS / "duplicate_ids.json")


def first_located(record: dict) -> str | None:
    """The text of the record's first answer whose start was found in the context (training labels it)."""
    answers = record["answers"]
    located = [text for text, start in zip(answers["text"], answers["answer_start"]) if start >= 0]
    return located[0] if located else None


def check_windows(data: QADataModule, split: str, every_answer: bool) -> None:
    """Every window's answer span is exactly a located answer text; unanswerable questions only have null spans.

    ``every_answer``: each answerable question is labelled in some window (not so when a long
    answer in tokens straddles every pair of windows, as in text the tokenizer was not trained on).
    """
    records = data.splits[split]
    found = set()
    for feature in data.features[split]:
        record = records[feature["index"]]
        start, end = feature["start_positions"], feature["end_positions"]
        if not feature["context_mask"][start]:  # the "no answer" position
            assert start == end
            continue
        span = record["context"][feature["offset_start"][start] : feature["offset_end"][end]]
        assert span == first_located(record), (record["id"], span)
        found.add(feature["index"])
    answerable = {i for i, r in enumerate(records) if first_located(r) is not None}
    assert found <= answerable, "no unanswerable question is labelled"
    assert found == answerable or not every_answer, "every answerable question is labelled in a window"


@pytest.mark.parametrize("name", sorted(READS))
def test_an_unusual_file_reads_the_expected_questions_and_batches(name):
    data = datamodule(train_file=CORPUS / name, validation_file=VALID)
    read = {r["id"]: (r["answers"]["text"], r["answers"]["answer_start"]) for r in data.splits["train"]}
    assert read == READS[name]
    assert list(read) == list(READS[name]), "file order"
    for record in data.splits["train"]:
        assert isinstance(record["question"], str) and record["question"].strip() and isinstance(record["context"], str)
        for text, start in zip(*read[record["id"]]):
            assert start < 0 or record["context"][start : start + len(text)] == text
    data.set_tokenizer(train_bpe_tokenizer(data.training_texts(), 600))
    data.setup("fit")
    check_windows(data, "train", every_answer=True)
    check_windows(data, "validation", every_answer=False)
    batch = next(iter(data.train_dataloader()))
    assert batch["input_ids"].shape[0] == min(4, len(data.features["train"]))
    assert len(batch["context"]) == len(batch["answers"]) == batch["input_ids"].shape[0]


def test_shifted_answer_starts_are_read_at_their_text_and_counted_in_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="glmtasks_qa.data"):
        datamodule(train_file=CORPUS / "answer_start_shifted.json", validation_file=VALID)
    (message,) = [r.getMessage() for r in caplog.records if "answer_start" in r.getMessage()]
    assert message.startswith("2 answers of ") and "answer_start_shifted.json (data.train_file)" in message and "at most 2 characters away" in message


@pytest.mark.parametrize("name, dropped", [("answer_not_in_context.json", "m2"), ("empty_question.json", "m1")])
def test_invalid_questions_are_dropped_and_counted_with_invalid_rows_skip(name, dropped):
    data = QADataModule(QADataConfig(source="files", train_file=str(CORPUS / name), validation_file=str(VALID), invalid_rows="skip", **SMALL))
    assert [r["id"] for r in data.splits["train"]] == [i for i in VALID_ANSWERS if i != dropped]
    assert data.skipped_rows["train"]["count"] == 1 and f"question '{dropped}'" in data.skipped_rows["train"]["first"][0]


def test_inputs_to_predict_need_no_answers():
    data = datamodule(train_file=VALID, validation_file=VALID, predict_file=CORPUS / "predict_no_answers.json")
    assert [r["id"] for r in data.splits["predict"]] == list(VALID_ANSWERS)
    assert all(r["answers"] == {"text": [], "answer_start": []} for r in data.splits["predict"])
    data.set_tokenizer(train_bpe_tokenizer(data.training_texts(), 600))
    data.setup("predict")
    batch = next(iter(data.predict_dataloader()))
    assert batch["answers"] == [[]] * len(batch["answers"]) and batch["input_ids"].shape[0] >= 1


def test_the_cli_stops_on_a_malformed_file_with_exit_code_2_and_one_error_line(tmp_path):
    bad = CORPUS / "paragraph_not_object.json"  # was an AttributeError traceback (exit code 1)
    result = run_task("qa", ["data.source=files", f"data.train_file={bad}", f"data.validation_file={VALID}"], tmp_path, check=False)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: paragraph 0 of article 1 in "), result.stderr[-3000:]
    assert "paragraph_not_object.json (data.train_file)" in lines[0]
