"""Tokens per character of the from-scratch BPE tokenizer on ChnSentiCorp, before and after whole-character merges.

Trains ``train_bpe_tokenizer`` on the 9,600 training reviews (read from the zip) with
``whole_cjk_characters`` off (the plain byte-level BPE) and on, at two vocabulary sizes, and
reports on the 1,200 test reviews: tokens per character, the share of distinct training CJK
characters that are one token, the share of test tokens that are byte pieces of a character
(they decode to U+FFFD alone), and the share of test CJK character occurrences that the
tokenizer would cut into byte pieces if the character stood alone.

Usage: OMP_NUM_THREADS=1 python bench/zh_tokenizer.py [--out bench/results/zh_tokenizer.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from glmtasks.backbone import train_bpe_tokenizer
from glmtasks.cjk import is_cjk
from glmtasks.data import read_records

ZIP = "../shared/data/chnsenticorp/chnsenticorp.zip"


def measure(train: list[str], test: list[str], vocab_size: int, whole: bool) -> dict:
    """Vocabulary, training time and the per-character figures of one tokenizer."""
    start = time.process_time()
    tokenizer = train_bpe_tokenizer(train, vocab_size, whole_cjk_characters=whole)
    seconds = time.process_time() - start
    backend = tokenizer.backend_tokenizer
    pieces = lambda c: len(backend.encode(c, add_special_tokens=False).ids)  # noqa: E731
    train_chars = Counter(c for text in train for c in text if is_cjk(c))
    test_chars = Counter(c for text in test for c in text if is_cjk(c))
    encoded = tokenizer(test, add_special_tokens=False)["input_ids"]
    tokens = sum(map(len, encoded))
    partial = {i for i in set().union(*map(set, encoded)) if "\ufffd" in tokenizer.decode([i])}  # byte pieces of a character
    return {
        "vocab_size_asked": vocab_size,
        "whole_cjk_characters": whole,
        "vocabulary": len(tokenizer),
        "train_cpu_s": round(seconds, 1),
        "test_tokens_per_char": round(tokens / sum(map(len, test)), 3),
        "train_cjk_chars_whole": f"{sum(pieces(c) == 1 for c in train_chars)}/{len(train_chars)}",
        "test_tokens_that_are_partial_characters": round(sum(i in partial for ids in encoded for i in ids) / tokens, 4),
        "test_cjk_occurrences_in_byte_pieces": round(sum(n for c, n in test_chars.items() if pieces(c) > 1) / sum(test_chars.values()), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    train = [r["text_a"] for r in read_records(f"{ZIP}/train.tsv", "train_file")]
    test = [r["text_a"] for r in read_records(f"{ZIP}/test.tsv", "test_file")]
    rows = [measure(train, test, size, whole) for size in (4000, 8000) for whole in (False, True)]
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
