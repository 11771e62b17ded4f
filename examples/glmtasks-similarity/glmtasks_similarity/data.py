"""Scored sentence pairs: two text columns and a 0-5 score, from files or a generated demo set."""

import random

from glmtasks.api import TaskDataModule, as_number, encode_texts
from glmtasks_similarity.config import SentencePairsConfig


class SentencePairs(TaskDataModule):
    """Encodes each pair as one input (``a <sep> b``) with its score as a float label."""

    config: SentencePairsConfig

    def required_columns(self, labelled: bool) -> dict:
        c = self.config
        columns = {"sentence1_column": c.sentence1_column, "sentence2_column": c.sentence2_column}
        return {**columns, "score_column": c.score_column} if labelled else columns

    def record_problem(self, record: dict, labelled: bool):
        if labelled and as_number(record.get(self.config.score_column)) is None:
            return f"score {record.get(self.config.score_column)!r} (data.score_column) is not a number"
        return super().record_problem(record, labelled)

    def demo_records(self, split: str, size: int, seed: int) -> list:
        return generate_pairs(size, seed, self.config)

    def encode_batch(self, records: list, split: str) -> list:
        c = self.config
        features = encode_texts(self.tokenizer, [r[c.sentence1_column] for r in records], [r[c.sentence2_column] for r in records], c.max_length)
        for feature, record in zip(features, records):
            if c.score_column in record:
                feature["labels"] = as_number(record[c.score_column])
        return features


PARTS = [  # a sentence is one choice from each list
    ["the chef", "a pilot", "my neighbour", "the teacher", "a farmer", "the doctor", "our guide", "a singer"],
    ["cooked", "painted", "sold", "carried", "found", "repaired", "ordered", "watched"],
    ["a red bicycle", "the old piano", "two tickets", "a wooden boat", "the blue kettle", "a small garden"],
    ["in the morning", "near the station", "after lunch", "at the market", "on sunday", "by the river"],
]


def generate_pairs(size: int, seed: int, config: SentencePairsConfig) -> list:
    """Pairs whose second sentence changes k of the first one's 4 parts: score 5 * (1 - k/4)."""
    rng, records = random.Random(seed), []
    for _ in range(size):
        first = [rng.choice(words) for words in PARTS]
        changed = set(rng.sample(range(len(PARTS)), rng.randint(0, len(PARTS))))
        second = [rng.choice([w for w in PARTS[i] if w != word]) if i in changed else word for i, word in enumerate(first)]
        records.append({config.sentence1_column: " ".join(first), config.sentence2_column: " ".join(second),
                        config.score_column: 5.0 * (1 - len(changed) / len(PARTS))})
    return records
