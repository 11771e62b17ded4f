"""Generated news-like sentences with PER/ORG/LOC/MISC entities (our own templates, no copied text).

Names are invented from syllables, so a model cannot rely on a list of known names: it has
to use the context ("said", "in", "shares of") and the shape of the words. The same invented
word can be a person's surname in one sentence and a town in another, entities have one to
three words, and lists put entities of one type next to each other.
"""

from __future__ import annotations

import random

SYLLABLES = ["tor", "vel", "ma", "ri", "kan", "so", "dor", "el", "bre", "ni", "qua", "lo", "mir", "ra", "jo", "fen", "sa", "lu", "ost", "wen"]
ORG_SUFFIX = ["Group", "Bank", "Motors", "Foods", "Council", "United", "Institute", "Airlines", "Telecom", "Party"]
LOC_SUFFIX = ["Bay", "Valley", "Hills", "Island", "Falls"]
MISC_EVENT = ["Open", "Cup", "Games", "Festival", "Prize"]
ROLES = ["striker", "minister", "analyst", "spokesman", "coach", "director", "driver", "senator"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TEMPLATES = [
    "{PER} joined {ORG} in {LOC} .",
    "{ORG} said on {day} that profits rose in {LOC} .",
    "Shares of {ORG} fell after {PER} visited {LOC} .",
    "{LOC} beat {LOC} {score} in the {MISC} on {day} .",
    "The {MISC} {role} {PER} arrived in {LOC} .",
    "{PER} , a {MISC} {role} , won the {MISC} .",
    "{PER} ( {LOC} ) finished second behind {PER} .",
    "Police in {LOC} said {PER} was not hurt .",
    "{ORG} and {ORG} will merge , {PER} told reporters in {LOC} .",
    "Talks between {MISC} and {MISC} officials resumed in {LOC} , {LOC} and {LOC} .",
    "{PER} said {ORG} would cut {number} jobs .",
    "Rain delayed the {MISC} in {LOC} .",
]


def _name(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()


def _entity(rng: random.Random, entity_type: str) -> list[str]:
    """The words of one invented entity of ``entity_type``."""
    if entity_type == "PER":
        return [_name(rng, 2), _name(rng, 2)] if rng.random() < 0.7 else [_name(rng, 3)]
    if entity_type == "ORG":
        shape = rng.random()
        if shape < 0.4:
            return [_name(rng, 2), rng.choice(ORG_SUFFIX)]
        if shape < 0.7:
            return [_name(rng, 2), _name(rng, 1), rng.choice(ORG_SUFFIX)]
        return [_name(rng, 2).upper()[:4]]
    if entity_type == "LOC":
        return [_name(rng, 2)] if rng.random() < 0.75 else [_name(rng, 2), rng.choice(LOC_SUFFIX)]
    if rng.random() < 0.6:  # MISC: a nationality or an event
        return [_name(rng, 2) + rng.choice(["ian", "ese", "ish"])]
    return [_name(rng, 2), rng.choice(MISC_EVENT)]


def _sentence(rng: random.Random) -> tuple[list[str], list[str]]:
    """One English sentence as ``(words, IOB2 tags)``."""
    words: list[str] = []
    tags: list[str] = []
    for piece in rng.choice(TEMPLATES).split():
        if piece in ("{PER}", "{ORG}", "{LOC}", "{MISC}"):
            entity_type = piece[1:-1]
            entity = _entity(rng, entity_type)
            words += entity
            tags += [f"B-{entity_type}"] + [f"I-{entity_type}"] * (len(entity) - 1)
            continue
        if piece == "{day}":
            word = rng.choice(DAYS)
        elif piece == "{role}":
            word = rng.choice(ROLES)
        elif piece == "{score}":
            word = f"{rng.randint(0, 4)}-{rng.randint(0, 4)}"
        elif piece == "{number}":
            word = str(rng.randint(2, 900) * 10)
        else:
            word = piece
        words.append(word)
        tags.append("O")
    return words, tags


LANGUAGES = ("en", "zh")


def generate_ner(size: int, seed: int, language: str = "en") -> list[tuple[list[str], list[str]]]:
    """``size`` sentences as ``(words, IOB2 tags)``.

    ``language``: ``en`` (words, PER/ORG/LOC/MISC) or ``zh`` (one character per word, PER/ORG/LOC,
    :mod:`glmtasks_ner.demo_zh`).
    """
    if language == "zh":
        from glmtasks_ner.demo_zh import sentence
    elif language == "en":
        sentence = _sentence
    else:
        raise ValueError(f"no generated demo set in language '{language}'; use one of {', '.join(LANGUAGES)}")
    rng = random.Random(seed)
    return [sentence(rng) for _ in range(size)]
