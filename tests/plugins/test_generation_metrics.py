"""ROUGE and sacreBLEU metrics against hand-computed values, sacreBLEU itself, and merged (DDP) states."""

from __future__ import annotations

import math

import pytest
import sacrebleu as sb

from glmtasks_summarization.metrics import Rouge, UnicodeTokenizer, rouge1, rouge2, rougeL, rougeLsum, split_sentences
from glmtasks_translation.metrics import chrf, sacrebleu

EN = {"language": "en", "scoring": {"rouge_stemmer": False}}


def score(factory, hypotheses, references, task_info=EN):
    metric = factory(task_info)
    metric.update(hypotheses, references)
    return float(metric.compute())


def test_rouge_by_hand():
    hyp, ref = ["the cat sat on the mat"], [["the cat is on the mat"]]
    # unigrams: the x2, cat, on, mat match = 5 of 6 on both sides -> F = 5/6
    assert score(rouge1, hyp, ref) == pytest.approx(100 * 5 / 6)
    # bigrams: "the cat", "on the", "the mat" match = 3 of 5 on both sides -> F = 3/5
    assert score(rouge2, hyp, ref) == pytest.approx(60.0)
    # longest common subsequence "the cat on the mat" = 5 -> F = 5/6
    assert score(rougeL, hyp, ref) == pytest.approx(100 * 5 / 6)


def test_rouge_is_the_mean_over_examples_and_takes_the_best_reference():
    hyps = ["a b", "a b c d"]
    refs = [["x y", "a b"], ["a b"]]  # example 1: best reference matches fully (1.0); example 2: P=1/2, R=1 -> F=2/3
    assert score(rouge1, hyps, refs) == pytest.approx(100 * (1 + 2 / 3) / 2)


def test_rouge_lsum_scores_sentences_rouge_l_does_not():
    hyp, ref = ["a b. c d."], [["c d. a b."]]
    assert split_sentences("a b. c d.") == "a b.\nc d."
    # whole-text LCS of "a b c d" and "c d a b" is 2 of 4 -> 0.5; per sentence the union LCS covers all 4 tokens.
    assert score(rougeL, hyp, ref) == pytest.approx(50.0)
    assert score(rougeLsum, hyp, ref) == pytest.approx(100.0)


def test_stemming_option():
    hyp, ref = ["cats running"], [["cat runs"]]
    assert score(rouge1, hyp, ref, {"language": "en", "scoring": {"rouge_stemmer": False}}) == 0.0
    assert score(rouge1, hyp, ref, {"language": "en", "scoring": {"rouge_stemmer": True}}) == pytest.approx(100.0)


def test_chinese_is_scored_on_characters():
    zh = {"language": "zh", "scoring": {}}
    hyp, ref = ["一种新的设计方法"], [["一种设计方法"]]
    # 6 of 8 hypothesis characters in the 6-character reference: P = 3/4, R = 1 -> F = 6/7
    assert score(rouge1, hyp, ref, zh) == pytest.approx(100 * 6 / 7)
    # bigrams: 一种 设计 计方 方法 match; 4 of 7 and 4 of 5 -> F = 2/3
    assert score(rouge2, hyp, ref, zh) == pytest.approx(100 * 2 / 3)
    # rouge-score's own English tokenizer would delete every Chinese character:
    assert score(rouge1, hyp, ref, {"language": "zh", "scoring": {"rouge_tokenizer": "words"}}) == 0.0
    assert UnicodeTokenizer().tokenize("基于SOS的 Mädchen-Test") == ["基", "于", "sos", "的", "mädchen", "test"]


def test_bleu_by_hand():
    # precisions 5/6, 4/5, 3/4, 2/3 (product 1/3), no brevity penalty -> 100 * (1/3) ** (1/4)
    assert score(sacrebleu, ["a b c d e f"], [["a b c d e g"]]) == pytest.approx(100 * (1 / 3) ** 0.25)
    # a 4-token hypothesis against a 6-token reference, all n-grams correct: BP = exp(1 - 6/4)
    assert score(sacrebleu, ["a b c d"], [["a b c d e f"]]) == pytest.approx(100 * math.exp(1 - 6 / 4))


def test_streamed_bleu_and_chrf_equal_sacrebleu_on_the_whole_corpus_with_variable_references():
    hyps = ["the cat sat on the mat.", "a dog runs in the park", "hello world", "Zwei Männer stehen draußen."]
    refs = [["the cat is on the mat."], ["a dog is running in a park", "the dog runs in the park"], ["hello there world"], ["Zwei Männer sind draußen."]]
    streams = [[r[0] for r in refs], [r[1] if len(r) > 1 else None for r in refs]]
    for factory, corpus in ((sacrebleu, sb.corpus_bleu), (chrf, sb.corpus_chrf)):
        metric = factory(EN)
        metric.update(hyps[:1], refs[:1])
        metric.update(hyps[1:], refs[1:])
        assert float(metric.compute()) == pytest.approx(corpus(hyps, streams).score, abs=1e-9)
    bleu = sacrebleu(EN)
    bleu.update(hyps, refs)
    bleu.compute()
    assert bleu.metadata()["signature"] == f"nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp|version:{sb.__version__}"


def test_bleu_tokenizer_and_signature_follow_the_language():
    metric = sacrebleu({"language": "zh", "scoring": {"bleu_tokenize": "auto"}})
    metric.update(["我喜欢猫"], [["我喜欢狗"]])
    # tok:zh splits Chinese characters: 3 of 4 unigrams, 2 of 3 bigrams, 1 of 2 trigrams, 0 4-grams (exp smoothing)
    assert float(metric.compute()) == pytest.approx(sb.corpus_bleu(["我喜欢猫"], [["我喜欢狗"]], tokenize="zh").score)
    assert "tok:zh" in metric.metadata()["signature"] and "nrefs:1" in metric.metadata()["signature"]


def test_merged_states_equal_one_pass():
    """What DDP does at compute time: states of two ranks combined (cat for ROUGE, sum for BLEU)."""
    hyps = ["the cat sat", "a dog runs", "hello world", "good morning to you"]
    refs = [["the cat is here"], ["a dog is running"], ["hello world"], ["good morning"]]
    for factory in (rouge2, rougeLsum, sacrebleu, chrf):
        whole, rank0, rank1 = factory(EN), factory(EN), factory(EN)
        whole.update(hyps, refs)
        rank0.update(hyps[:3], refs[:3])
        rank1.update(hyps[3:], refs[3:])
        rank0.merge_state(rank1)
        assert float(rank0.compute()) == pytest.approx(float(whole.compute()))


def test_unknown_rouge_tokenizer_is_reported():
    with pytest.raises(ValueError, match="rouge_tokenizer"):
        Rouge("rouge1", tokenizer="spaces")
