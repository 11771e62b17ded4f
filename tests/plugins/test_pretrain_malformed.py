"""Pre-training text against malformed and unusual files (tests/data/malformed/pretrain).

Each file either reads into exactly the expected documents, and then packs into blocks and
batches with a tokenizer trained on it, or fails with one line (a ``DataError``) that names the
file, the line or row, and the fix. Never a traceback (``UnicodeDecodeError``, ``EOFError``),
never a document made of a list's repr or a "nan".
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from glmtasks.api import DataError, train_bpe_tokenizer
from glmtasks_pretrain.data import PretrainDataConfig, PretrainDataModule, generate_documents

CORPUS = Path(__file__).resolve().parent.parent / "data" / "malformed" / "pretrain"
VALID_FILES = {"good.txt", "good.txt.gz", "mixed.jsonl"}
PARAGRAPHS = [
    "anna lives near the farm with a red cat. every morning anna feeds the red cat.",
    "ben counts one, two, three, four. yesterday ben found the dog at the river.",
    "in the evening the fox sleeps and carla goes home. there are three owls at the mill.",
]


def pretrain(*names: str, **config) -> PretrainDataModule:
    values = {"source": "files", "train_files": [str(CORPUS / name) for name in names], "block_size": 16, "validation_fraction": 0.2,
              "cache_features": False, **config}
    return PretrainDataModule(PretrainDataConfig(**values))


def pack_and_batch(module: PretrainDataModule) -> None:
    """What a run does next: a tokenizer trained on the text, the blocks packed, one batch of each loader."""
    module.set_tokenizer(train_bpe_tokenizer(list(module.training_texts()), vocab_size=300))
    module.setup("fit")
    size = module.config.block_size
    assert module.features["train"] and module.features["validation"]
    assert {len(f["input_ids"]) for f in module.features["train"] + module.features["validation"]} == {size}
    batch = next(iter(module.train_dataloader()))
    assert (batch["labels"] != -100).any()
    next(iter(module.val_dataloader()))


ERRORS = {
    "empty.txt": r"data file .*empty.txt \(data.train_files\) holds no text \(it is empty or holds only blank lines\); give it text or remove it from data.train_files",
    "blank_lines.txt": r"data file .*blank_lines.txt \(data.train_files\) holds no text \(it is empty or holds only blank lines\)",
    "binary.txt": r"binary.txt \(data.train_files\) is a binary file, not text \(a NUL byte on line 1\); give a UTF-8 text file",
    "latin1.txt": r"line 3 of .*latin1.txt \(data.train_files\) is not UTF-8 \(byte 0xe9\); convert the file to UTF-8",
    "missing_field.jsonl": r"column 'text' \(data.text_column\) not found in .*missing_field.jsonl \(data.train_files\); its columns are content; "
                           r"set data.text_column=<column>",
    "text_not_string.jsonl": r"row 2 of .*text_not_string.jsonl \(data.train_files\): text \(data.text_column\) is a list \['a list', 'of sentences'\], "
                             r"not text; give one string per row",
    "corrupt.txt.gz": r"cannot read .*corrupt.txt.gz \(data.train_files\): EOFError: .*; give an intact gzip file",
    "gzipped.txt": r"gzipped.txt \(data.train_files\) is gzip-compressed; name it gzipped.txt.gz",
    "truncated.jsonl": r"cannot read .*truncated.jsonl as json \(data.train_files\)",
    "empty.jsonl": r"data file .*empty.jsonl \(data.train_files\) holds no text \(it is empty\); give it text or remove it from data.train_files",
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_malformed_files_fail_in_one_line_naming_the_file_line_and_fix(name):
    with pytest.raises(DataError, match=ERRORS[name]) as error:
        pretrain("good.txt", name)  # a bad file among good ones is still named
    assert "\n" not in str(error.value)


READS = {
    ("good.txt",): PARAGRAPHS,
    ("good.txt.gz",): PARAGRAPHS,
    ("bom.txt",): PARAGRAPHS,  # no \ufeff left
    ("good.txt", "mixed.jsonl"): PARAGRAPHS + PARAGRAPHS,  # text and jsonl files in one list
    ("some_rows_empty.jsonl",): PARAGRAPHS[:2],  # "", a missing field and null are skipped (and logged)
}


@pytest.mark.parametrize("names", sorted(READS))
def test_unusual_files_read_exactly_and_pack(names):
    module = pretrain(*names)
    assert list(module.training_texts()) == READS[names]
    pack_and_batch(module)


def test_crlf_line_ends_split_documents_like_lf():
    module = pretrain("crlf.txt")
    assert [text.replace("\n", " ") for text in module.training_texts()] == PARAGRAPHS
    assert not any("\r" in text for text in module.training_texts())
    assert list(pretrain("crlf.txt", document_split="line").training_texts())[:2] == [
        "anna lives near the farm with a red cat.", "every morning anna feeds the red cat."]
    pack_and_batch(module)


def test_rows_without_text_are_skipped_and_logged_with_their_numbers(caplog):
    with caplog.at_level(logging.WARNING):
        pretrain("some_rows_empty.jsonl")
    assert "skipped 3 rows of " in caplog.text and "some_rows_empty.jsonl (data.train_files) with an empty or missing text: rows 2, 3, 4" in caplog.text


def test_one_huge_line_is_packed_into_full_blocks(tmp_path):
    line = " ".join(generate_documents(2000))[:200_000]
    assert len(line) == 200_000 and "\n" not in line
    path = tmp_path / "huge.txt"
    path.write_text(line + "\n", encoding="utf-8")
    module = PretrainDataModule(PretrainDataConfig(source="files", train_files=[str(path)], block_size=64, validation_fraction=0.05, cache_features=False))
    assert list(module.training_texts()) == [line]
    pack_and_batch(module)
    tokens = len(module.tokenizer(line, add_special_tokens=False)["input_ids"]) + 1  # + eos
    blocks = module.features["train"] + module.features["validation"]
    assert len(blocks) == tokens // 64 and len(module.features["validation"]) == round(len(blocks) * 0.05)


def test_the_corpus_has_at_least_ten_malformed_or_unusual_files():
    assert len([p for p in CORPUS.iterdir() if p.name not in VALID_FILES and not p.name.startswith(".")]) >= 10


def test_a_malformed_file_exits_2_with_one_error_line(tmp_path):
    from glmtasks.api import run_task

    overrides = ["data.source=files", f"data.train_files=[{CORPUS / 'good.txt'},{CORPUS / 'latin1.txt'}]", "data.block_size=16"]
    run = run_task("pretrain", overrides, tmp_path, check=False)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: line 3 of "), run.stderr[-2000:]
    assert "latin1.txt (data.train_files) is not UTF-8" in lines[0]
