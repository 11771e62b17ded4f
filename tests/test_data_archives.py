"""Zip members as data files: ``data.train_file=corpus.zip/train.tsv`` for every table reader, read_text and the NER/QA readers."""

from __future__ import annotations

import json
import zipfile

import pytest

from glmtasks.data import local_data_file, read_records, read_text, split_archive_path
from glmtasks.errors import DataError

ROWS = [{"label": "1", "text": "房间很干净"}, {"label": "0", "text": "服务太差, 不会再来"}]


@pytest.fixture
def archive(tmp_path, monkeypatch):
    """A zip holding the same two rows as csv, tsv, jsonl, json, text and parquet, one in a folder."""
    import datasets

    monkeypatch.setenv("GLMTASKS_CACHE", str(tmp_path / "cache"))
    parquet = tmp_path / "rows.parquet"
    datasets.Dataset.from_list(ROWS).to_parquet(str(parquet))
    path = tmp_path / "corpus.zip"
    with zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr("train.csv", "label,text\n" + "".join(f'{r["label"]},"{r["text"]}"\n' for r in ROWS))
        zipped.writestr("train.tsv", "label\ttext\n" + "".join(f'{r["label"]}\t{r["text"]}\n' for r in ROWS))
        zipped.writestr("train.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS))
        zipped.writestr("sub/train.json", json.dumps(ROWS, ensure_ascii=False))
        zipped.writestr("train.txt", "".join(r["text"] + "\n" for r in ROWS))
        zipped.write(parquet, "train.parquet")
    return path


@pytest.mark.parametrize("member", ["train.csv", "train.tsv", "train.jsonl", "sub/train.json", "train.parquet"])
def test_every_table_format_reads_from_a_zip_member(archive, member):
    rows = read_records(f"{archive}/{member}", "train_file", columns={"text_column": "text"})
    assert [(str(r["label"]), r["text"]) for r in rows] == [(r["label"], r["text"]) for r in ROWS]


def test_text_members_read_as_lines_and_through_read_text(archive):
    assert [r["text"] for r in read_records(f"{archive}/train.txt", "train_file")] == [r["text"] for r in ROWS]
    assert read_text(f"{archive}/train.txt", "train_file").splitlines() == [r["text"] for r in ROWS]


def test_a_missing_member_is_one_line_listing_the_members(archive):
    with pytest.raises(DataError) as caught:
        read_records(f"{archive}/dev.tsv", "validation_file")
    message = str(caught.value)
    assert "\n" not in message and "no member 'dev.tsv'" in message and "data.validation_file" in message
    assert "train.tsv" in message and "sub/train.json" in message


def test_errors_name_the_member_path_not_the_extracted_copy(archive, tmp_path):
    with zipfile.ZipFile(archive, "a") as zipped:
        zipped.writestr("headless.csv", "")
    with pytest.raises(DataError) as caught:
        read_records(f"{archive}/headless.csv", "train_file")
    assert f"{archive}/headless.csv" in str(caught.value) and "cache" not in str(caught.value)


def test_members_are_extracted_once_and_plain_paths_pass_through(archive, tmp_path):
    assert split_archive_path(f"{archive}/sub/train.json") == (archive, "sub/train.json")
    assert split_archive_path(tmp_path / "missing.zip" / "train.tsv") is None, "no archive there: a plain (missing) path"
    assert split_archive_path(archive) is None
    first = local_data_file(f"{archive}/train.tsv", "train_file")
    assert first.read_text(encoding="utf-8").startswith("label\ttext") and str(tmp_path / "cache") in str(first)
    assert local_data_file(f"{archive}/train.tsv", "train_file") == first
    plain = tmp_path / "plain.tsv"
    assert local_data_file(plain, "train_file") == plain


def test_a_damaged_archive_is_one_line(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="cannot read .*broken.zip as a zip archive"):
        local_data_file(f"{broken}/train.tsv", "train_file")


def test_ner_and_qa_readers_take_zip_members(archive, tmp_path):
    from glmtasks_ner.data import read_conll
    from glmtasks_qa.data import read_squad_file

    squad = {"data": [{"title": "t", "paragraphs": [{"context": "北京是首都。", "qas": [{"id": "q", "question": "首都?", "answers": [{"text": "北京", "answer_start": 0}]}]}]}]}
    with zipfile.ZipFile(archive, "a") as zipped:
        zipped.writestr("ner/train.txt", "北 B-LOC\n京 I-LOC\n好 O\n\n上 B-LOC\n")
        zipped.writestr("qa/dev.json", json.dumps(squad, ensure_ascii=False))
    sentences = read_conll(f"{archive}/ner/train.txt", "train_file")
    assert [(words, tags) for words, tags, _ in sentences] == [(["北", "京", "好"], ["B-LOC", "I-LOC", "O"]), (["上"], ["B-LOC"])]
    assert read_squad_file(f"{archive}/qa/dev.json", "validation_file")["data"][0]["title"] == "t"
