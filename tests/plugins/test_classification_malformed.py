"""Classification tables against malformed and unusual files (tests/data/malformed/classification).

Each file either reads correctly, labels spelled as in the file, or fails with one line that
names the file, the row and the fix; with ``data.invalid_rows=skip`` invalid rows are dropped
and counted. Never a traceback, never a class invented from an empty cell.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from glmtasks.api import DataError
from glmtasks_classification.config import ClassificationDataConfig
from glmtasks_classification.data import ClassificationDataModule

CORPUS = Path(__file__).resolve().parent.parent / "data" / "malformed" / "classification"
GOOD = CORPUS / "good.csv"
VALID_FILES = ("good.csv", "good_numeric.csv")


def datamodule(train: str, validation: str = "good.csv", **config):
    values = {"source": "files", "train_file": str(CORPUS / train), "validation_file": str(CORPUS / validation), "cache_features": False, **config}
    return ClassificationDataModule(ClassificationDataConfig(**values))


ERRORS = {
    "empty_label_cell.csv": r"row 1 of .*empty_label_cell.csv \(line 2\): empty label \(data.label_column\); fix the row, or drop invalid rows with data.invalid_rows=skip",
    "empty_text_cell.csv": r"row 1 of .*empty_text_cell.csv \(line 2\): empty text \(data.text_column\)",
    "whitespace_text.csv": r"row 1 of .*whitespace_text.csv \(line 2\): empty text \(data.text_column\)",
    "header_only.csv": r"header_only.csv \(data.train_file\) has no rows",
    "missing_label_column.csv": r"column 'label' \(data.label_column\) not found in .*missing_label_column.csv.*its columns are text, stars",
    "duplicate_header.csv": r"the header row of .*duplicate_header.csv \(data.train_file\) repeats the column name\(s\) text",
    "latin1.csv": r"cannot read .*latin1.csv as csv \(data.train_file\): UnicodeDecodeError.*give a UTF-8 text file",
    "binary.csv": r"binary.csv.*\(data.train_file\)",
    "float_labels.jsonl": r"line 1 of .*float_labels.jsonl: label 1.0 in label \(data.label_column\) is a float; labels must be names or integers",
    "text_not_string.jsonl": r"line 1 of .*text_not_string.jsonl: text \(data.text_column\) is 5, not text",
    "null_label.jsonl": r"line 1 of .*null_label.jsonl: empty label \(data.label_column\)",
    "mixed_label_types.jsonl": r"the label column label mixes integers \(1\) and names \('neg'\); use one kind of label, or list the label names",
    "truncated.jsonl": r"cannot read .*truncated.jsonl as json \(data.train_file\)",
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_malformed_files_fail_in_one_line_naming_the_file_row_and_fix(name):
    with pytest.raises(DataError, match=ERRORS[name]) as error:
        datamodule(name)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("name", "labels", "first"), [
    ("integer_labels.csv", ["0", "1", "2", "10"], {"text": "a", "label": "1"}),  # spelled as in the file, sorted as numbers
    ("quoted_commas_newlines.csv", ["neg", "neg", "pos"][1:], {"text": "good, really good", "label": "pos"}),
    ("crlf.csv", ["neg", "pos"], {"text": "good", "label": "pos"}),
    ("bom.csv", ["neg", "pos"], {"text": "good", "label": "pos"}),
    ("quotes_are_text.tsv", ["neg", "pos"], {"text": '"quoted" start', "label": "pos"}),
])
def test_unusual_files_read_exactly(name, labels, first):
    dm = datamodule(name, validation=name)
    assert dm.task_info["labels"] == labels
    assert dm.splits["train"][0] == first


def test_quoted_cells_keep_their_commas_quotes_and_newlines():
    texts = [r["text"] for r in datamodule("quoted_commas_newlines.csv").splits["train"]]
    assert texts == ["good, really good", "two\nlines", 'she said "fine"']


def test_integer_labels_index_the_listed_label_names():
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    dm = datamodule("integer_labels.csv", validation="integer_labels.csv", labels=names)
    assert [dm.describe(r, "train")["label"] for r in dm.splits["train"]] == ["one", "zero", "ten", "two"]


def test_skip_drops_invalid_rows_counts_them_and_invents_no_class():
    dm = datamodule("empty_label_cell.csv", validation="good_numeric.csv", invalid_rows="skip")
    assert dm.task_info["labels"] == ["0", "1"]
    assert [r["text"] for r in dm.splits["train"]] == ["bad", "fine", "awful"]
    assert dm.skipped_rows == {"train": {"count": 1, "first": ["row 1 of " + str(CORPUS / "empty_label_cell.csv") + " (line 2): empty label (data.label_column)"]}}


def test_every_invalid_row_skipped_is_an_error():
    with pytest.raises(DataError, match=r"every row of the train split is invalid"):
        datamodule("all_labels_empty.csv", invalid_rows="skip")


def test_predict_inputs_need_only_text_and_an_empty_one_is_named():
    with pytest.raises(DataError, match=r"row 2 of .*predict_with_empty_row.csv \(line 3\): empty text"):
        datamodule("good.csv", predict_file=str(CORPUS / "predict_with_empty_row.csv"))
    dm = datamodule("good.csv", predict_file=str(CORPUS / "predict_with_empty_row.csv"), invalid_rows="skip")
    assert dm.splits["predict"] == [{"text": "new one"}] and dm.skipped_rows["predict"]["count"] == 1


def test_the_corpus_has_at_least_ten_malformed_or_unusual_files():
    assert len([p for p in CORPUS.iterdir() if p.name not in VALID_FILES]) >= 10


def test_a_malformed_file_exits_2_in_one_line_and_skip_records_counts_in_metrics(tmp_path):
    from glmtasks.api import run_task

    bad = ["data=classification", f"data.train_file={CORPUS / 'empty_label_cell.csv'}", f"data.validation_file={CORPUS / 'good_numeric.csv'}"]
    run = run_task("classification", bad, tmp_path / "a", check=False)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: row 1 of "), run.stderr[-2000:]
    run = run_task("classification", [*bad, "data.invalid_rows=skip"], tmp_path / "b")
    assert run.metrics["skipped_rows"]["train"]["count"] == 1
    assert {p["prediction"] for p in run.predictions()} <= {"0", "1"}
