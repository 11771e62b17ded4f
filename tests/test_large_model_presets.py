"""GLM-4-9B presets: the hub loading path exercised on a local directory made with save_pretrained."""

from __future__ import annotations

import json

import pytest



@pytest.fixture(scope="module")
def local_glm(tmp_path_factory):
    """A small GLM causal LM and its tokenizer saved the way a hub checkpoint is laid out."""
    from transformers import GlmConfig, GlmForCausalLM

    from glmtasks.backbone import train_bpe_tokenizer
    from glmtasks_classification.demo import generate_sentiment

    directory = tmp_path_factory.mktemp("glm-local")
    tokenizer = train_bpe_tokenizer(generate_sentiment(500, seed=5)["text"], vocab_size=500)
    config = GlmConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=16, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    GlmForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.mark.parametrize("experiment", ["glm4_9b_lora", "glm4_9b_fsdp"])
def test_presets_compose_with_their_large_model_settings(experiment):
    from omegaconf import OmegaConf

    from glmtasks.cli import compose, validate

    config = validate(OmegaConf.to_container(compose([f"experiment={experiment}", "task=classification"]), resolve=True))
    assert config.backbone.name_or_path == "THUDM/glm-4-9b-hf" and config.backbone.dtype == "bfloat16"
    assert config.trainer["precision"] == "bf16-true"
    if experiment == "glm4_9b_lora":
        assert config.backbone.peft.r == 16 and config.backbone.gradient_checkpointing
    else:
        assert config.trainer["strategy"]["name"] == "fsdp"


def test_lora_preset_trains_from_a_local_checkpoint_directory(local_glm, run_cli):
    result = run_cli(
        "experiment=glm4_9b_lora", "task=sentiment", "data=sentiment", f"backbone.name_or_path={local_glm}",
        "trainer.accelerator=cpu", "trainer.max_epochs=1", "callbacks.progress_bar=false",
        "data.demo_train_size=128", "data.demo_eval_size=32",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (run_dir,) = result.run_dirs()
    config = json.loads((run_dir / "export" / "config.json").read_text())
    assert config["architectures"] == ["GlmForSequenceClassification"] and config["dtype"] == "bfloat16"
    assert not (run_dir / "export" / "adapter_config.json").exists(), "adapters are merged into the export"
