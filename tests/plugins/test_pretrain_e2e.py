"""task=pretrain end to end: files (text + jsonl) packed and held out, configs compose, pre-train then fine-tune from the export, LoRA export."""

from __future__ import annotations

import json

import pytest
import torch

from glmtasks.api import BackboneConfig, check_plugin, run_task, train_bpe_tokenizer
from glmtasks_pretrain.data import PretrainDataConfig, PretrainDataModule, generate_documents
from glmtasks_pretrain.heads import BLOCK_POSITION_FILE, PretrainHeadConfig, make_pretrain_head

SMALL = ["data.demo_documents=80", "data.block_size=32", "data.batch_size=16"]


def test_text_and_jsonl_files_are_packed_with_a_held_out_tail(tmp_path):
    docs = generate_documents(40)
    (tmp_path / "a.txt").write_text("\n\n".join(docs[:20]) + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in docs[20:]), encoding="utf-8")
    config = PretrainDataConfig(source="files", train_files=[str(tmp_path / "a.txt"), str(tmp_path / "b.jsonl")], block_size=32, validation_fraction=0.2)
    module = PretrainDataModule(config)
    assert list(module.training_texts()) == docs
    tokenizer = train_bpe_tokenizer(docs, 300)
    module.set_tokenizer(tokenizer)
    module.setup("fit")
    train, validation = module.features["train"], module.features["validation"]
    assert {len(f["input_ids"]) for f in train + validation} == {32}
    assert {f["source"] for f in validation} == {"a.txt", "b.jsonl"}  # each file's tail
    assert module.split_features("test") == validation
    stream = [t for d in docs[:20] for t in tokenizer(d, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]]
    a_blocks = [f["input_ids"] for f in train + validation if f["source"] == "a.txt"]
    assert [t for b in a_blocks for t in b] == stream[: 32 * len(a_blocks)]
    assert [f["index"] for f in validation] == list(range(len(validation)))
    assert module.example_record("validation", 0)["source"] == validation[0]["source"]
    batch = next(iter(module.train_dataloader()))
    assert {"position_ids", "block_position_ids", "prefix_length", "labels"} <= set(batch)


def test_validation_files_and_subsampling_count_blocks(tmp_path):
    docs = generate_documents(60)
    (tmp_path / "train.txt").write_text("\n\n".join(docs[:40]), encoding="utf-8")
    (tmp_path / "dev.txt").write_text("\n\n".join(docs[40:]), encoding="utf-8")
    config = PretrainDataConfig(
        source="files", train_files=[str(tmp_path / "train.txt")], validation_files=[str(tmp_path / "dev.txt")],
        block_size=16, max_train_samples=5, max_eval_samples=3, objective="causal_lm",
    )
    module = PretrainDataModule(config)
    module.set_tokenizer(train_bpe_tokenizer(docs, 300))
    module.setup("fit")
    assert len(module.features["train"]) == 5 and len(module.features["validation"]) == 3
    assert {f["source"] for f in module.features["validation"]} == {"dev.txt"}
    assert set(next(iter(module.val_dataloader()))) >= {"input_ids", "labels", "index"}


@pytest.mark.parametrize("overrides", [
    ["data=shakespeare_wikitext"],
    ["experiment=pretrain_glm_tiny"],
    ["task=pretrain", "data.objective=causal_lm"],
])
def test_shipped_configs_compose(overrides):
    from glmtasks.cli import compose_dict, validate

    config = validate(compose_dict([*overrides, "paths.shared_data=/data"]))
    assert config.task.name == "pretrain"
    if overrides[0] != "task=pretrain":
        assert config.data["train_files"] == ["/data/tinyshakespeare/input.txt", "/data/wikitext-2-raw/wiki.test.raw"]
        assert config.data["block_size"] == 128 and config.data["source"] == "files"


@pytest.mark.parametrize("objective", ["blank", "causal"])
def test_sst2_pretraining_presets_compose(objective):
    from glmtasks.cli import compose_dict, validate

    config = validate(compose_dict([f"experiment=pretrain_sst2_{objective}", "paths.shared_data=/data"]))
    assert config.data["train_files"] == ["/data/sst2/train.tsv"] and config.data["text_column"] == "sentence"
    assert config.data["objective"] == {"blank": "blank_infilling", "causal": "causal_lm"}[objective]
    assert config.backbone.name == "glm-small" and config.backbone.model_config["num_hidden_layers"] == 4
    assert config.trainer["max_steps"] == 8000 and config.trainer["val_check_interval"] == 2000


def test_a_labelled_table_is_read_as_unlabelled_text(tmp_path):
    """A classification file (SST-2's layout) used as a corpus: the text column only, labels dropped, one document per row."""
    rows = ["it 's a charming film", "a dull , lifeless plot", "", "the cast is superb"]
    (tmp_path / "train.tsv").write_text("sentence\tlabel\n" + "".join(f"{r}\t{i % 2}\n" for i, r in enumerate(rows)), encoding="utf-8")
    config = PretrainDataConfig(source="files", train_files=[str(tmp_path / "train.tsv")], text_column="sentence", block_size=8)
    module = PretrainDataModule(config)
    assert list(module.training_texts()) == [r for r in rows if r]  # the empty row is skipped, no label anywhere
    module.set_tokenizer(train_bpe_tokenizer(rows * 5, 300))
    module.setup("fit")
    text = "".join(module.tokenizer.decode(f["input_ids"]) for f in module.features["train"] + module.features["validation"])
    assert "charming" in text and "\t" not in text and "label" not in text


def test_pretrain_then_finetune_from_the_export(tmp_path):
    import transformers

    (tmp_path / "pt").mkdir()
    (tmp_path / "ft").mkdir()
    pretrain = run_task("pretrain", SMALL, tmp_path / "pt")
    assert 1 < pretrain.metrics["val"]["val/perplexity"] < 600
    export = pretrain.run_dir / "export"
    assert (export / BLOCK_POSITION_FILE).is_file()

    finetune = run_task(
        "sentiment",
        ["backbone=hf", f"backbone.name_or_path={export}", "trainer.max_epochs=1", "callbacks.progress_bar=false",
         "data.demo_train_size=128", "data.demo_eval_size=32", "data.batch_size=16"],
        tmp_path / "ft", tiny=False,
    )
    assert 0 <= finetune.metrics["val"]["val/accuracy"] <= 1
    tuned = finetune.run_dir / "export"
    # Fine-tuning used the pre-training tokenizer, and its export is a GLM classifier of the same size.
    assert transformers.AutoTokenizer.from_pretrained(tuned).get_vocab() == transformers.AutoTokenizer.from_pretrained(export).get_vocab()
    config = transformers.AutoConfig.from_pretrained(tuned)
    assert config.architectures == ["GlmForSequenceClassification"]
    assert config.hidden_size == transformers.AutoConfig.from_pretrained(export).hidden_size


@torch.no_grad()
def test_lora_export_is_a_merged_plain_causal_lm_that_reproduces_the_runs_predictions(tmp_path):
    import transformers

    run = run_task("pretrain", ["peft=lora", *SMALL], tmp_path)
    export = run.run_dir / "export"
    assert not list(export.glob("adapter_*")), "the export must hold merged weights, not adapters"
    assert (export / BLOCK_POSITION_FILE).is_file()
    plain = transformers.AutoModelForCausalLM.from_pretrained(export)
    assert type(plain).__name__ == "GlmForCausalLM"
    assert not [name for name in plain.state_dict() if "lora_" in name]

    # The export alone (merged weights + block-position table + tokenizer) rebuilds the head
    # and scores the run's test blocks exactly as the run's adapter model did.
    tokenizer = transformers.AutoTokenizer.from_pretrained(export)
    data = PretrainDataModule(PretrainDataConfig(source="demo", demo_documents=80, block_size=32))
    data.set_tokenizer(tokenizer)
    data.setup("test")
    head = make_pretrain_head(BackboneConfig(name="export", name_or_path=str(export)), tokenizer, data.task_info, PretrainHeadConfig()).eval()
    expected = {p["index"]: p for p in run.predictions()}
    batch = next(iter(data.test_dataloader()))
    records = head.predict(batch)
    assert len(records) == len(expected)  # the few test blocks fit one batch
    for record in records:
        wanted = expected[record["index"]]
        assert record["tokens"] == wanted["tokens"]
        # Unmerged base weights are off by ~0.05-0.15 nats per block here; merged ones agree to rounding.
        assert record["nll"] == pytest.approx(wanted["nll"], abs=2e-3)
        assert data.example_record("test", record["index"])["text"] == wanted["text"]


def test_plugin_contract():
    """The testing kit's checks: datamodule and head protocols on a real batch, the metric, the export."""
    import glmtasks_pretrain.plugin

    check_plugin(glmtasks_pretrain.plugin, data={"pretrain": {"demo_documents": 40, "block_size": 32}})
