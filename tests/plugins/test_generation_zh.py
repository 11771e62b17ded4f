"""Chinese scoring of generation: ROUGE on characters or jieba words (recorded in metrics.json), BLEU/ROUGE across full-width forms, data=csl."""

from __future__ import annotations

import pickle

import pytest

from glmtasks.run import metric_metadata
from glmtasks_summarization.metrics import ChineseWordTokenizer, Rouge, UnicodeTokenizer, rougeL
from glmtasks_translation.metrics import sacrebleu

REFERENCE = "基于深度学习的图像分割方法研究"
HYPOTHESIS = "一种基于学习的图像分类方法"


def score(tokenizer: str, hypotheses, references, kind: str = "rougeL") -> float:
    metric = Rouge(kind, tokenizer=tokenizer, language="zh")
    metric.update(hypotheses, references)
    return float(metric.compute())


def test_words_and_characters_give_different_units_and_scores():
    assert ChineseWordTokenizer().tokenize("基于深度学习的图像分割，２０２４年！") == ["基于", "深度", "学习", "的", "图像", "分割", "2024", "年"]
    assert UnicodeTokenizer().tokenize("图像分割，２０２４年") == ["图", "像", "分", "割", "2024", "年"]
    chars, words = score("unicode", [HYPOTHESIS], [[REFERENCE]]), score("zh_words", [HYPOTHESIS], [[REFERENCE]])
    assert 0 < words < chars < 100, (words, chars)  # 分类 vs 分割 share a character but not a word
    assert score("zh_words", [REFERENCE], [[REFERENCE]]) == pytest.approx(100.0)
    copy = pickle.loads(pickle.dumps(Rouge("rougeL", tokenizer="zh_words", language="zh")))  # metrics are pickled and copied
    copy.update([HYPOTHESIS], [[REFERENCE]])
    assert float(copy.compute()) == pytest.approx(words)


def test_auto_is_characters_for_chinese_and_the_choice_is_recorded():
    auto = rougeL({"language": "zh", "scoring": {"rouge_tokenizer": "auto"}})
    words = rougeL({"language": "zh", "scoring": {"rouge_tokenizer": "zh_words"}})
    english = rougeL({"language": "en", "scoring": {}})
    recorded = metric_metadata({"rougeL": auto, "rougeL_words": words, "en": english})
    assert recorded["rougeL"]["tokenizer"] == "unicode" and "characters" in recorded["rougeL"]["units"]
    assert recorded["rougeL_words"] == {"tokenizer": "zh_words", "units": "jieba words", "stemmer": False}
    assert recorded["en"]["tokenizer"] == "words" and recorded["en"]["stemmer"] is True


def test_an_unknown_rouge_tokenizer_names_the_choices():
    with pytest.raises(ValueError, match="zh_words"):
        Rouge("rougeL", tokenizer="jieba")


def test_full_width_punctuation_does_not_cost_chinese_bleu_or_rouge():
    hypothesis, reference = "我们提出一种新方法,效果好(显著)。", "我们提出一种新方法，效果好（显著）。"
    bleu = sacrebleu({"language": "zh", "scoring": {}})
    bleu.update([hypothesis], [[reference]])
    assert float(bleu.compute()) == pytest.approx(100.0)
    assert "normalized" in bleu.metadata()
    for tokenizer in ("unicode", "zh_words"):
        assert score(tokenizer, [hypothesis], [[reference]]) == pytest.approx(100.0)
    english = sacrebleu({"language": "en", "scoring": {}})
    assert "normalized" not in english.metadata()


def test_csl_config_splits_the_dev_file_into_train_validation_and_test(shared_data):
    from glmtasks.cli import compose_dict, validate
    from glmtasks.registry import default_registry
    from glmtasks.run import build_datamodule, resolve_task

    config = validate(compose_dict(["data=csl", f"paths.shared_data={shared_data}"]))
    registry = default_registry()
    datamodule = build_datamodule(config, resolve_task(config, registry), registry)
    sizes = {split: len(records) for split, records in datamodule.splits.items()}
    assert sizes == {"train": 700, "validation": 100, "test": 200}
    sources = [{r["source"] for r in datamodule.splits[s]} for s in ("train", "validation", "test")]
    assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
    assert datamodule.task_info["language"] == "zh" and all(r["references"][0] for r in datamodule.splits["test"])
