"""Translation and summarization against malformed and unusual files (tests/data/malformed/generation).

Each file either reads into exactly the expected (source, references) pairs, and then encodes and
batches with a tokenizer trained on it, or fails with one line (a ``DataError``) that names the
file, the line or row, and the fix. Never a traceback, never a reference invented from an empty
cell ("nan"), never columns silently shifted. Parallel ``{lang}`` files skip line pairs with an
empty side and log how many, with their line numbers; tables follow ``data.invalid_rows``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from glmtasks.api import DataError, train_bpe_tokenizer
from glmtasks_summarization.config import SummarizationDataConfig
from glmtasks_summarization.data import SummarizationDataModule
from glmtasks_translation.config import TranslationDataConfig
from glmtasks_translation.data import TranslationDataModule

CORPUS = Path(__file__).resolve().parent.parent / "data" / "malformed" / "generation"
VALID_FILES = {"good.csv", "good.de", "good.en"}


def translation(train: str, validation: str = "good.{lang}", **config) -> TranslationDataModule:
    """Parallel ``{lang}`` files (or a table with columns source/target) of the corpus, de -> en."""
    values = {"source": "files", "train_file": str(CORPUS / train), "validation_file": str(CORPUS / validation),
              "source_lang": "de", "target_lang": "en", "cache_features": False, **config}
    if "{lang}" not in train:
        values = {"source_column": "source", "target_column": "target", **values}
    return TranslationDataModule(TranslationDataConfig(**values))


def summarization(train: str, validation: str = "good.csv", **config) -> SummarizationDataModule:
    values = {"source": "files", "train_file": str(CORPUS / train), "validation_file": str(CORPUS / validation), "cache_features": False, **config}
    return SummarizationDataModule(SummarizationDataConfig(**values))


FAMILIES = {"translation": translation, "summarization": summarization}


def pairs(records):
    return [(r["source"], r["references"]) for r in records]


def encode_one_batch(dm):
    """What a run does next: a tokenizer trained on the data, every split encoded, one batch of each loader."""
    dm.set_tokenizer(train_bpe_tokenizer(list(dm.training_texts()), vocab_size=300))
    dm.setup("fit")
    train = next(iter(dm.train_dataloader()))
    assert train["labels"].shape[0] == train["input_ids"].shape[0] and (train["labels"] != -100).any()
    assert next(iter(dm.val_dataloader()))["references"]
    return train


# -- parallel {lang} files (translation) --------------------------------------------------------------

PARALLEL_ERRORS = {
    "unequal.{lang}": r"the parallel files of .*unequal.\{lang\} \(data.train_file\) are not line-aligned: 3 lines in de, 2 in en "
                      r"\(line 3 of unequal.de has no partner in unequal.en\); give files with one sentence per line",
    "both_empty.{lang}": r"both_empty.de and .*both_empty.en \(data.train_file\) hold no line pair with text on both sides; give files",
    "source_only.{lang}": r"data file not found: .*source_only.en \(data.train_file with \{lang\}=en\); fix data.train_file",
    "latin1.{lang}": r"line 2 of .*latin1.de \(data.train_file with \{lang\}=de\) is not UTF-8 \(byte 0xe4\); convert the file to UTF-8",
    "binary.{lang}": r"binary.de \(data.train_file with \{lang\}=de\) is a binary file, not text \(a NUL byte on line 1\); give a UTF-8 text file",
    "corrupt.{lang}.gz": r"cannot read .*corrupt.de.gz \(data.train_file with \{lang\}=de\): EOFError: .*; give an intact gzip file",
    "gzipped.{lang}": r"gzipped.de \(data.train_file with \{lang\}=de\) is gzip-compressed; name it gzipped.de.gz",
}


@pytest.mark.parametrize("name", sorted(PARALLEL_ERRORS))
def test_malformed_parallel_files_fail_in_one_line_naming_the_file_line_and_fix(name):
    with pytest.raises(DataError, match=PARALLEL_ERRORS[name]) as error:
        translation(name)
    assert "\n" not in str(error.value)


PARALLEL_READS = {
    "good.{lang}": [("Ein Hund.", ["A dog."]), ("Zwei Katzen.", ["Two cats."]), ("Drei Vögel.", ["Three birds."])],
    "one_side_empty.{lang}": [("Ein Hund.", ["A dog."]), ("Fünf Enten.", ["Five ducks."])],  # lines 2-4 have an empty side
    "crlf.{lang}": [("Ein Hund.", ["A dog."]), ("Zwei Katzen.", ["Two cats."])],  # no \r left
    "bom.{lang}": [("Ein Hund.", ["A dog."]), ("Zwei Katzen.", ["Two cats."])],  # no \ufeff left
    "trailing_blank.{lang}": [("Ein Hund.", ["A dog."]), ("Zwei Katzen.", ["Two cats."])],  # blank lines at the end do not count
}


@pytest.mark.parametrize("name", sorted(PARALLEL_READS))
def test_unusual_parallel_files_read_exactly_and_encode(name):
    dm = translation(name)
    assert pairs(dm.splits["train"]) == PARALLEL_READS[name]
    encode_one_batch(dm)


def test_line_pairs_with_an_empty_side_are_skipped_and_logged_with_their_line_numbers(caplog):
    with caplog.at_level(logging.WARNING):
        translation("one_side_empty.{lang}")
    assert "skipped 3 of 5 lines of " in caplog.text and "one_side_empty.{lang} (data.train_file) with an empty side: lines 2, 3, 4" in caplog.text


def test_inputs_to_predict_without_a_reference_file_keep_every_non_empty_line():
    dm = translation("good.{lang}", predict_file=str(CORPUS / "source_only.{lang}"))
    assert pairs(dm.splits["predict"]) == [("Ein Hund.", []), ("Zwei Katzen.", [])]
    dm.set_tokenizer(train_bpe_tokenizer(list(dm.training_texts()), vocab_size=300))
    dm.setup("predict")
    batch = next(iter(dm.predict_dataloader()))
    assert "labels" not in batch and batch["input_ids"].shape[0] == 2


# -- tables (both tasks) ---------------------------------------------------------------------------

TABLE_ERRORS = {
    "missing_source.csv": r"column 'source' \(data.source_column\) not found in .*missing_source.csv \(data.train_file\); its columns are text, target; "
                          r"set data.source_column=<column>",
    "missing_target.csv": r"column 'target' \(data.target_column\) not found in .*missing_target.csv \(data.train_file\); its columns are source, summary",
    "empty_target.csv": r"(record|row) 2 of .*empty_target.csv.*: empty target \(data.target_column\); fix the row, or drop invalid rows with data.invalid_rows=skip",
    "null_target.jsonl": r"(record|row|line) 2 of .*null_target.jsonl: empty target \(data.target_column\); fix the row",
    "dict_target.jsonl": r"(record|row|line) 1 of .*dict_target.jsonl: target \(data.target_column\) is a dict \{'text': 'a summary', 'lang': 'en'\}, "
                         r"not text or a list of texts; name one of its fields with a dotted column, e.g. data.target_column=target.text",
    "latin1.csv": r"latin1.csv.*\(data.train_file\).*UTF-8",
    "binary.csv": r"binary.csv.*\(data.train_file\)",
    "truncated.jsonl": r"cannot read .*truncated.jsonl as json \(data.train_file\)",
    "empty.jsonl": r"data file .*empty.jsonl \(data.train_file\) is empty; give a file with examples",
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("name", sorted(TABLE_ERRORS))
def test_malformed_tables_fail_in_one_line_naming_the_file_row_and_fix(family, name):
    with pytest.raises(DataError, match=TABLE_ERRORS[name]) as error:
        FAMILIES[family](name, validation="good.csv")
    assert "\n" not in str(error.value)


TABLE_READS = {
    "good.csv": [("the first document", ["first summary"]), ("the second document", ["second summary"])],
    # a list of sentences is one source; a list of references keeps its non-empty ones
    "list_target.jsonl": [("First sentence. Second one.", ["ref a", "ref b"]), ("A plain string.", ["only ref"])],
    "crlf.csv": [("a document", ["a summary"]), ("two\r\nlines", ["second"])],  # a quoted cell keeps its own line end
    "number_target.jsonl": [("how many legs does a dog have", ["4"]), ("12", ["twelve"])],
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("name", sorted(TABLE_READS))
def test_unusual_tables_read_exactly_and_encode(family, name):
    dm = FAMILIES[family](name, validation="good.csv")
    assert pairs(dm.splits["train"]) == TABLE_READS[name]
    encode_one_batch(dm)


SKIPPED = {
    "empty_target.csv": [("a document", ["a summary"]), ("a third document", ["third summary"])],
    "null_target.jsonl": [("a document", ["a summary"])],
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("name", sorted(SKIPPED))
def test_skip_drops_rows_without_a_target_and_counts_them(family, name):
    dm = FAMILIES[family](name, validation="good.csv", invalid_rows="skip")
    assert pairs(dm.splits["train"]) == SKIPPED[name]
    skipped = dm.skipped_rows["train"]
    assert skipped["count"] == 1 and skipped["first"][0].endswith(": empty target (data.target_column)") and name in skipped["first"][0]
    encode_one_batch(dm)


def test_headerless_csv_reads_every_cell_as_the_text_it_is():
    dm = summarization("headerless.csv", validation="headerless.csv", column_names=["id", "source", "target"])
    # "007" stays 007; "NA" and "null" are text, not missing values that become "nan"
    assert pairs(dm.splits["train"]) == [("a document", ["007"]), ("NA", ["null"]), ("quoted, document", ["a summary"])]
    encode_one_batch(dm)


@pytest.mark.parametrize(("name", "names", "message"), [
    ("headerless_ragged.csv", ["id", "source", "target"], r"cannot read .*headerless_ragged.csv as csv .*\(data.train_file\): .*Expected 3 fields in line 2, saw 4; fix that line"),
    ("headerless.csv", ["source", "target"], r"line 1 of .*headerless.csv \(data.train_file\) has 3 fields but data.column_names names 2 \(source, target\); "
                                             r"name every column of the file in data.column_names"),
])
def test_headerless_rows_that_do_not_fit_the_column_names_are_refused_not_shifted(name, names, message):
    with pytest.raises(DataError, match=message):
        summarization(name, validation="headerless.csv", column_names=names)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_predict_table_without_a_target_column_is_prompts_only(family):
    dm = FAMILIES[family]("good.csv", predict_file=str(CORPUS / "predict_no_target.csv"))
    assert pairs(dm.splits["predict"]) == [("a new document", []), ("another new document", [])]
    dm.set_tokenizer(train_bpe_tokenizer(list(dm.training_texts()), vocab_size=300))
    dm.setup("predict")
    assert "labels" not in next(iter(dm.predict_dataloader()))


def test_the_corpus_has_at_least_ten_malformed_or_unusual_files():
    assert len([p for p in CORPUS.iterdir() if p.name not in VALID_FILES and not p.name.startswith(".")]) >= 10


# -- the command line ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("task", "overrides"), [
    ("translation", ["data.source_lang=de", "data.target_lang=en", f"data.train_file='{CORPUS}/unequal.{{lang}}'",
                     f"data.validation_file='{CORPUS}/good.{{lang}}'"]),
    ("summarization", [f"data.train_file={CORPUS}/empty_target.csv", f"data.validation_file={CORPUS}/good.csv"]),
])
def test_a_malformed_file_exits_2_with_one_error_line(task, overrides, tmp_path):
    from glmtasks.api import run_task

    run = run_task(task, ["data.source=files", *overrides], tmp_path, check=False)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), run.stderr[-2000:]
    assert ("3 lines in de, 2 in en" if task == "translation" else "empty_target.csv") in lines[0]
