"""The offline default: the generated sentiment set is not separable by word counts, and glm-tiny learns it."""

from __future__ import annotations

import math
import re
from collections import Counter

from glmtasks_classification.demo import generate_sentiment

LABELS = ("negative", "positive")


def english_words(text: str) -> set:
    """The distinct lower-case words of ``text``."""
    return set(re.findall(r"[a-z']+", text))


def bag_of_words_accuracy(train: dict, test: dict, words=english_words) -> float:
    """Accuracy of a multinomial naive Bayes classifier on word presence (a strong word-list baseline).

    ``words``: the set of features of a text (English words by default)."""
    counts = {label: Counter() for label in LABELS}
    for text, label in zip(train["text"], train["label"]):
        counts[label].update(words(text))
    prior = Counter(train["label"])
    vocabulary = set().union(*counts.values())

    def log_score(text: str, label: str) -> float:
        total = sum(counts[label].values()) + len(vocabulary)
        return math.log(prior[label]) + sum(math.log((counts[label][w] + 1) / total) for w in words(text))

    hits = sum(max(LABELS, key=lambda l: log_score(t, l)) == y for t, y in zip(test["text"], test["label"]))
    return hits / len(test["text"])


def test_demo_is_deterministic_balanced_and_uses_negation_and_contrast():
    first, again = generate_sentiment(500, seed=1), generate_sentiment(500, seed=1)
    assert first == again and generate_sentiment(500, seed=2) != first
    share = first["label"].count("positive") / 500
    assert 0.4 < share < 0.6
    text = " ".join(first["text"])
    assert " but " in text and "although " in text and "not " in text


def test_label_noise_flips_the_requested_share():
    clean, noisy = generate_sentiment(4000, seed=3), generate_sentiment(4000, seed=3, label_noise=0.1)
    flipped = sum(a != b for a, b in zip(clean["label"], noisy["label"]))
    assert 300 < flipped < 500


def test_default_run_beats_a_bag_of_words_baseline(run_cli):
    baseline = bag_of_words_accuracy(generate_sentiment(3000, 0, label_noise=0.05), generate_sentiment(600, 2))
    assert baseline < 0.75, "word counts alone must not solve the demo"
    result = run_cli("task=sentiment", "callbacks.progress_bar=false")
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = result.metrics["test"]["test/accuracy"]
    assert accuracy >= baseline + 0.1, (accuracy, baseline)
