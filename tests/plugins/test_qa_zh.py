"""CMRC 2018 scoring across full-width forms, and data=cmrc2018: trial for training, dev split by article into validation and test."""

from __future__ import annotations

import pytest

from glmtasks_qa.metrics import exact_match_zh, f1_zh, score_answer


def test_full_width_forms_score_as_their_ascii_forms():
    assert exact_match_zh("２０１５年", "2015年") == 1.0
    assert exact_match_zh("《红楼梦》，", "红楼梦") == 1.0
    assert exact_match_zh("(上海)", "（上海）") == 1.0
    assert f1_zh("ＧＤＰ增长了", "GDP增长") == pytest.approx(2 * (3 / 4) * 1.0 / (3 / 4 + 1.0))
    assert score_answer("北京，中国", ["北京", "上海"], "zh") == (0.0, pytest.approx(2 / 3))


def test_cmrc2018_config_splits_dev_by_article(shared_data):
    from glmtasks.cli import compose_dict, validate
    from glmtasks.registry import default_registry
    from glmtasks.run import build_datamodule, resolve_task

    config = validate(compose_dict(["task=qa", "data=cmrc2018", f"paths.shared_data={shared_data}"]))
    registry = default_registry()
    datamodule = build_datamodule(config, resolve_task(config, registry), registry)
    sizes = {split: len(records) for split, records in datamodule.splits.items()}
    assert sizes == {"train": 1000, "validation": 1493, "test": 1726}, sizes
    contexts = [{r["context"] for r in datamodule.splits[s]} for s in ("validation", "test")]
    assert not contexts[0] & contexts[1], "no paragraph is in both validation and test"
    assert datamodule.skipped_rows["train"]["count"] == 2
