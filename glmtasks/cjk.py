"""Chinese, Japanese and Korean text: which characters are CJK, whole-character BPE vocabularies, full-width punctuation.

A byte-level BPE tokenizer sees a Chinese character as its 3 UTF-8 bytes; with a small
vocabulary most characters stay split into byte pieces that a small model has to learn to
recombine (ChnSentiCorp, vocabulary 4000: 2,689 of its 4,074 training characters; bench/RESULTS_zh.md).
:func:`whole_character_merges` rewrites a trained byte-level BPE so that every CJK character
of the training text is one token, while merges of whole characters into words still apply.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from typing import Iterable, Iterator

CJK_RANGES = (
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。「」)
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x2FA1F),  # CJK extensions B-F and compatibility supplement
)


def is_cjk(char: str) -> bool:
    """Whether ``char`` (one character) is a CJK ideograph, kana, hangul syllable or CJK punctuation mark."""
    code = ord(char)
    return any(low <= code <= high for low, high in CJK_RANGES)


def cjk_share(text: str) -> float:
    """The share of ``text``'s non-space characters that are CJK (0.0 for an empty text)."""
    chars = [c for c in text if not c.isspace()]
    return sum(map(is_cjk, chars)) / len(chars) if chars else 0.0


FULLWIDTH_PUNCTUATION = {
    "\u3002": ".",  # 。 ideographic full stop
    "\u3001": ",",  # 、 ideographic comma
    "\u300c": '"', "\u300d": '"', "\u300e": '"', "\u300f": '"',  # 「」『』 corner brackets
    "\u3010": "[", "\u3011": "]",  # 【】
    "\u300a": "<", "\u300b": ">", "\u3008": "<", "\u3009": ">",  # 《》〈〉
    "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'",  # curly quotes
    "\u2014": "-", "\u2013": "-", "\u2026": "...",  # dashes, ellipsis
    "\u00b7": ".", "\u30fb": ".",  # middle dots
}


def normalize_punctuation(text: str) -> str:
    """``text`` with full-width and CJK punctuation as its ASCII form; letters and digits untouched.

    Full-width ASCII forms (``，！？：；（）０-９Ａ-Ｚ``) go through NFKC; marks NFKC keeps
    (``。、「」《》“”…``) are mapped by :data:`FULLWIDTH_PUNCTUATION`. Other characters,
    Chinese ones included, are unchanged, so scoring can compare ``，`` with ``,``.
    """
    out = []
    for char in text:
        if char in FULLWIDTH_PUNCTUATION:
            out.append(FULLWIDTH_PUNCTUATION[char])
        elif 0xFF01 <= ord(char) <= 0xFF5E or char == "\u3000":
            out.append(unicodedata.normalize("NFKC", char))
        else:
            out.append(char)
    return "".join(out)


def counting_cjk(texts: Iterable[str], counts: Counter) -> Iterator[str]:
    """``texts`` unchanged, counting each CJK character of their NFKC form into ``counts`` on the way."""
    for text in texts:
        counts.update(c for c in unicodedata.normalize("NFKC", text) if is_cjk(c))
        yield text


def byte_symbols() -> dict[int, str]:
    """The printable character byte-level BPE uses for each byte (the GPT-2 byte alphabet)."""
    kept = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols = {b: chr(b) for b in kept}
    extra = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + extra)
            extra += 1
    return symbols


def whole_character_merges(tokenizer_json: str, chars: Iterable[str]) -> str:
    """A byte-level BPE tokenizer (its JSON) in which every character of ``chars`` is one token.

    For each character the merges joining its UTF-8 bytes left to right (``b1+b2``, then
    ``b1b2+b3``...) go first in the merge list, so they apply before any other merge; they can
    only join bytes inside one character (a merge starts at a lead byte), so the learned merges
    of whole characters into words still apply after them. Missing tokens get new ids after
    the existing ones. Returns the new JSON.
    """
    state = json.loads(tokenizer_json)
    model = state["model"]
    vocab: dict[str, int] = model["vocab"]
    symbols = byte_symbols()
    first: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    next_id = max(vocab.values(), default=-1) + 1
    for char in sorted(set(chars)):
        pieces = [symbols[b] for b in char.encode("utf-8")]
        left = pieces[0]
        for right in pieces[1:]:
            pair = (left, right)
            left = left + right
            if pair not in seen:
                seen.add(pair)
                first.append(pair)
            if left not in vocab:
                vocab[left] = next_id
                next_id += 1
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in model["merges"]]
    model["merges"] = [list(pair) for pair in first] + [list(pair) for pair in merges if pair not in seen]
    return json.dumps(state, ensure_ascii=False)
