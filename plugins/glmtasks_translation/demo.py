"""A generated parallel corpus, English <-> "toy" (an invented language), for the offline default run.

Our own grammar and lexicon, no copied text. The toy language differs from English in ways a
model must learn beyond word-for-word lookup:

* adjectives follow their noun and agree with it in number (``-a`` singular, ``-an`` plural);
  nouns take ``-n`` in the plural;
* the verb comes last (subject, object, place, verb) and carries the tense as a suffix
  (``-a`` present, ``-ti`` past, ``-ro`` future); English marks it with irregular forms
  (``sees``/``saw``/``will see``) and agreement (``sees``/``see``);
* number words and determiners map to different positions and forms.

Example: ``yesterday the small cat saw two red birds in the garden.`` ->
``iere la mira pikua du pelon rosan en la jardo viti.``
"""

from __future__ import annotations

import random

LANGUAGES = ("en", "toy")

# English singular, English plural, toy stem.
NOUNS = [
    ("cat", "cats", "mira"), ("dog", "dogs", "taro"), ("bird", "birds", "pelo"), ("child", "children", "nuni"),
    ("teacher", "teachers", "sabo"), ("farmer", "farmers", "ruko"), ("horse", "horses", "kaval"), ("fish", "fish", "pesk"),
    ("girl", "girls", "fila"), ("boy", "boys", "bobo"), ("doctor", "doctors", "medo"), ("singer", "singers", "kanto"),
    ("apple", "apples", "poma"), ("book", "books", "libo"), ("ball", "balls", "bula"), ("letter", "letters", "lito"),
    ("car", "cars", "moto"), ("boat", "boats", "navo"), ("cake", "cakes", "kuko"), ("flower", "flowers", "flo"),
]
ANIMATE = 12  # the first nouns can be subjects
ADJECTIVES = [
    ("big", "gran"), ("small", "piku"), ("red", "ros"), ("blue", "blu"), ("old", "vek"), ("young", "jun"),
    ("happy", "fela"), ("tired", "lasa"), ("green", "verd"), ("quiet", "kiet"), ("fast", "rapi"), ("strange", "stran"),
]
# English base form, third person singular, past, toy stem.
VERBS = [
    ("see", "sees", "saw", "vi"), ("find", "finds", "found", "trov"), ("like", "likes", "liked", "am"),
    ("follow", "follows", "followed", "seg"), ("carry", "carries", "carried", "port"), ("draw", "draws", "drew", "pint"),
    ("watch", "watches", "watched", "gard"), ("wash", "washes", "washed", "lav"), ("hold", "holds", "held", "ten"),
    ("bring", "brings", "brought", "bring"),
]
PLACES = [("in the garden", "en la jardo"), ("near the river", "pres la rivo"), ("at the market", "ce la merko"),
          ("in the house", "en la domo"), ("behind the school", "post la skolo"), ("on the hill", "sur la monto")]
TIMES = {"past": [("yesterday", "iere"), ("last week", "lasta semo")], "present": [("today", "oje"), ("every morning", "ciu matin")],
         "future": [("tomorrow", "doma"), ("next week", "nesta semo")]}
TENSE_SUFFIX = {"present": "a", "past": "ti", "future": "ro"}
# English determiner, plural?, toy determiner.
DETERMINERS = [("the", False, "la"), ("a", False, "un"), ("my", False, "mia"), ("two", True, "du"), ("three", True, "tri"),
               ("the", True, "la"), ("some", True, "kel")]


def _noun_phrase(rng: random.Random, animate: bool) -> tuple[str, str, bool]:
    """An English and a toy noun phrase, and whether it is plural."""
    english_det, plural, toy_det = rng.choice(DETERMINERS)
    singular, plural_form, stem = rng.choice(NOUNS[:ANIMATE] if animate else NOUNS)
    if english_det == "a" and singular[0] in "aeiou":
        english_det = "an"
    english_noun, toy_noun = (plural_form, stem + "n") if plural else (singular, stem)
    english, toy = [english_det], [toy_det, toy_noun]
    if rng.random() < 0.5:
        adjective, toy_adjective = rng.choice(ADJECTIVES)
        english.append(adjective)
        toy.append(toy_adjective + ("an" if plural else "a"))
    english.append(english_noun)
    return " ".join(english), " ".join(toy), plural


def _pair(rng: random.Random) -> tuple[str, str]:
    tense = rng.choice(list(TENSE_SUFFIX))
    subject_en, subject_toy, plural = _noun_phrase(rng, animate=True)
    object_en, object_toy, _ = _noun_phrase(rng, animate=False)
    base, third, past, stem = rng.choice(VERBS)
    verb_en = {"past": past, "future": f"will {base}", "present": base if plural else third}[tense]
    english = [subject_en, verb_en, object_en]
    toy = [subject_toy, object_toy]
    if rng.random() < 0.5:
        place_en, place_toy = rng.choice(PLACES)
        english.append(place_en)
        toy.append(place_toy)
    toy.append(stem + TENSE_SUFFIX[tense])
    if rng.random() < 0.6:
        time_en, time_toy = rng.choice(TIMES[tense])
        english.insert(0, time_en)
        toy.insert(0, time_toy)
    return " ".join(english) + ".", " ".join(toy) + "."


def generate_parallel(size: int, seed: int) -> dict[str, list[str]]:
    """``size`` sentence pairs as columns ``en`` and ``toy``."""
    rng = random.Random(seed)
    columns: dict[str, list[str]] = {"en": [], "toy": []}
    for _ in range(size):
        english, toy = _pair(rng)
        columns["en"].append(english)
        columns["toy"].append(toy)
    return columns
