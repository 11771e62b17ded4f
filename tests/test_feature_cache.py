"""The on-disk cache of encoded splits: a hit returns what encoding would; any change that matters misses."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from glmtasks.feature_cache import cache_key, cached, code_fingerprint


@pytest.fixture
def datamodule(tmp_path):
    from glmtasks.backbone import train_bpe_tokenizer
    from glmtasks_classification.config import ClassificationDataConfig
    from glmtasks_classification.data import ClassificationDataModule

    config = ClassificationDataConfig(source="demo", demo_train_size=64, demo_eval_size=16, cache_dir=str(tmp_path / "cache"))
    dm = ClassificationDataModule(config)
    dm.set_tokenizer(train_bpe_tokenizer(dm.training_texts(), 400))
    return dm


def test_a_second_setup_reads_the_features_the_first_one_encoded(datamodule, monkeypatch):
    datamodule.setup()
    encoded = {split: features for split, features in datamodule.features.items()}
    assert len(list(Path(datamodule.config.cache_dir).glob("*.pkl"))) == 3
    datamodule.features = {}
    monkeypatch.setattr(type(datamodule), "encode_split", lambda *a: pytest.fail("encoded again instead of reading the cache"))
    datamodule.setup()
    assert datamodule.features == encoded


def test_the_key_changes_with_records_config_task_info_and_tokenizer(datamodule):
    from glmtasks.backbone import train_bpe_tokenizer

    records = datamodule.splits["train"]
    key = cache_key(datamodule, "train", records)
    assert key == cache_key(datamodule, "train", list(records))
    assert key != cache_key(datamodule, "validation", records)
    assert key != cache_key(datamodule, "train", records[:-1])
    changed = [dict(records[0], text=records[0]["text"] + "!"), *records[1:]]
    assert key != cache_key(datamodule, "train", changed)
    batching = dataclasses.replace(datamodule.config, batch_size=7, eval_batch_size=3)
    encoding = dataclasses.replace(datamodule.config, max_length=9)
    for config, same in ((batching, True), (encoding, False)):
        original, datamodule.config = datamodule.config, config
        assert (cache_key(datamodule, "train", records) == key) is same
        datamodule.config = original
    datamodule.task_info = {"labels": ["positive", "negative"]}
    assert cache_key(datamodule, "train", records) != key
    datamodule.task_info = {"labels": ["negative", "positive"]}
    datamodule.set_tokenizer(train_bpe_tokenizer(datamodule.training_texts(), 300))
    assert cache_key(datamodule, "train", records) != key


def test_the_code_fingerprint_covers_glmtasks_and_the_plugin_package():
    from glmtasks.datamodule import TaskDataModule
    from glmtasks_classification.data import ClassificationDataModule

    assert code_fingerprint(ClassificationDataModule, TaskDataModule) != code_fingerprint(TaskDataModule, TaskDataModule)


def test_an_unreadable_entry_is_encoded_again_and_an_unwritable_cache_costs_nothing(tmp_path):
    (tmp_path / "k.pkl").write_bytes(b"not a pickle")
    assert cached(tmp_path, "k", lambda: [{"input_ids": [1]}]) == [{"input_ids": [1]}]
    assert cached(tmp_path, "k", lambda: pytest.fail("the rewritten entry was not read")) == [{"input_ids": [1]}]
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert cached(blocked / "sub", "k", lambda: [{"input_ids": [2]}]) == [{"input_ids": [2]}]
    assert cached(tmp_path, None, lambda: [{"input_ids": [3]}]) == [{"input_ids": [3]}]
