"""The shared generation package (glmtasks_generation): prompt/target formatting, loss masking, layouts, batched generation."""

from __future__ import annotations

import pytest
import torch

from glmtasks.backbone import train_bpe_tokenizer
from glmtasks.config import BackboneConfig
from glmtasks.errors import ConfigError
from glmtasks_generation.config import GenerationHeadConfig, TextPairDataConfig
from glmtasks_generation.data import TextPairDataModule, encode_prompts, encode_targets
from glmtasks_generation.heads import IGNORE_INDEX, make_generation_head, move_padding, prefix_lm_batch

TEXTS = [
    "the cat sat on the mat", "a dog ran in the park", "die katze sitzt auf der matte", "ein hund läuft im park",
    "the bird sings", "der vogel singt", "一只猫坐在垫子上", "狗在公园里跑",
] * 10
TINY_GLM = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16}
TINY_T5 = {"d_model": 32, "d_ff": 64, "num_layers": 1, "num_decoder_layers": 1, "num_heads": 2, "d_kv": 16}
TINY_BART = {"d_model": 32, "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2, "decoder_attention_heads": 2,
             "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "max_position_embeddings": 128}
DEFAULTS = GenerationHeadConfig()


def pairs_datamodule(records, **config):
    """A :class:`TextPairDataModule` whose train, validation and test splits are ``records``."""

    class Pairs(TextPairDataModule):
        def demo_records(self, split, size, seed):
            return [dict(record) for record in records]

    return Pairs(TextPairDataConfig(source="demo", **config))


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe_tokenizer(TEXTS, vocab_size=300)


# -- formatting --------------------------------------------------------------------------


def test_prompt_is_exactly_what_the_tokenizer_gives_for_the_prompt_text(tokenizer):
    ids, prompts = encode_prompts(tokenizer, ["the cat sat", "狗在公园里跑"], "translate: {source}", max_length=64)
    assert prompts == ["translate: the cat sat", "translate: 狗在公园里跑"]
    assert ids == tokenizer(prompts)["input_ids"]
    assert all(row[-1] == tokenizer.eos_token_id for row in ids), "the BPE tokenizer ends a prompt with <eos>"


def test_long_sources_are_cut_in_the_text_so_the_prompt_still_round_trips(tokenizer):
    source = "the cat sat on the mat and the dog ran in the park " * 5
    ids, prompts = encode_prompts(tokenizer, [source], "{source}", max_length=12)
    assert len(ids[0]) <= 12 and ids[0][-1] == tokenizer.eos_token_id
    assert source.startswith(prompts[0]) and len(prompts[0]) < len(source)
    assert ids == tokenizer(prompts)["input_ids"]


def test_targets_have_no_special_tokens_but_end_with_eos_and_are_cut(tokenizer):
    (full,), (cut,) = encode_targets(tokenizer, ["the cat sat on the mat"], 64), encode_targets(tokenizer, ["the cat sat on the mat"], 3)
    assert full == tokenizer("the cat sat on the mat", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    assert cut == full[:2] + [tokenizer.eos_token_id]


def test_prefix_lm_batch_concatenates_prompt_and_target_and_masks_the_prompt():
    pad = 0
    prompts = torch.tensor([[5, 6, 7], [8, 0, 0]])  # right-padded
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    labels = torch.tensor([[9, 1, IGNORE_INDEX], [10, 11, 1]])  # right-padded targets, 1 = eos
    out = prefix_lm_batch(prompts, mask, labels, pad)
    assert out["input_ids"].tolist() == [[5, 6, 7, 9, 1], [8, 10, 11, 1, 0]]
    assert out["attention_mask"].tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]]
    assert out["labels"].tolist() == [[-100, -100, -100, 9, 1], [-100, 10, 11, 1, -100]]


def test_move_padding_left_keeps_order_and_trims_empty_columns():
    ids = torch.tensor([[5, 6, 0, 0], [7, 0, 0, 0]])
    mask = torch.tensor([[1, 1, 0, 0], [1, 0, 0, 0]])
    left_ids, left_mask = move_padding(ids, mask, "left")
    assert left_ids.tolist() == [[5, 6], [0, 7]] and left_mask.tolist() == [[1, 1], [0, 1]]


def test_collator_right_pads_labels_with_ignore_index_and_keeps_references(tokenizer):
    dm = pairs_datamodule([{"source": "a", "references": ["b"]}])
    dm.set_tokenizer(tokenizer)
    pad = tokenizer.pad_token_id
    batch = dm.collator("test")([
        {"input_ids": [5, 6], "attention_mask": [1, 1], "labels": [7, 1], "index": 0, "references": ["a", "b"]},
        {"input_ids": [5], "attention_mask": [1], "labels": [1], "index": 1, "references": ["c"]},
    ])
    assert batch["input_ids"].tolist() == [[5, 6], [5, pad]] and batch["labels"].tolist() == [[7, 1], [1, IGNORE_INDEX]]
    assert batch["attention_mask"].tolist() == [[1, 1], [1, 0]]
    assert batch["references"] == [["a", "b"], ["c"]] and batch["index"].tolist() == [0, 1]


def test_datamodule_trains_on_every_reference_and_scores_against_all_of_them(tokenizer):
    pairs = [{"source": "the cat sat", "references": ["die katze sitzt", "eine katze sitzt"]}, {"source": "the bird sings", "references": ["der vogel singt"]}]
    dm = pairs_datamodule(pairs, max_target_length=3, batch_size=4, eval_batch_size=4)
    dm.set_tokenizer(tokenizer)
    dm.setup()
    assert [item["index"] for item in dm.features["train"]] == [0, 0, 1]
    assert [item["index"] for item in dm.features["validation"]] == [0, 1]
    batch = next(iter(dm.val_dataloader()))
    assert sorted(map(tuple, batch["references"])) == [("der vogel singt",), ("die katze sitzt", "eine katze sitzt")]
    assert batch["labels"].shape[1] <= 3, "training targets are cut to max_target_length"
    assert dm.example_record("test", 0) == {"source": "the cat sat", "references": ["die katze sitzt", "eine katze sitzt"]}
    assert "{source}" not in "".join(dm.training_texts()) and "eine katze sitzt" in list(dm.training_texts())


def test_without_training_references_only_prompts_are_encoded(tokenizer):
    dm = pairs_datamodule([{"source": "the cat sat", "references": []}, {"source": "the bird", "references": []}])
    dm.set_tokenizer(tokenizer)
    features = dm.encode_split("predict", dm.splits["train"])
    assert [sorted(f) for f in features] == [["attention_mask", "index", "input_ids"]] * 2
    assert dm.example_record("train", 1) == {"source": "the bird", "references": []}


def test_prompt_without_source_placeholder_is_a_config_error():
    with pytest.raises(ConfigError, match=r"data.prompt must contain \{source\}"):
        pairs_datamodule([{"source": "a", "references": ["b"]}], prompt="summarize:")


# -- the head on tiny models --------------------------------------------------------------


def _batch(tokenizer, sources, targets):
    dm = pairs_datamodule([{"source": s, "references": [t]} for s, t in zip(sources, targets)], eval_batch_size=len(sources))
    dm.set_tokenizer(tokenizer)
    dm.setup()
    return next(iter(dm.test_dataloader()))


@pytest.fixture(scope="module")
def glm_head(tokenizer):
    torch.manual_seed(0)
    head = make_generation_head(BackboneConfig(name="glm", model_config=TINY_GLM), tokenizer, {"max_target_length": 6}, DEFAULTS)
    return head.eval()


def test_decoder_only_loss_covers_target_tokens_only(glm_head, tokenizer):
    batch = _batch(tokenizer, ["the cat sat on the mat", "the bird"], ["die katze", "der vogel singt"])
    loss = glm_head(batch).loss
    seq = prefix_lm_batch(batch["input_ids"], batch["attention_mask"], batch["labels"], tokenizer.pad_token_id)
    reference = glm_head.model(**seq).loss  # transformers' own shifted causal-LM loss with the same mask
    assert torch.allclose(loss, reference, atol=1e-5)
    n_target = int((batch["labels"] != IGNORE_INDEX).sum())
    assert int((seq["labels"] != IGNORE_INDEX).sum()) == n_target


def test_batched_left_padded_generation_equals_one_by_one(glm_head, tokenizer):
    sources = ["the cat sat on the mat and the dog ran", "the bird", "狗在公园里跑"]
    batch = _batch(tokenizer, sources, ["x", "y", "z"])
    together = dict(zip(batch["index"].tolist(), glm_head.generate(batch)))
    for i, source in enumerate(sources):
        alone = glm_head.generate(_batch(tokenizer, [source], ["x"]))[0]
        assert together[i] == alone



def test_kv_cache_does_not_change_greedy_outputs(glm_head, tokenizer):
    inputs = tokenizer(["the cat sat on the mat", "the bird"], return_tensors="pt", padding=True)
    cached = glm_head.model.generate(**inputs, use_cache=True)
    uncached = glm_head.model.generate(**inputs, use_cache=False)
    assert torch.equal(cached, uncached)


def test_generation_settings_reach_the_generation_config_and_beam_search_runs(tokenizer):
    settings = GenerationHeadConfig(num_beams=3, length_penalty=0.6, max_new_tokens=5, no_repeat_ngram_size=2)
    head = make_generation_head(BackboneConfig(name="glm", model_config=TINY_GLM), tokenizer, {"max_target_length": 20}, settings).eval()
    config = head.model.generation_config
    assert (config.num_beams, config.length_penalty, config.max_new_tokens, config.no_repeat_ngram_size, config.do_sample) == (3, 0.6, 5, 2, False)
    hypotheses = head.generate(_batch(tokenizer, ["the cat sat", "the bird"], ["a", "b"]))
    assert len(hypotheses) == 2 and all(isinstance(h, str) for h in hypotheses)
    inputs = tokenizer(["the cat sat", "the bird"], return_tensors="pt", padding=True)
    assert head.model.generate(**inputs).shape[1] <= inputs["input_ids"].shape[1] + 5


def test_head_config_errors_are_one_line_config_errors(tokenizer):
    """The core builds task.head_config from GenerationHeadConfig: unknown keys get a suggestion."""
    from glmtasks.cli import precheck
    from glmtasks.config import raise_if_errors
    from glmtasks.registry import default_registry
    from glmtasks.run import ResolvedTask, build_head_config

    registry = default_registry()
    for task_name in ("translation", "summarization"):
        spec = registry.tasks.get(task_name)
        task = ResolvedTask(spec, spec.head, spec.datamodule, list(spec.metrics), spec.monitor, spec.mode)
        errors: list[str] = []
        assert build_head_config({"num_beams": 4}, task, registry, errors) == GenerationHeadConfig(num_beams=4) and not errors
        build_head_config({"beams": 4}, task, registry, errors)
        with pytest.raises(ConfigError, match=r"unknown key 'task.head_config.beams' \(did you mean 'num_beams'\?\)"):
            raise_if_errors(errors)
    with pytest.raises(ConfigError, match=r"'task.head_config.beams' \(did you mean 'num_beams'\?\)"):
        precheck(["task=translation", "task.head_config.beams=4"])
    with pytest.raises(ConfigError, match=r"task.head_config.num_beams must be >= 1"):
        make_generation_head(BackboneConfig(name="glm", model_config=TINY_GLM), tokenizer, {}, GenerationHeadConfig(num_beams=0))


@pytest.mark.parametrize("model_type,model_config", [("t5", TINY_T5), ("bart", TINY_BART)])
def test_encoder_decoder_loss_is_the_models_own_and_generation_works(tokenizer, model_type, model_config):
    torch.manual_seed(0)
    backbone = BackboneConfig(name=model_type, model_type=model_type, model_config=model_config)
    head = make_generation_head(backbone, tokenizer, {"max_target_length": 6}, DEFAULTS).eval()
    assert head.encoder_decoder and tokenizer.padding_side == "right"
    assert head.model.config.decoder_start_token_id == tokenizer.bos_token_id
    # the architecture's default special ids (BART forces id 2 at the end) are replaced by this tokenizer's
    assert head.model.generation_config.eos_token_id == tokenizer.eos_token_id and head.model.generation_config.forced_eos_token_id is None
    batch = _batch(tokenizer, ["the cat sat on the mat", "the bird"], ["die katze", "der vogel singt"])
    own = head.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]).loss
    assert torch.allclose(head(batch).loss, own, atol=1e-5)
    hypotheses = head(batch).metric_inputs[0]
    assert len(hypotheses) == 2 and all(isinstance(h, str) for h in hypotheses)
    tokenizer.padding_side = "left"  # leave the shared fixture as the decoder-only tests expect it


def test_a_tiny_prefix_lm_learns_to_translate_a_few_sentences(tokenizer):
    """Overfit 4 pairs: the loss masking and the generation layout agree (it would not learn otherwise)."""
    torch.manual_seed(0)
    sources = ["the cat sat on the mat", "a dog ran in the park", "the bird sings", "一只猫坐在垫子上"]
    targets = ["die katze sitzt auf der matte", "ein hund läuft im park", "der vogel singt", "the cat sat on the mat"]
    head = make_generation_head(BackboneConfig(name="glm", model_config={**TINY_GLM, "hidden_size": 64, "intermediate_size": 128}),
                                tokenizer, {"max_target_length": 32}, DEFAULTS)
    batch = _batch(tokenizer, sources, targets)
    optimizer = torch.optim.AdamW(head.parameters(), lr=5e-3)
    head.train()
    for _ in range(80):
        loss = head(batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    head.eval()
    out = head(batch)
    assert out.loss < 0.1
    hypotheses = dict(zip(batch["index"].tolist(), out.metric_inputs[0]))
    assert [hypotheses[i] for i in range(4)] == targets
