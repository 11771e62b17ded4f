"""TaskDataModule: each Lightning stage encodes only the splits it reads, and a split shared by two names once."""

from __future__ import annotations

import pytest


@pytest.fixture
def datamodule():
    from glmtasks.backbone import train_bpe_tokenizer
    from glmtasks_classification.config import ClassificationDataConfig
    from glmtasks_classification.data import ClassificationDataModule

    dm = ClassificationDataModule(ClassificationDataConfig(source="demo", demo_train_size=64, demo_eval_size=16, cache_features=False))
    dm.set_tokenizer(train_bpe_tokenizer(dm.training_texts(), 400))
    encoded = []
    encode_split = dm.encode_split
    dm.encode_split = lambda split, records: encoded.append(split) or encode_split(split, records)
    dm.encoded = encoded
    return dm


@pytest.mark.parametrize("stage, splits", [("fit", ["train", "validation"]), ("validate", ["validation"]), ("test", ["test"]),
                                           ("predict", ["test"]), (None, ["train", "validation", "test"])])
def test_a_stage_encodes_the_splits_it_reads_and_nothing_else(datamodule, stage, splits):
    datamodule.setup(stage)
    assert datamodule.encoded == splits and sorted(datamodule.features) == sorted(splits)


def test_a_split_read_outside_its_stage_is_encoded_on_first_use_and_kept(datamodule):
    datamodule.setup("fit")
    assert next(iter(datamodule.predict_dataloader()))["input_ids"].shape[0] > 0
    datamodule.setup("test")
    assert datamodule.encoded == ["train", "validation", "test"]


def test_the_test_split_that_is_the_validation_split_is_encoded_once():
    from glmtasks.backbone import train_bpe_tokenizer
    from glmtasks_classification.config import ClassificationDataConfig
    from glmtasks_classification.data import ClassificationDataModule
    from glmtasks_classification.demo import generate_sentiment

    dm = ClassificationDataModule(ClassificationDataConfig(source="demo", demo_train_size=64, demo_eval_size=16, cache_features=False))
    dm.splits["test"] = dm.splits["validation"]
    assert dm.test_is_validation
    dm.set_tokenizer(train_bpe_tokenizer(generate_sentiment(64, seed=0)["text"], 400))
    dm.setup("test")
    dm.setup("fit")
    assert dm.features["validation"] is dm.features["test"]
