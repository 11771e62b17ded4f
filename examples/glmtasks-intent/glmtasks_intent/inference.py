"""Load an exported ``intent_slots`` model and tag new utterances, without glmtasks' trainer.

::

    from glmtasks_intent.inference import IntentSlotsPredictor
    predictor = IntentSlotsPredictor.from_pretrained("outputs/intent_slots/<run>/export")
    predictor("book a flight from boston to new york tomorrow")
    # {'intent': 'book_flight', 'intent_score': 0.97,
    #  'slots': [{'slot': 'from_city', 'value': 'boston', 'start': 4, 'end': 5}, ...], 'tags': [...]}

The encoder and tokenizer alone load with plain transformers (``AutoModel`` and
``AutoTokenizer``); this class adds the two linear layers saved next to them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from glmtasks.data import PadCollator
from glmtasks_intent.data import encode_words
from glmtasks_intent.heads import HEAD_CONFIG, IntentSlotsHead, IntentSlotsHeadConfig


class IntentSlotsPredictor:
    """An exported head in eval mode; call it with a string or a list of strings."""

    def __init__(self, head: IntentSlotsHead, max_length: int = 128):
        self.head = head.eval()
        self.max_length = max_length

    @classmethod
    def from_pretrained(cls, directory: str | Path, max_length: int = 128) -> "IntentSlotsPredictor":
        """Load encoder, tokenizer, head weights and label names from an ``export/`` folder."""
        from transformers import AutoModel, AutoTokenizer

        directory = Path(directory)
        meta = json.loads((directory / HEAD_CONFIG).read_text(encoding="utf-8"))
        config = IntentSlotsHeadConfig(**{k: meta[k] for k in ("pooling", "dropout", "slot_loss_weight")})
        head = IntentSlotsHead(AutoModel.from_pretrained(directory), AutoTokenizer.from_pretrained(directory), meta["intents"], meta["slot_tags"], config)
        head.load_exported_layers(directory)
        return cls(head, max_length)

    def __call__(self, texts: str | list[str]) -> Any:
        """Intent, intent probability, tags and slot values of each utterance (words split on spaces)."""
        single = isinstance(texts, str)
        utterances = [texts] if single else list(texts)
        rows = []
        for index, text in enumerate(utterances):
            words = text.split()
            features = encode_words(self.head.tokenizer, words, self.max_length)
            word_mask = [0] * len(features["input_ids"])
            for position in features.pop("word_starts"):
                if position >= 0:
                    word_mask[position] = 1
            rows.append({**features, "word_mask": word_mask, "num_words": len(words), "index": index})
        batch = PadCollator(pad_id=self.head.tokenizer.pad_token_id)(rows)
        results = []
        with torch.inference_mode():
            for record, text in zip(self.head.predict(batch), utterances):
                words = text.split()
                slots = [
                    {"slot": s["slot"], "value": " ".join(words[s["start"] : s["end"]]), "start": s["start"], "end": s["end"]}
                    for s in record["predicted_slots"]
                ]
                results.append({"intent": record["predicted_intent"], "intent_score": record["intent_score"], "slots": slots, "tags": record["predicted_tags"]})
        return results[0] if single else results
