"""A generated voice-assistant command set: an intent per utterance and a BIO slot tag per word.

Our own templates and values (no copied text). The set is built so that neither part is a
word-list lookup: the same value fills different slots depending on context ("from boston"
is ``from_city``, "to boston" ``to_city``, "in boston" ``city``; "sunday morning" is a date or
a playlist), and the same verb starts different intents ("book a flight", "book a table";
"play ...", "put ... on the ... playlist"). Every fourth value of each slot is held out of the
training split and fills half the slots of the validation and test splits, so a model must
read the context around a value, not memorise the values.

Write files to try ``data.source=files``::

    python -m glmtasks_intent.demo demo_data      # train.jsonl, validation.jsonl, test.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

CITIES = [
    "boston", "denver", "paris", "new york", "san francisco", "tokyo", "berlin", "los angeles",
    "madrid", "chicago", "seattle", "rio de janeiro", "cape town", "hong kong", "oslo", "lima",
]
DATES = [
    "today", "tomorrow", "tonight", "next monday", "next friday", "this weekend", "sunday",
    "the day after tomorrow", "march third", "sunday morning",
]
TIMES = ["7 am", "6 30 am", "noon", "midnight", "8 pm", "five thirty", "9 15 pm", "quarter past six"]
SONGS = [
    "blue horizon", "city lights", "paper moon", "quiet storm", "golden hour", "midnight train",
    "river song", "electric dreams", "summer rain", "northern star",
]
ARTISTS = ["the lanterns", "maya cole", "jonas reed", "the velvet echo", "ana lima", "dj kobalt", "the night owls", "lucas grey"]
GENRES = ["jazz", "rock", "classical", "hip hop", "lo fi", "country", "blues", "k pop"]
PLAYLISTS = ["road trip", "workout", "chill", "focus", "party", "sunday morning", "running"]
CUISINES = ["thai", "italian", "mexican", "sushi", "indian", "vegan", "korean barbecue", "greek"]
PARTY_SIZES = ["two", "four", "six", "eight", "2", "3", "5"]

VALUES = {
    "from_city": CITIES, "to_city": CITIES, "city": CITIES, "date": DATES, "time": TIMES,
    "song": SONGS, "artist": ARTISTS, "genre": GENRES, "playlist": PLAYLISTS,
    "cuisine": CUISINES, "party_size": PARTY_SIZES,
}

TEMPLATES = {
    "book_flight": [
        "book a flight from {from_city} to {to_city}",
        "i need a flight to {to_city} from {from_city} {date}",
        "find me a ticket from {from_city} to {to_city} for {date}",
        "fly me to {to_city} {date}",
        "are there any flights leaving {from_city} {date}",
        "book me on the first plane to {to_city}",
    ],
    "get_weather": [
        "what is the weather in {city} {date}",
        "will it rain in {city} {date}",
        "how cold is it in {city}",
        "weather forecast for {city} for {date}",
        "do i need an umbrella {date}",
        "is it sunny in {city} right now",
    ],
    "play_music": [
        "play {song} by {artist}",
        "put on some {genre}",
        "play something by {artist}",
        "i want to hear {song}",
        "play some {genre} from {artist}",
        "put on {song}",
    ],
    "add_to_playlist": [
        "add {song} to my {playlist} playlist",
        "put {song} by {artist} on the {playlist} playlist",
        "save this song to {playlist}",
        "add {artist} to {playlist}",
        "put this on my {playlist} playlist",
    ],
    "set_alarm": [
        "set an alarm for {time}",
        "wake me up at {time} {date}",
        "set an alarm for {date} at {time}",
        "alarm at {time} please",
        "i need to be up by {time}",
    ],
    "book_restaurant": [
        "find a {cuisine} restaurant in {city}",
        "book a table for {party_size} at a {cuisine} place {date}",
        "i want {cuisine} food in {city} {date}",
        "reserve a table for {party_size} in {city} at {time}",
        "book a table for {party_size} {date}",
    ],
}

INTENTS = sorted(TEMPLATES)
EVAL_UNSEEN_SHARE = 0.5
"""Share of validation and test slots filled with values never seen in training."""


def held_out(slot: str) -> list[str]:
    """Values of ``slot`` never used in training utterances (every fourth one)."""
    return VALUES[slot][3::4]


def seen(slot: str) -> list[str]:
    """Values of ``slot`` used in training utterances."""
    unseen = set(held_out(slot))
    return [value for value in VALUES[slot] if value not in unseen]


def fill(template: str, rng: random.Random, unseen_share: float = 0.0) -> tuple[list[str], list[str]]:
    """Words and BIO tags of ``template`` with each ``{slot}`` replaced by a random value.

    A share ``unseen_share`` of the slots gets a held-out value, the others a training value.
    """
    words: list[str] = []
    tags: list[str] = []
    for piece in template.split():
        if piece.startswith("{") and piece.endswith("}"):
            slot = piece[1:-1]
            values = held_out(slot) if rng.random() < unseen_share else seen(slot)
            value = rng.choice(values).split()
            words += value
            tags += [f"B-{slot}"] + [f"I-{slot}"] * (len(value) - 1)
        else:
            words.append(piece)
            tags.append("O")
    return words, tags


def generate(size: int, seed: int = 0, unseen_share: float = 0.0) -> list[dict]:
    """``size`` examples ``{"tokens": [...], "tags": [...], "intent": ...}``, intents balanced.

    ``unseen_share``: share of slots filled with values held out of training (0 for the
    training split, 0.5 for validation and test).
    """
    rng = random.Random(seed)
    examples = []
    for i in range(size):
        intent = INTENTS[i % len(INTENTS)]
        tokens, tags = fill(rng.choice(TEMPLATES[intent]), rng, unseen_share)
        examples.append({"tokens": tokens, "tags": tags, "intent": intent})
    rng.shuffle(examples)
    return examples


def write_demo_files(directory: str | Path, train_size: int = 2000, eval_size: int = 300, seed: int = 0) -> dict[str, Path]:
    """Write ``train.jsonl``, ``validation.jsonl`` and ``test.jsonl`` under ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    sizes = {"train": train_size, "validation": eval_size, "test": eval_size}
    paths = {}
    for offset, (split, size) in enumerate(sizes.items()):
        paths[split] = directory / f"{split}.jsonl"
        examples = generate(size, seed=seed * 1000 + offset, unseen_share=0.0 if split == "train" else EVAL_UNSEEN_SHARE)
        lines = (json.dumps(example) + "\n" for example in examples)
        paths[split].write_text("".join(lines), encoding="utf-8")
    return paths


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "demo_data"
    for split, path in write_demo_files(target).items():
        print(f"{split}: {path}")
