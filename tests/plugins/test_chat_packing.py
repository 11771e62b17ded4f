"""Packing: rows as full as best-fit makes them, and a packed row computes what separate conversations do."""

from __future__ import annotations

import random

import torch

from glmtasks_chat.packing import pack_features


def features(lengths):
    return [{"input_ids": list(range(1, n + 1)), "labels": [-100] + list(range(2, n + 1))} for n in lengths]


def test_every_token_is_packed_once_within_capacity():
    rng = random.Random(0)
    lengths = [rng.randint(3, 60) for _ in range(300)]
    rows = pack_features(features(lengths), 128)
    assert sum(row["conversations"] for row in rows) == len(lengths)
    assert all(len(row["input_ids"]) <= 128 for row in rows)
    assert sum(len(row["input_ids"]) for row in rows) == sum(lengths)
    assert len(rows) <= sum(lengths) / 128 * 1.05 + 1, "best-fit-decreasing fills rows almost completely"
    for row in rows:  # positions restart at 0 for each conversation
        assert row["position_ids"].count(0) == row["conversations"]
        assert len(row["labels"]) == len(row["input_ids"]) == len(row["position_ids"])


def test_a_packed_row_gives_the_logits_of_its_conversations_alone():
    from transformers import GlmConfig, GlmForCausalLM

    torch.manual_seed(0)
    config = GlmConfig(vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, head_dim=8, pad_token_id=0, eos_token_id=1, bos_token_id=2)
    model = GlmForCausalLM(config).eval()
    first, second = torch.randint(3, 50, (1, 7)), torch.randint(3, 50, (1, 5))
    packed_ids = torch.cat([first, second], dim=1)
    positions = torch.tensor([list(range(7)) + list(range(5))])
    with torch.no_grad():
        packed = model(input_ids=packed_ids, position_ids=positions, use_cache=False).logits
        alone = [model(input_ids=ids, use_cache=False).logits for ids in (first, second)]
        leaky = model(input_ids=packed_ids, use_cache=False).logits  # positions running on: attention crosses
    assert torch.allclose(packed[:, :7], alone[0], atol=1e-5)
    assert torch.allclose(packed[:, 7:], alone[1], atol=1e-5)
    assert not torch.allclose(leaky[:, 7:], alone[1], atol=1e-3)
