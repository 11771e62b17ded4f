"""Built-in plugin: named-entity recognition (``task=ner``) on CoNLL column files or token/tag jsonl."""
