"""task=pretrain end to end: files (text + jsonl) packed and held out, configs compose, pre-train then fine-tune from the export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from conftest import TINY


def train_in_process(overrides, output_dir):
    """``python -m glmtasks <overrides>`` without a new interpreter; returns metrics.json's content."""
    from glmtasks.cli import compose, validate
    from glmtasks.run import train

    config = validate(OmegaConf.to_container(compose([*overrides, f"paths.output_dir={output_dir}"]), resolve=True))
    return train(config)


def test_text_and_jsonl_files_are_packed_with_a_held_out_tail(tmp_path):
    from glmtasks.backbone import train_bpe_tokenizer
    from glmtasks.specs import TaskSpec
    from glmtasks_pretrain.data import PretrainDataConfig, PretrainDataModule, generate_documents

    docs = generate_documents(40)
    (tmp_path / "a.txt").write_text("\n\n".join(docs[:20]) + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in docs[20:]), encoding="utf-8")
    config = PretrainDataConfig(source="files", train_files=[str(tmp_path / "a.txt"), str(tmp_path / "b.jsonl")], block_size=32, validation_fraction=0.2)
    module = PretrainDataModule(config, TaskSpec("pretrain", "", "pretrain_lm", "pretrain", ("perplexity",), "perplexity", "min"))
    assert list(module.training_texts()) == docs
    tokenizer = train_bpe_tokenizer(docs, 300)
    module.set_tokenizer(tokenizer)
    module.setup("fit")
    assert {len(b) for b in module.blocks["train"] + module.blocks["validation"]} == {32}
    assert set(module.block_sources["validation"]) == {"a.txt", "b.jsonl"}  # each file's tail
    stream = [t for d in docs[:20] for t in tokenizer(d, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]]
    a_train = [b for b, s in zip(module.blocks["train"], module.block_sources["train"]) if s == "a.txt"]
    a_val = [b for b, s in zip(module.blocks["validation"], module.block_sources["validation"]) if s == "a.txt"]
    assert [t for b in a_train + a_val for t in b] == stream[: 32 * (len(a_train) + len(a_val))]
    batch = next(iter(module.train_dataloader()))
    assert {"position_ids", "block_position_ids", "prefix_length", "labels"} <= set(batch)


@pytest.mark.parametrize("overrides", [
    ["data=shakespeare_wikitext"],
    ["experiment=pretrain_glm_tiny"],
    ["task=pretrain", "data.objective=causal_lm"],
])
def test_shipped_configs_compose(overrides):
    from glmtasks.cli import compose, validate

    config = validate(OmegaConf.to_container(compose([*overrides, "paths.shared_data=/data"]), resolve=True))
    assert config.task.name == "pretrain"
    if overrides[0] != "task=pretrain":
        assert config.data["train_files"] == ["/data/tinyshakespeare/input.txt", "/data/wikitext-2-raw/wiki.test.raw"]


def test_pretrain_then_finetune_from_the_export(tmp_path):
    import transformers

    small = ["data.demo_documents=80", "data.block_size=32", "data.batch_size=16"]
    pretrain = train_in_process(["task=pretrain", *TINY, *small], tmp_path / "pt")
    assert 1 < pretrain["val"]["val/perplexity"] < 600
    export = Path(pretrain["run_dir"]) / "export"
    assert (export / "block_position_embeddings.safetensors").is_file()

    finetune = train_in_process(
        ["task=sentiment", "backbone=hf", f"backbone.name_or_path={export}", "trainer.max_epochs=1", "callbacks.progress_bar=false",
         "data.demo_train_size=128", "data.demo_eval_size=32", "data.batch_size=16"],
        tmp_path / "ft",
    )
    assert 0 <= finetune["val"]["val/accuracy"] <= 1
    tuned = Path(finetune["run_dir"]) / "export"
    # Fine-tuning used the pre-training tokenizer, and its export is a GLM classifier of the same size.
    assert transformers.AutoTokenizer.from_pretrained(tuned).get_vocab() == transformers.AutoTokenizer.from_pretrained(export).get_vocab()
    config = transformers.AutoConfig.from_pretrained(tuned)
    assert config.architectures == ["GlmForSequenceClassification"]
    assert config.hidden_size == transformers.AutoConfig.from_pretrained(export).hidden_size


def test_plugin_contract():
    """The testing kit's checks: datamodule and head protocols on a real batch, the metric, save_pretrained."""
    import glmtasks_pretrain.plugin
    from glmtasks.testing import check_plugin

    check_plugin(glmtasks_pretrain.plugin, data={"pretrain": {"demo_documents": 40, "block_size": 32}})
