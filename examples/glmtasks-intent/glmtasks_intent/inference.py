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

from glmtasks.api import BackboneConfig, PadCollator
from glmtasks_intent.config import IntentSlotsHeadConfig
from glmtasks_intent.data import encode_words
from glmtasks_intent.heads import HEAD_CONFIG, IntentSlotsHead, make_intent_slots_head


class IntentSlotsPredictor:
    """An exported head in eval mode; call it with a string or a list of strings."""

    def __init__(self, head: IntentSlotsHead, max_length: int = 128):
        self.head = head.eval()
        self.max_length = max_length

    @classmethod
    def from_pretrained(cls, directory: str | Path, max_length: int = 128) -> "IntentSlotsPredictor":
        """Load encoder, tokenizer, head layers and label names from an ``export/`` folder."""
        from transformers import AutoTokenizer

        meta = json.loads((Path(directory) / HEAD_CONFIG).read_text(encoding="utf-8"))
        options = IntentSlotsHeadConfig(**{k: meta[k] for k in ("pooling", "dropout", "slot_loss_weight")})
        backbone = BackboneConfig(name="export", name_or_path=str(directory))
        return cls(make_intent_slots_head(backbone, AutoTokenizer.from_pretrained(directory), meta, options), max_length)

    def __call__(self, texts: str | list[str]) -> Any:
        """Intent, intent probability, tags and slot values of each utterance (words split on spaces)."""
        utterances = [texts] if isinstance(texts, str) else list(texts)
        rows = [encode_words(self.head.tokenizer, text.split(), self.max_length) for text in utterances]
        for index, row in enumerate(rows):
            del row["word_starts"]
            row["index"] = index
        results = []
        for record, text in zip(self.head.predict(PadCollator(pad_id=self.head.tokenizer.pad_token_id)(rows)), utterances):
            words = text.split()
            slots = [{**s, "value": " ".join(words[s["start"] : s["end"]])} for s in record["predicted_slots"]]
            results.append({"intent": record["predicted_intent"], "intent_score": record["intent_score"], "slots": slots, "tags": record["predicted_tags"]})
        return results[0] if isinstance(texts, str) else results
