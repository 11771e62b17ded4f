"""Built-in plugin: extractive question answering (``task=qa``) on SQuAD-format data, English or Chinese."""
