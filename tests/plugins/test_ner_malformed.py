"""task=ner on malformed and unusual CoNLL / jsonl files (tests/data/malformed/ner/).

Each file either reads into the expected sentences and entities (and then trains: a tokenizer,
``setup`` and one batch), or fails with a one-line :class:`DataError` naming the file, the line
and the fix. The files are byte-exact (``.gitattributes``: CRLF, CR, a BOM, Latin-1, UTF-16,
binary data).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Optional

import pytest

from glmtasks.api import ConfigError, DataError, run_task, train_bpe_tokenizer
from glmtasks_ner.config import NERDataConfig
from glmtasks_ner.data import NERDataModule, infer_ner_format

CORPUS = Path(__file__).resolve().parents[1] / "data" / "malformed" / "ner"
GOOD = CORPUS / "good.conll"  # PER and LOC, the validation file of most cases

PB = ["Peter", "Blackburn", "spoke"]
IP = ["in", "Paris"]
TWO = [(["Peter", "spoke"], [("PER", 0, 1)]), (IP, [("LOC", 1, 2)])]
"""Sentences of most readable files: 'Peter spoke' and 'in Paris'."""


def datamodule(name: str, fmt: Optional[str], role: str, **config: Any) -> NERDataModule:
    """The datamodule with file ``name`` as the ``role`` split (train, validation or predict), good.conll elsewhere."""
    path = str(CORPUS / name)
    files = {"train_file": str(GOOD), "validation_file": str(GOOD)}
    files[f"{role}_file"] = path
    if role == "train" and "validation_file" not in config:
        files["validation_file"] = path
    files.update(config.pop("files", {}))
    return NERDataModule(NERDataConfig(source="files", format=fmt, **files, **config))


# (file, data.format, split, extra config, expected [(words, spans)], expected entity types)
READS = [
    ("good.conll", "conll", "train", {}, [(PB, [("PER", 0, 2)]), ([*IP, "."], [("LOC", 1, 2)])], ["LOC", "PER"]),
    ("crlf.conll", "conll", "train", {}, [(PB, [("PER", 0, 2)]), (IP, [("LOC", 1, 2)])], ["LOC", "PER"]),
    ("cr_only.conll", "conll", "train", {}, TWO, ["LOC", "PER"]),
    ("no_trailing_blank.conll", "conll", "train", {}, TWO, ["LOC", "PER"]),
    ("bom.conll", "conll", "train", {}, [(["Peter", "spoke"], [("PER", 0, 1)])], ["PER"]),
    ("blank_runs_and_docstarts.conll", "conll", "train", {},
     [(["Peter"], [("PER", 0, 1)]), (["spoke"], []), (IP, [("LOC", 1, 2)])], ["LOC", "PER"]),
    # IOB1-style tags under the default data.tag_scheme=iob2: read as IOB1 (I- after O begins an entity), with a warning
    ("iob1_style.conll", "conll", "train", {},
     [(PB, [("PER", 0, 2)]), ([*IP, "Lyon"], [("LOC", 1, 2), ("LOC", 2, 3)])], ["LOC", "PER"]),
    ("tab_separated.conll", "conll", "train", {"column_separator": "\t"}, [(["New York", "is", "big"], [("LOC", 0, 1)])], ["LOC"]),
    ("gzipped.conll.gz", "conll", "train", {}, TWO, ["LOC", "PER"]),
    ("unicode.jsonl", "jsonl", "train", {},
     [(["Zoë", "Ångström", "visited", "Zürich", "東京"], [("PER", 0, 2), ("LOC", 3, 4), ("LOC", 4, 5)])], ["LOC", "PER"]),
    # inputs to predict (read_file(..., labelled=False)): no tags, every word O
    ("predict_words_only.conll", "conll", "predict", {}, [(["Peter", "spoke"], []), (IP, [])], ["LOC", "PER"]),
    ("predict_no_tags.jsonl", None, "predict", {}, [(["Peter", "spoke"], []), (IP, [])], ["LOC", "PER"]),
]


@pytest.mark.parametrize("name, fmt, role, config, sentences, types", READS, ids=[r[0] for r in READS])
def test_unusual_files_read_correctly_and_train(name, fmt, role, config, sentences, types):
    data = datamodule(name, fmt, role, **dict(config))
    assert [(r["words"], r["spans"]) for r in data.splits[role]] == sentences
    assert data.task_info["entity_types"] == types
    texts = list(data.training_texts())
    data.set_tokenizer(train_bpe_tokenizer(texts * 20, vocab_size=300))
    data.setup("fit")
    loader = data.predict_dataloader() if role == "predict" else data.train_dataloader()
    batch = next(iter(loader))
    assert batch["input_ids"].shape[0] >= 1 and batch["labels"].shape == batch["input_ids"].shape
    if role == "predict":
        assert all(label == -100 or data.task_info["labels"][label] == "O" for label in batch["labels"].flatten().tolist())


# (file, data.format (None: inferred), split, extra config, the line named (None: none applies), the fix named)
ERRORS = [
    ("wrong_column_count.conll", "conll", "train", {}, 5, "has 3 columns but line 1 has 2; fix the line .*data.column_separator"),
    ("inconsistent_columns.conll", "conll", "train", {}, 5, "has 3 columns but line 3 has 4; fix the line"),
    ("missing_tag.conll", "conll", "train", {}, 1, "word and the tag are the same column .*give each word its tag"),
    ("unknown_type.conll", "conll", "train", {"entity_types": ["PER", "LOC"]}, 5,
     r"entity type\(s\) ORG that are not in \['PER', 'LOC'\] \(data.entity_types\).*list every type in data.entity_types"),
    ("validation_new_type.conll", "conll", "validation", {}, 7,
     r"validation data has entity type\(s\) ORG .*\(the types of the training data\).*list every type in data.entity_types"),
    ("invalid_prefix.conll", "conll", "train", {}, 5, r"unknown tag 'X-LOC'.*\('Paris X-LOC'\); tags must be O or B-TYPE/I-TYPE \(IOB2\); fix the tag"),
    ("empty_type.conll", "conll", "train", {}, 1, "unknown tag 'B-'.*fix the tag or set data.tag_scheme"),
    ("bioes_as_iob2.conll", "conll", "train", {}, 2, "unknown tag 'E-PER'.*set data.tag_scheme=iob1[|]iob2[|]bioes"),
    ("empty_word.conll", "conll", "train", {"column_separator": "\t"}, 2, "has an empty word .*fix the line"),
    ("docstart_only.conll", "conll", "train", {}, None, r"has no sentences \(only -DOCSTART- and blank lines\); give a CoNLL file"),
    ("empty.conll", "conll", "train", {}, None, r"has no sentences \(it is empty\); give a CoNLL file"),
    ("empty.jsonl", "jsonl", "train", {}, None, r"has no sentences \(it is empty\); give one \{\"tokens\""),
    ("no_tokens.jsonl", "jsonl", "train", {}, None, r"has no sentences \(every row has no tokens\)"),
    ("length_mismatch.jsonl", "jsonl", "train", {}, 2, "has 3 tokens but 2 tags; give one tag per token"),
    ("int_tags.jsonl", "jsonl", "train", {}, 1, 'tag 1 on .* is the number 1, not a tag name such as "B-PER" .*convert class ids'),
    ("null_token.jsonl", "jsonl", "train", {}, 1, "token 2 on .* is null, not a string; fix the line"),
    ("blank_token.jsonl", "jsonl", "train", {}, 1, r"token 2 on .* is empty; remove it \(and its tag\)"),
    ("json_array.jsonl", "jsonl", "train", {}, 1, "looks like one JSON array; write one .* object per line"),
    ("row_not_object.jsonl", "jsonl", "train", {}, 2, "is a JSON array, not an object; write one"),
    ("conll_named_jsonl.jsonl", None, "train", {}, 1, "malformed JSON .*set data.format=conll"),
    ("jsonl_named_conll.txt", None, "train", {}, 1, "is a JSON object, not CoNLL columns; set data.format=jsonl"),
    ("latin1.conll", "conll", "train", {}, 5, r"is not UTF-8: byte 0xe1 .*save the file as UTF-8"),
    ("utf16.conll", "conll", "train", {}, None, "is UTF-16 text; save it as UTF-8"),
    ("binary.conll", "conll", "train", {}, 3, "is not a text file .*give a UTF-8 text file"),
    ("damaged.conll.gz", "conll", "train", {}, None, "is a damaged gzip file .*compress it again"),
    ("wrong_column_count.conll", "conll", "predict", {}, 5, "has 3 columns but line 1 has 2"),
]


@pytest.mark.parametrize("name, fmt, role, config, line, fix", ERRORS, ids=[f"{e[0]}-{e[2]}" for e in ERRORS])
def test_malformed_files_fail_with_one_line_naming_file_line_and_fix(name, fmt, role, config, line, fix):
    with pytest.raises(DataError) as caught:
        datamodule(name, fmt, role, **dict(config))
    message = str(caught.value)
    assert "\n" not in message, "one line"
    assert str(CORPUS / name) in message, "names the file"
    assert f"(data.{role}_file)" in message, "names the key"
    if line is not None:
        assert f"line {line} " in message or f"line {line})" in message or f"line {line};" in message, message
    assert re.search(fix, message), message


def test_the_corpus_has_every_file_of_the_tables():
    named = {row[0] for row in READS + ERRORS}
    on_disk = {p.name for p in CORPUS.iterdir() if p.name != ".gitattributes"}
    assert named == on_disk and len(on_disk) >= 10


def test_iob1_style_tags_are_read_as_iob1_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="glmtasks_ner.data"):
        datamodule("iob1_style.conll", "conll", "train", files={"validation_file": str(GOOD)})
    (warning,) = [r.getMessage() for r in caplog.records if "iob1_style.conll" in r.getMessage()]
    assert "(data.train_file): 2 sentence(s)" in warning and "'I-PER' at the start of the sentence on line 1" in warning
    assert "read leniently as IOB1 does" in warning and "set data.tag_scheme=iob1" in warning
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="glmtasks_ner.data"):
        data = datamodule("iob1_style.conll", "conll", "train", tag_scheme="iob1")
    assert not caplog.records, "declared IOB1: nothing to warn about"
    assert data.example_record("train", 1)["gold_tags"] == ["O", "I-LOC", "B-LOC"], "written back in the declared scheme"


def test_a_trained_models_types_are_checked_with_the_line():
    data = datamodule("good.conll", "conll", "train")
    with pytest.raises(DataError, match=r"entity type\(s\) PER .*\(the trained model's entity types\): first 'PER' on line 3 of .*good.conll"):
        data.adopt_task_info({"labels": ["O", "B-LOC", "I-LOC"], "entity_types": ["LOC"], "label_scheme": "iob2", "tag_scheme": "iob2"})


def test_entity_types_listed_twice_are_a_config_error():
    with pytest.raises(ConfigError, match=r"data.entity_types=\['PER', 'LOC', 'PER'\] lists PER more than once"):
        datamodule("good.conll", "conll", "train", entity_types=["PER", "LOC", "PER"])


def test_gzipped_jsonl_is_inferred_as_jsonl():
    assert infer_ner_format("train.jsonl.gz", None) == "jsonl" and infer_ner_format("train.txt.gz", None) == "conll"


def test_cli_exits_2_with_one_error_line(tmp_path):
    bad, good = CORPUS / "invalid_prefix.conll", GOOD
    run = run_task("ner", ["data.source=files", f"data.train_file={bad}", f"data.validation_file={good}"], tmp_path, check=False)
    assert run.returncode == 2, run.stderr[-2000:]
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert str(bad) in errors[0] and "on line 5" in errors[0] and "fix the tag" in errors[0]
