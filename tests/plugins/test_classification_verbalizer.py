"""The verbalizer head (task.head=verbalizer) on a tiny saved GLM: the cloze layout, logits from the LM head, loss, errors."""

from __future__ import annotations

import pytest
import torch

from glmtasks.api import (
    BLOCK_POSITION_FILE,
    BlockPositionEmbedding,
    ConfigError,
    load_model,
    save_block_position_weight,
    tiny_backbone_config,
    train_bpe_tokenizer,
)
from glmtasks_classification.config import VerbalizerConfig
from glmtasks_classification.demo import generate_sentiment
from glmtasks_classification.verbalizer import make_verbalizer_head

LABELS = {"labels": ["negative", "positive"]}
WORDS = {"negative": "bad", "positive": "good"}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny GlmForCausalLM saved with its tokenizer and a block-position table (like a blank-infilling export)."""
    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("glm")
    texts = generate_sentiment(200, seed=0)["text"] + ["it was good .", "it was bad ."] * 20
    tokenizer = train_bpe_tokenizer(texts, 400)
    model = load_model(tiny_backbone_config(), "AutoModelForCausalLM", tokenizer)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    table = BlockPositionEmbedding(18, model.config.hidden_size)
    save_block_position_weight(table, directory)
    return directory, tokenizer, table


def head_for(directory, tokenizer, **options):
    backbone = tiny_backbone_config(name="saved", name_or_path=str(directory))
    return make_verbalizer_head(backbone, tokenizer, LABELS, VerbalizerConfig(verbalizers=WORDS, prompt=" it was [MASK] .", **options)).eval()


def batch_of(tokenizer, texts, labels=None):
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    batch = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "index": torch.arange(len(texts))}
    if labels is not None:
        batch["labels"] = torch.tensor(labels)
    return batch


def ids(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_prefix_layout_is_glm_cloze(saved):
    directory, tokenizer, table = saved
    head = head_for(directory, tokenizer)  # auto: the folder has a block-position table -> prefix
    assert head.prefix and torch.equal(head.block_positions.weight, table.weight)
    texts = ["the plot was dull", "the cast was charming and the story moving"]
    inputs = head.cloze_inputs(batch_of(tokenizer, texts))
    text = ids(tokenizer, texts[0])
    part_a = text + ids(tokenizer, " it was") + [tokenizer.mask_token_id] + ids(tokenizer, " .")
    n = len(part_a) + 1
    assert inputs["input_ids"][0, :n].tolist() == part_a + [tokenizer.bos_token_id]  # no eos between text and prompt; [S] last
    assert inputs["position_ids"][0, :n].tolist() == list(range(len(part_a))) + [len(text) + len(ids(tokenizer, " it was"))]  # [S] sits at the blank
    assert inputs["block_position_ids"][0, :n].tolist() == [0] * len(part_a) + [1]
    assert int(inputs["prefix_length"][0]) == len(part_a) and int(inputs["read_at"][0]) == n - 1
    assert inputs["attention_mask"][0].sum() == n and inputs["attention_mask"][1].sum() == inputs["attention_mask"].shape[1]


@torch.no_grad()
def test_prefix_scores_are_lm_logits_of_the_words_at_the_start_token(saved):
    directory, tokenizer, _ = saved
    head = head_for(directory, tokenizer)
    batch = batch_of(tokenizer, ["the plot was dull", "the cast was charming and the story moving"], labels=[0, 1])
    logits = head._logits(batch)
    assert logits.shape == (2, 2)
    words = [ids(tokenizer, " bad")[0], ids(tokenizer, " good")[0]]
    inputs = head.cloze_inputs(batch)
    # The same scores by hand: the decoder with GLM's mask, positions and block positions, then the LM head.
    from glmtasks.api import prefix_lm_hidden_states

    hidden = prefix_lm_hidden_states(head.model.get_decoder(), inputs["input_ids"], inputs["attention_mask"], inputs["prefix_length"],
                                     inputs["position_ids"], inputs["block_position_ids"], head.block_positions)
    full = head.model.lm_head(hidden)  # (B, T, V)
    for row in range(2):
        assert torch.allclose(logits[row], full[row, int(inputs["read_at"][row]), words], atol=1e-5)
    # Part A is read bidirectionally: the token after the blank changes what the text tokens see, hence the scores.
    causal_only = head_for(directory, tokenizer, attention="causal")._logits(batch)
    assert not torch.allclose(causal_only, logits)
    # The loss is cross-entropy over the verbalizer logits; predictions name the labels.
    out = head(batch)
    assert out.loss.item() == pytest.approx(torch.nn.functional.cross_entropy(logits, batch["labels"]).item(), rel=1e-5)
    assert {r["prediction"] for r in out.predictions()} <= {"negative", "positive"}


@torch.no_grad()
def test_causal_mode_is_next_word_prediction_of_a_plain_causal_lm(saved, tmp_path):
    directory, tokenizer, _ = saved
    head = head_for(directory, tokenizer, attention="causal")
    assert not head.prefix and head.block_positions is None
    texts = ["the plot was dull", "the cast was charming and the story moving"]
    logits = head._logits(batch_of(tokenizer, texts))
    words = [ids(tokenizer, " bad")[0], ids(tokenizer, " good")[0]]
    for row, text in enumerate(texts):
        prompt = torch.tensor([ids(tokenizer, text) + ids(tokenizer, " it was")])
        expected = head.model(input_ids=prompt).logits[0, -1, words]  # plain transformers, causal
        assert torch.allclose(logits[row], expected, atol=1e-5)


def test_training_moves_the_scores_and_only_block_position_one_is_used(saved):
    directory, tokenizer, _ = saved
    head = head_for(directory, tokenizer).train()
    batch = batch_of(tokenizer, ["the plot was dull", "the cast was charming"], labels=[0, 1])
    optimizer = torch.optim.AdamW(head.parameters(), lr=3e-3)
    first = head(batch).loss.item()
    for _ in range(5):
        optimizer.zero_grad()
        head(batch).loss.backward()
        optimizer.step()
    assert head(batch).loss.item() < first
    assert torch.count_nonzero(head.block_positions.weight[0]) == 0


@pytest.mark.parametrize("options, message", [
    (dict(verbalizers={"neutral": "fine", "negative": "bad", "positive": "good"}), "names 'neutral', which is not a label"),
    (dict(verbalizers={"negative": "bad"}), "gives no word for label 'positive'"),
    (dict(verbalizers={"negative": "unwatchably", "positive": "good"}), "'unwatchably' of label 'negative' is"),
    (dict(verbalizers=WORDS, prompt="it was good"), r"must hold \[MASK\] once"),
    (dict(verbalizers=WORDS, attention="sideways"), "unknown task.head_config.attention"),
])
def test_bad_options_are_one_line_config_errors(saved, options, message):
    directory, tokenizer, _ = saved
    backbone = tiny_backbone_config(name="saved", name_or_path=str(directory))
    with pytest.raises(ConfigError, match=message) as error:
        make_verbalizer_head(backbone, tokenizer, LABELS, VerbalizerConfig(**options))
    assert "\n" not in str(error.value)


def test_a_backbone_without_a_causal_lm_head_is_a_config_error(saved):
    _, tokenizer, _ = saved
    with pytest.raises(ConfigError, match="encoder-decoder"):
        make_verbalizer_head(tiny_backbone_config(name="t5", model_type="t5"), tokenizer, LABELS, VerbalizerConfig(verbalizers=WORDS))
    with pytest.raises(ConfigError, match="no language-model head"):
        make_verbalizer_head(tiny_backbone_config(name="distil", model_type="distilbert", model_config={}), tokenizer, LABELS,
                             VerbalizerConfig(verbalizers=WORDS))


def test_export_keeps_the_table_so_the_pattern_survives(saved, tmp_path):
    directory, tokenizer, _ = saved
    head = head_for(directory, tokenizer)
    head.save_extras(tmp_path)
    assert (tmp_path / BLOCK_POSITION_FILE).is_file()
    head_for(directory, tokenizer, attention="causal").save_extras(tmp_path / "none")  # no table: nothing written, no error
    assert not (tmp_path / "none").exists()


def test_the_cli_selects_the_head_and_refuses_a_bad_word_with_exit_2(run_cli):
    bad = run_cli("task=sentiment", "task.head=verbalizer", "+task.head_config.verbalizers={negative: bad, happy: good}",
                  "data.demo_train_size=200", "data.demo_eval_size=40")
    assert bad.returncode == 2
    assert "names 'happy', which is not a label" in bad.stderr and "Traceback" not in bad.stderr


def test_a_trained_verbalizer_run_evaluates_and_predicts_from_its_export(tmp_path, run_cli):
    """The head is rebuilt from what the run saved: mode=evaluate on the export reproduces the run's test
    accuracy, and mode=predict from the run directory answers with labels, in input order."""
    import json

    from glmtasks.testing import run_task

    small = ["data.demo_train_size=200", "data.demo_eval_size=48"]
    head = ["task.head=verbalizer", "+task.head_config.verbalizers={negative: bad, positive: good}",
            "+task.head_config.prompt=' it was [MASK] .'"]
    run = run_task("sentiment", [*head, *small], tmp_path / "train")
    trained = json.loads((run.run_dir / "metrics.json").read_text())
    evaluated = run_cli("task=sentiment", "mode=evaluate", "eval_split=test", f"checkpoint={run.run_dir / 'export'}", *small)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert evaluated.metrics["metrics"]["test/accuracy"] == pytest.approx(trained["test"]["test/accuracy"], abs=1e-6)
    texts = ["the plot was far from dull", "a", "the cast was charming but the ending was tedious"]
    (tmp_path / "inputs.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    predicted = run_cli("task=sentiment", "mode=predict", f"checkpoint={run.run_dir}", f"data.predict_file={tmp_path / 'inputs.jsonl'}")
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    lines = predicted.predictions()
    assert [line["text"] for line in lines] == texts and all(line["prediction"] in ("negative", "positive") for line in lines)
