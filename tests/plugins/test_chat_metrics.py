"""Chat metrics: token-weighted perplexity; reply BLEU/ROUGE with Chinese on characters or jieba words."""

from __future__ import annotations

import math

import pytest
import torch

from glmtasks_chat.metrics import bleu4, perplexity, rougeL


def test_perplexity_weights_batches_by_their_tokens():
    metric = perplexity()
    metric.update([], [], torch.tensor(10.0), torch.tensor(10))  # mean NLL 1.0 over 10 tokens
    metric.update([], [], torch.tensor(3.0), torch.tensor(1))  # mean NLL 3.0 over 1 token
    assert math.isclose(float(metric.compute()), math.exp(13 / 11), rel_tol=1e-9)
    assert math.isinf(float(perplexity().compute()))


def test_reply_scores_take_the_heads_inputs_and_record_how_chinese_was_split():
    replies, references = ["订单1234已经发货。"], [["订单1234已经发货！"]]
    rouge = rougeL({"language": "zh", "scoring": {}})
    rouge.update(replies, references, torch.tensor(1.0), torch.tensor(3))
    assert float(rouge.compute()) == pytest.approx(100.0)
    assert rouge.metadata()["tokenizer"] == "unicode"
    bleu = bleu4({"language": "zh", "scoring": {}})
    bleu.update(["您好!请问有什么可以帮您?"], [["您好！请问有什么可以帮您？"]], torch.tensor(1.0), torch.tensor(3))
    assert float(bleu.compute()) == pytest.approx(100.0), "full-width punctuation reads as ASCII for Chinese BLEU"


def test_chinese_words_by_jieba_when_asked():
    pytest.importorskip("jieba")
    rouge = rougeL({"language": "zh", "scoring": {"rouge_tokenizer": "zh_words"}})
    rouge.update(["我们明天发货"], [["我们今天发货"]])
    assert rouge.metadata()["tokenizer"] == "zh_words"
    assert 0 < float(rouge.compute()) < 100
