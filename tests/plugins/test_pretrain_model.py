"""The pre-training head on a tiny GLM: prefix attention really bidirectional, loss only on span tokens, export round trip."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from glmtasks.api import save_head, tiny_backbone_config, train_bpe_tokenizer
from glmtasks_pretrain.config import PretrainDataConfig, PretrainHeadConfig
from glmtasks_pretrain.data import PretrainCollator, generate_documents
from glmtasks_pretrain.heads import BLOCK_POSITION_FILE, make_pretrain_head, special_ids
from glmtasks_pretrain.masking import IGNORE_INDEX


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    tokenizer = train_bpe_tokenizer(generate_documents(60), 400)
    backbone = tiny_backbone_config()
    config = PretrainDataConfig(block_size=24, mask_ratio=0.2)
    head = make_pretrain_head(backbone, tokenizer, {"objective": "blank_infilling", "max_span_length": 16}, PretrainHeadConfig()).eval()
    collator = PretrainCollator(config, tokenizer.pad_token_id, special_ids(tokenizer), dynamic=False)
    ids = tokenizer(generate_documents(4, seed=3), add_special_tokens=False)["input_ids"]
    blocks = [row[:24] for row in ids]
    batch = collator([{"input_ids": block, "index": i} for i, block in enumerate(blocks)])
    return tokenizer, backbone, head, batch


def changed(batch, row, position, tokenizer):
    other = dict(batch)
    other["input_ids"] = batch["input_ids"].clone()
    other["input_ids"][row, position] = (int(batch["input_ids"][row, position]) + 7) % len(tokenizer)
    return other


@torch.no_grad()
def test_part_a_is_bidirectional_and_part_b_causal(setup):
    tokenizer, _, head, batch = setup
    row, prefix = 0, int(setup[3]["prefix_length"][0])
    length = int(batch["attention_mask"][row].sum())
    base = head.logits(batch)[row]  # (T, V)
    # A later part-A token changes the logits of the first part-A token (bidirectional).
    later_a = head.logits(changed(batch, row, prefix - 1, tokenizer))[row]
    assert not torch.allclose(later_a[0], base[0])
    # A part-B token changes nothing in part A, and nothing before it in part B (causal).
    last_b = head.logits(changed(batch, row, length - 1, tokenizer))[row]
    assert torch.allclose(last_b[: length - 1], base[: length - 1], atol=1e-5)
    assert not torch.allclose(last_b[length - 1], base[length - 1])


@torch.no_grad()
def test_loss_covers_span_tokens_only(setup):
    _, _, head, batch = setup
    labels = batch["labels"]
    in_part_b = torch.arange(labels.shape[1]).view(1, -1) >= batch["prefix_length"].view(-1, 1)
    real = batch["attention_mask"].bool()
    assert torch.equal(labels != IGNORE_INDEX, in_part_b & real)  # targets = part B, nothing else
    out = head(batch)
    logits = head.logits(batch)
    manual = torch.nn.functional.cross_entropy(logits[labels != IGNORE_INDEX], labels[labels != IGNORE_INDEX])
    assert out.loss.item() == pytest.approx(manual.item(), rel=1e-5)
    assert int(out.metric_inputs[1]) == int((in_part_b & real).sum())


def test_block_position_zero_stays_zero(setup):
    _, backbone, _, batch = setup
    tokenizer = setup[0]
    head = make_pretrain_head(backbone, tokenizer, {"objective": "blank_infilling", "max_span_length": 16}, PretrainHeadConfig())
    optimizer = torch.optim.AdamW(head.parameters(), lr=1e-2, weight_decay=0.1)
    head(batch).loss.backward()
    optimizer.step()
    assert torch.count_nonzero(head.block_positions.weight[0]) == 0
    assert torch.count_nonzero(head.block_positions.weight[1]) > 0


@torch.no_grad()
def test_export_loads_in_plain_transformers(setup, tmp_path):
    import transformers

    tokenizer, backbone, head, _ = setup
    save_head(head, tmp_path)  # the core's one export path: model, tokenizer, then save_extras
    assert (tmp_path / BLOCK_POSITION_FILE).is_file()
    # On ordinary text (block position 0, causal) the pre-trained network is the plain causal LM.
    text = tokenizer(["anna lives near the farm with a red cat."], return_tensors="pt")
    plain = transformers.AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    n = text["input_ids"].shape[1]
    ordinary = {
        "input_ids": text["input_ids"], "attention_mask": text["attention_mask"], "position_ids": torch.arange(n).view(1, -1),
        "block_position_ids": torch.zeros(1, n, dtype=torch.long), "prefix_length": torch.tensor([0]),
    }
    assert torch.allclose(plain(**text).logits, head.logits(ordinary), atol=1e-5)
    # A classifier from the export starts from the pre-trained weights (only its score head is new).
    classifier = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path, num_labels=2)
    assert torch.equal(classifier.model.embed_tokens.weight, plain.model.embed_tokens.weight)
    assert torch.equal(classifier.model.layers[0].mlp.down_proj.weight, plain.model.layers[0].mlp.down_proj.weight)
    # Continued pre-training from the export reloads the block-position table.
    again = make_pretrain_head(replace(backbone, name_or_path=str(tmp_path)), tokenizer, {"objective": "blank_infilling", "max_span_length": 16}, PretrainHeadConfig())
    assert torch.equal(again.block_positions.weight, head.block_positions.weight)


def test_head_config_sets_model_config_fields(setup):
    tokenizer, backbone, _, _ = setup
    head = make_pretrain_head(backbone, tokenizer, {"objective": "causal_lm", "max_span_length": 16}, PretrainHeadConfig(tie_word_embeddings=True, model_config={"rms_norm_eps": 1e-3}))
    assert head.block_positions is None
    assert head.model.config.rms_norm_eps == 1e-3
    assert head.model.get_output_embeddings().weight is head.model.get_input_embeddings().weight
