"""Chinese sentiment: the data.language=zh demo (generated, learnable, not solved by character counts) and data=chnsenticorp read from its zip."""

from __future__ import annotations

import pytest

from glmtasks.api import DataError, run_task
from glmtasks_classification.demo import generate_sentiment
from test_classification_demo import bag_of_words_accuracy


def character_grams(text: str) -> set:
    """Character unigrams and bigrams of ``text`` (the words of a bag-of-words baseline for Chinese)."""
    return set(text) | {text[i : i + 2] for i in range(len(text) - 1)}


def test_zh_demo_is_chinese_deterministic_balanced_and_uses_negation_and_contrast():
    first = generate_sentiment(500, seed=1, language="zh")
    assert first == generate_sentiment(500, seed=1, language="zh")
    assert first != generate_sentiment(500, seed=1), "zh is its own set"
    assert 0.4 < first["label"].count("positive") / 500 < 0.6
    text = "".join(first["text"])
    assert " " not in text and "但" in text and "虽然" in text and "不" in text
    with pytest.raises(ValueError, match="en, zh"):
        generate_sentiment(5, seed=1, language="fr")


def test_character_counts_do_not_solve_the_zh_demo():
    # The full default run (3,000 reviews, glm-tiny) reaches about 0.95 (bench/RESULTS_zh.md).
    baseline = bag_of_words_accuracy(generate_sentiment(3000, 0, 0.05, "zh"), generate_sentiment(600, 2, language="zh"), character_grams)
    assert 0.6 < baseline < 0.8, baseline


def test_zh_demo_runs_end_to_end_on_chinese_text(tmp_path):
    run = run_task("sentiment", ["data.language=zh", "data.demo_train_size=400", "data.demo_eval_size=64"], tmp_path)
    predictions = run.predictions()
    assert len(predictions) == 64 and {p["label"] for p in predictions} == {"negative", "positive"}
    assert all(any("\u4e00" <= c <= "\u9fff" for c in p["text"]) for p in predictions)
    assert {"test/accuracy", "test/macro_f1"} <= set(run.metrics["test"])
    from transformers import AutoTokenizer

    from glmtasks.api import is_cjk

    tokenizer = AutoTokenizer.from_pretrained(run.run_dir / "export")
    seen = {c for text in generate_sentiment(400, seed=0, language="zh")["text"] for c in text if is_cjk(c)}  # the training split
    assert len(seen) > 50 and all(len(tokenizer.tokenize(c)) == 1 for c in seen), "every training character is one token"


def test_an_unknown_demo_language_is_one_line():
    from glmtasks_classification.config import ClassificationDataConfig
    from glmtasks_classification.data import SentimentDataModule

    with pytest.raises(DataError, match="no language 'fr'; use data.language=en or data.language=zh"):
        SentimentDataModule(ClassificationDataConfig(source="demo", language="fr", demo_train_size=10, demo_eval_size=4))


def test_chnsenticorp_reads_its_three_splits_from_the_zip(shared_data):
    from glmtasks.cli import compose_dict, validate
    from glmtasks.registry import default_registry
    from glmtasks.run import build_datamodule, resolve_task

    config = validate(compose_dict(["task=sentiment", "data=chnsenticorp", f"paths.shared_data={shared_data}"]))
    assert config.data["train_file"].endswith("chnsenticorp.zip/train.tsv")
    registry = default_registry()
    datamodule = build_datamodule(config, resolve_task(config, registry), registry)
    assert {s: len(r) for s, r in datamodule.splits.items()} == {"train": 9600, "validation": 1200, "test": 1200}
    assert datamodule.task_info["labels"] == ["negative", "positive"]
    assert datamodule.describe(datamodule.splits["test"][0], "test") == {"text": "这个宾馆比较陈旧了，特价的房间也很一般。总体来说一般", "label": "positive"}
    with pytest.raises(DataError, match="no member 'valid.tsv'.*dev.tsv, test.tsv, train.tsv"):
        build_datamodule(validate(compose_dict(["task=sentiment", "data=chnsenticorp", f"paths.shared_data={shared_data}",
                                                f"data.validation_file={shared_data}/chnsenticorp/chnsenticorp.zip/valid.tsv"])),
                         resolve_task(config, registry), registry)
