"""A generated sentiment set for the offline default run (our own templates, no copied text).

Sentences are not separable by word lists alone: negation flips polarity ("was not
great"), contrast makes the second clause decide ("the cast was charming, but the plot
was tedious"), concessions do the same ("although ..., ..."), and intensifiers and
hedges vary the wording. Rarer constructions ("could have been great" is negative,
"far from dull" is positive, "nothing short of superb" is positive) are harder to learn from
few examples, and a small share of training labels is flipped (annotator noise), so a
model does not reach 100% by memorising templates.
"""

from __future__ import annotations

import random
from typing import Callable, Sequence

SUBJECTS = [
    "the movie", "this film", "the plot", "the acting", "the soundtrack", "the ending", "the script",
    "the cast", "the dialogue", "the pacing", "the camera work", "the story", "the lead actor",
    "the villain", "the second half", "the opening scene", "the humor", "the direction", "the sequel",
    "the characters", "the set design", "the final act", "the premise", "the score",
]
POSITIVE = [
    "good", "great", "wonderful", "brilliant", "charming", "moving", "delightful", "clever", "gripping",
    "beautiful", "funny", "fresh", "powerful", "touching", "superb", "engaging", "smart", "memorable",
]
NEGATIVE = [
    "bad", "dull", "boring", "awful", "clumsy", "tedious", "weak", "confusing", "lifeless", "forgettable",
    "messy", "predictable", "flat", "painful", "silly", "shallow", "bland", "sloppy",
]
INTENSIFIERS = ["", "", "", "very ", "really ", "truly ", "extremely ", "remarkably ", "rather ", "quite ", "so "]
VERBS = ["was", "is", "felt", "seemed"]
NEGATED_VERBS = ["was not", "wasn't", "is not", "isn't", "never felt", "did not seem", "was hardly"]
OPENERS = ["", "", "", "honestly, ", "in the end, ", "i thought ", "to be fair, ", "overall, ", "frankly, "]


def _clause(rng: random.Random) -> tuple[str, int]:
    """One clause and its polarity (1 positive, 0 negative)."""
    positive = rng.random() < 0.5
    adjective = rng.choice(POSITIVE if positive else NEGATIVE)
    rare = rng.random()
    if rare < 0.06:
        return f"{rng.choice(SUBJECTS)} could have been {adjective}", 0
    if rare < 0.12:
        return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} far from {adjective}", int(not positive)
    if rare < 0.16:
        return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} nothing short of {adjective}", int(positive)
    negated = rng.random() < 0.3
    verb = rng.choice(NEGATED_VERBS if negated else VERBS)
    text = f"{rng.choice(SUBJECTS)} {verb} {rng.choice(INTENSIFIERS)}{adjective}"
    return text, int(positive != negated)


Join = Callable[[random.Random, str, str], str]


def compose_review(
    rng: random.Random, clause: Callable[[random.Random], tuple[str, int]], contrast: Join, concession: Join, conjunction: Join,
    openers: Sequence[str], endings: Sequence[str],
) -> tuple[str, int]:
    """A review and its label from one language's clauses: a single clause (40%), a contrast (30%) or a
    concession (15%) whose second clause decides, or two clauses of one polarity joined (15%)."""
    shape = rng.random()
    first, first_label = clause(rng)
    if shape < 0.4:
        text, label = first, first_label
    elif shape < 0.7:
        second, label = clause(rng)
        text = contrast(rng, first, second)
    elif shape < 0.85:
        second, label = clause(rng)
        text = concession(rng, first, second)
    else:
        second, second_label = clause(rng)
        while second_label != first_label:
            second, second_label = clause(rng)
        text, label = conjunction(rng, first, second), first_label
    return rng.choice(openers) + text + rng.choice(endings), label


def _sentence(rng: random.Random) -> tuple[str, int]:
    """An English review and its label: a simple clause, a 'but' contrast, an 'although' concession or an 'and' pair."""
    return compose_review(
        rng, _clause, lambda _, a, b: f"{a}, but {b}", lambda _, a, b: f"although {a}, {b}", lambda _, a, b: f"{a} and {b}",
        OPENERS, [".", ".", "!", " ..."],
    )


LANGUAGES = ("en", "zh")


def generate_sentiment(size: int, seed: int, label_noise: float = 0.0, language: str = "en") -> dict[str, list]:
    """``size`` generated reviews as columns ``text`` and ``label`` (``negative``/``positive``).

    ``label_noise`` is the probability that an example's label is flipped; ``language``:
    ``en`` (movie reviews) or ``zh`` (Chinese hotel and shop reviews, :mod:`glmtasks_classification.demo_zh`).
    """
    if language == "zh":
        from glmtasks_classification.demo_zh import sentence
    elif language == "en":
        sentence = _sentence
    else:
        raise ValueError(f"no generated demo set in language '{language}'; use one of {', '.join(LANGUAGES)}")
    rng = random.Random(seed)
    names = ["negative", "positive"]
    texts, labels = [], []
    for _ in range(size):
        text, label = sentence(rng)
        if rng.random() < label_noise:
            label = 1 - label
        texts.append(text)
        labels.append(names[label])
    return {"text": texts, "label": labels}
