"""Generation data: tables with configurable columns, parallel text, direction, holdout, the shipped data configs."""

from __future__ import annotations

import gzip
import json

import pytest
from omegaconf import OmegaConf

from glmtasks.cli import compose, validate
from glmtasks.errors import DataError
from glmtasks.registry import default_registry
from glmtasks.run import build_datamodule, resolve_task
from glmtasks_summarization.config import SummarizationDataConfig
from glmtasks_summarization.data import SummarizationDataModule
from glmtasks_translation.config import TranslationDataConfig
from glmtasks_translation.data import TranslationDataModule


def pairs(records):
    return [(r["source"], r["references"]) for r in records]


def test_jsonl_with_lists_of_sentences_and_references(tmp_path):
    rows = [
        {"doc": ["First sentence.", "Second one."], "tldr": ["ref a", "ref b"]},
        {"doc": "A plain string.", "tldr": "single ref"},
        {"doc": "", "tldr": "skipped: no source"},
    ]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = SummarizationDataConfig(source="files", train_file=str(path), validation_file=str(path), source_column="doc", target_column="tldr",
                                     invalid_rows="skip")  # the row with an empty source is dropped (by default it is an error)
    dm = SummarizationDataModule(config)
    assert pairs(dm.splits["validation"]) == [
        ("First sentence. Second one.", ["ref a", "ref b"]),
        ("A plain string.", ["single ref"]),
    ]
    assert dm.splits["test"] is dm.splits["validation"], "no test_file: the validation split is the test split"


def test_headerless_tsv_with_column_names_and_a_held_out_validation_split(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("".join(f"to title\t摘要{i}的内容\t标题{i}\n" for i in range(10)), encoding="utf-8")
    config = SummarizationDataConfig(source="files", train_file=str(path), column_names=["kind", "abstract", "title"],
                                     source_column="abstract", target_column="title", validation_size=3, language="zh")
    dm = SummarizationDataModule(config)
    assert len(dm.splits["train"]) == 7 and len(dm.splits["validation"]) == 3
    assert {r["source"] for r in dm.splits["train"]}.isdisjoint({r["source"] for r in dm.splits["validation"]})
    assert dm.splits["train"][0]["references"][0].startswith("标题") and dm.task_info["language"] == "zh"


def test_csv_with_a_missing_column_fails_in_one_line_naming_the_key(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("article,highlights\nsome text,a summary\n")
    config = SummarizationDataConfig(source="files", train_file=str(path), validation_file=str(path))
    with pytest.raises(DataError, match=r"column 'source' \(data.source_column\) not found .* its columns are article, highlights; set data.source_column=<column>"):
        SummarizationDataModule(config)


def _parallel(tmp_path, name, de, en):
    for lang, lines in (("de", de), ("en", en)):
        with gzip.open(tmp_path / f"{name}.{lang}.gz", "wt", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
    return str(tmp_path / f"{name}.{{lang}}.gz")


def test_parallel_text_files_in_both_directions(tmp_path):
    train = _parallel(tmp_path, "train", ["Ein Hund.", "", "Zwei Katzen."], ["A dog.", "skipped", "Two cats."])
    forward = TranslationDataModule(TranslationDataConfig(source="files", train_file=train, validation_file=train, source_lang="de", target_lang="en"))
    assert pairs(forward.splits["train"]) == [("Ein Hund.", ["A dog."]), ("Zwei Katzen.", ["Two cats."])]
    assert forward.task_info["language"] == "en" and forward.task_info["source_lang"] == "de"
    backward = TranslationDataModule(TranslationDataConfig(source="files", train_file=train, validation_file=train, source_lang="en", target_lang="de"))
    assert backward.splits["train"][0]["source"] == "A dog." and backward.task_info["language"] == "de"


def test_misaligned_parallel_files_are_a_data_error(tmp_path):
    train = _parallel(tmp_path, "bad", ["a", "b"], ["a"])
    with pytest.raises(DataError, match="not line-aligned: 2 lines in de, 1 in en"):
        TranslationDataModule(TranslationDataConfig(source="files", train_file=train, validation_file=train, source_lang="de", target_lang="en"))


def test_translation_tables_default_to_language_columns_and_read_nested_fields(tmp_path):
    path = tmp_path / "wmt.jsonl"
    path.write_text(json.dumps({"translation": {"de": "Hallo Welt", "en": "Hello world"}}) + "\n")
    config = TranslationDataConfig(source="files", train_file=str(path), validation_file=str(path), source_lang="de", target_lang="en",
                                   source_column="translation.de", target_column="translation.en")
    assert TranslationDataModule(config).splits["train"][0]["references"] == ["Hello world"]
    flat = tmp_path / "flat.csv"
    flat.write_text("de,en\nHallo,Hello\n")
    config = TranslationDataConfig(source="files", train_file=str(flat), validation_file=str(flat), source_lang="de", target_lang="en")
    assert TranslationDataModule(config).splits["train"][0]["source"] == "Hallo"


def test_demo_corpus_follows_the_configured_direction():
    config = TranslationDataConfig(source="demo", demo_train_size=5, demo_eval_size=2, source_lang="toy", target_lang="en")
    record = TranslationDataModule(config).splits["train"][0]
    assert record["references"][0].split()[0] in {"yesterday", "last", "today", "every", "tomorrow", "next", "the", "a", "an", "my", "two", "three", "some"}
    with pytest.raises(DataError, match="the demo corpus has languages en, toy, not data.target_lang=fr"):
        TranslationDataModule(TranslationDataConfig(source="demo", target_lang="fr"))


def test_inputs_to_predict_need_no_references(tmp_path):
    train = _parallel(tmp_path, "train", ["Ein Hund.", "Zwei Katzen."], ["A dog.", "Two cats."])
    (tmp_path / "new.de").write_text("Eine Maus.\n\nDrei Vögel.\n", encoding="utf-8")
    config = TranslationDataConfig(source="files", train_file=train, validation_file=train, predict_file=str(tmp_path / "new.{lang}"),
                                   source_lang="de", target_lang="en")
    assert pairs(TranslationDataModule(config).splits["predict"]) == [("Eine Maus.", []), ("Drei Vögel.", [])]
    table = tmp_path / "docs.jsonl"
    table.write_text(json.dumps({"source": "A report.", "target": "A summary."}) + "\n")
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text(json.dumps({"source": "Only a document."}) + "\n")
    config = SummarizationDataConfig(source="files", train_file=str(table), validation_file=str(table), predict_file=str(inputs))
    dm = SummarizationDataModule(config)
    assert pairs(dm.splits["predict"]) == [("Only a document.", [])]
    assert dm.example_record("predict", 0) == {"source": "Only a document.", "references": []}


def test_a_local_dataset_folder_through_the_hub_reader_with_nested_columns(tmp_path):
    folder = tmp_path / "wmt_like"
    folder.mkdir()
    for split, n in (("train", 4), ("validation", 2)):
        rows = [{"translation": {"de": f"Satz {i}.", "en": f"Sentence {i}."}} for i in range(n)]
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = TranslationDataConfig(source="hub", hub_dataset=str(folder), source_lang="de", target_lang="en",
                                   source_column="translation.de", target_column="translation.en")
    dm = TranslationDataModule(config)
    assert pairs(dm.splits["validation"]) == [("Satz 0.", ["Sentence 0."]), ("Satz 1.", ["Sentence 1."])]
    assert len(dm.splits["train"]) == 4 and dm.splits["test"] is dm.splits["validation"]


def test_same_source_and_target_language_is_a_data_error():
    with pytest.raises(DataError, match="data.source_lang and data.target_lang are both 'en'"):
        TranslationDataModule(TranslationDataConfig(source="demo", source_lang="en", target_lang="en"))


def _datamodule(overrides):
    config = validate(OmegaConf.to_container(compose(overrides), resolve=True))
    registry = default_registry()
    return config, build_datamodule(config, resolve_task(config, registry), registry)


@pytest.mark.parametrize(
    "option,task,sizes",
    [
        ("multi30k", "translation", (29000, 1014)),
        ("dialogsum", "summarization", (12460, 500)),
        ("scitldr", "summarization", (1992, 619)),
        ("cnndm", "summarization", (200, 50)),
        ("csl", "summarization", (700, 100)),  # and 200 test rows (tests/plugins/test_generation_zh.py)
    ],
)
def test_shipped_real_data_configs_select_their_task_and_read_the_shared_data(shared_data, option, task, sizes):
    config, dm = _datamodule([f"data={option}", f"paths.shared_data={shared_data}"])
    assert config.task.name == task
    assert (len(dm.splits["train"]), len(dm.splits["validation"])) == sizes
    record = dm.splits["validation"][0]
    assert record["source"] and record["references"] and all(record["references"])
    if option == "scitldr":
        assert max(len(r["references"]) for r in dm.splits["validation"]) > 1, "SciTLDR has several references"
    if option == "csl":
        assert dm.task_info["language"] == "zh"
    if option == "multi30k":
        assert record["source"].startswith("Eine Gruppe von Männern") and dm.task_info["language"] == "en"


def test_default_data_configs_compose_with_their_tasks():
    for task in ("translation", "summarization"):
        config, dm = _datamodule([f"task={task}", "data.demo_train_size=10", "data.demo_eval_size=4"])
        assert config.data["source"] == "demo" and len(dm.splits["train"]) == 10
