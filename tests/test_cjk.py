"""CJK helpers: character classes, full-width punctuation, a from-scratch BPE that keeps Chinese characters whole."""

from __future__ import annotations

import random

from glmtasks.backbone import train_bpe_tokenizer
from glmtasks.cjk import byte_symbols, cjk_share, is_cjk, normalize_punctuation

COMMON = "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长"
RARE = "齉龘饕餮魑魅魍魉"  # each occurs once in the corpus below


def corpus(size: int = 400) -> list[str]:
    rng = random.Random(0)
    texts = ["".join(rng.choice(COMMON) for _ in range(rng.randint(8, 30))) + "，很好。" for _ in range(size)]
    return texts + [f"我看到了{char}。" for char in RARE] + ["The room was clean, 价格 OK."]


def test_character_classes_and_share():
    assert all(is_cjk(c) for c in "中文漢字かなカナ한。、")
    assert not any(is_cjk(c) for c in "aZ9,.!，（")
    assert cjk_share("中文 ab") == 0.5 and cjk_share("  ") == 0.0


def test_full_width_forms_and_cjk_punctuation_become_ascii():
    assert normalize_punctuation("你好，世界！（２０２４年）“引号”《书名》、。…") == '你好,世界!(2024年)"引号"<书名>,....'
    assert normalize_punctuation("plain text, 中文") == "plain text, 中文"


def test_byte_symbols_are_the_byte_level_alphabet():
    from tokenizers import pre_tokenizers

    symbols = byte_symbols()
    assert len(set(symbols.values())) == 256 and set(symbols.values()) == set(pre_tokenizers.ByteLevel.alphabet())


def test_bpe_keeps_every_training_character_whole_and_still_learns_words():
    texts = corpus()
    whole = train_bpe_tokenizer(texts, vocab_size=300)
    split = train_bpe_tokenizer(texts, vocab_size=300, whole_cjk_characters=False)
    backend, old = whole.backend_tokenizer, split.backend_tokenizer
    characters = set(COMMON + RARE + "我看到了很好价格")
    assert all(len(backend.encode(c, add_special_tokens=False).ids) == 1 for c in characters)
    assert sum(len(old.encode(c, add_special_tokens=False).ids) > 1 for c in characters) > 20, "the plain byte-level BPE splits characters"
    # Decoding gives the text back (NFKC: the full-width comma is read as ',').
    text = "我看到了齉，价格很好。"
    ids = whole(text)["input_ids"]
    assert whole.decode(ids, skip_special_tokens=True) == "我看到了齉,价格很好。"
    # Offsets cover whole characters, so per-character labels (NER) and answer spans (QA) align.
    encoded = whole(text, return_offsets_mapping=True, add_special_tokens=False)
    assert all(end > start for start, end in encoded["offset_mapping"])
    pieces = [text[s:e] for s, e in encoded["offset_mapping"]]
    assert "".join(pieces) == text
    sample = texts[:50]
    ids = whole(sample, add_special_tokens=False)["input_ids"]
    assert sum(map(len, ids)) <= sum(map(len, sample)), "at most one token per character"
    words = [t for t in whole.convert_ids_to_tokens(range(len(whole))) if len(whole.convert_tokens_to_string([t])) >= 2]
    assert any(all(is_cjk(c) for c in whole.convert_tokens_to_string([t])) for t in words), "merges of characters into words remain"


def test_english_text_tokenizes_as_before():
    texts = ["the room was clean and the staff were friendly", "a noisy street, a small bed, not again"] * 30
    whole, plain = train_bpe_tokenizer(texts, 300), train_bpe_tokenizer(texts, 300, whole_cjk_characters=False)
    assert len(whole) == len(plain)
    for text in texts[:2] + ["unseen words here"]:
        assert whole(text)["input_ids"] == plain(text)["input_ids"]
