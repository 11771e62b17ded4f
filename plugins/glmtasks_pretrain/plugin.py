"""Hook implementations of the pre-training plugin (registrations only; no heavy imports)."""

from pathlib import Path

from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl

_PACKAGE = "glmtasks_pretrain"


@hookimpl
def glmtasks_register_tasks():
    """Language-model pre-training: GLM blank infilling or causal LM, scored by perplexity."""
    return [
        TaskSpec(
            name="pretrain",
            description="language-model pre-training (GLM blank infilling or causal LM) on packed text, perplexity",
            head="pretrain_lm",
            datamodule="pretrain",
            metrics=("perplexity",),
            monitor="perplexity",
            mode="min",
        )
    ]


@hookimpl
def glmtasks_register_heads():
    """AutoModelForCausalLM with GLM's 2D positions adapted to rotary embeddings."""
    return [
        HeadSpec(
            name="pretrain_lm",
            factory=f"{_PACKAGE}.heads:make_pretrain_head",
            config_class=f"{_PACKAGE}.config:PretrainHeadConfig",
            description="AutoModelForCausalLM; blank infilling adds a learned intra-span position table",
        )
    ]


@hookimpl
def glmtasks_register_datamodules():
    """Plain text / jsonl documents packed into fixed-length blocks, or generated text."""
    return [
        DataModuleSpec(
            name="pretrain",
            factory=f"{_PACKAGE}.data:PretrainDataModule",
            config_class=f"{_PACKAGE}.config:PretrainDataConfig",
            description="text/jsonl files packed into blocks of data.block_size tokens, or a generated demo text",
        )
    ]


@hookimpl
def glmtasks_register_metrics():
    """Perplexity of the predicted tokens (exp of the mean NLL, summed across ranks)."""
    return [MetricSpec(name="perplexity", factory=f"{_PACKAGE}.metrics:perplexity", description="exp(mean NLL per predicted token)")]


@hookimpl
def glmtasks_register_config_dirs():
    """``task/``, ``data/`` and ``experiment/`` configs of this plugin."""
    return [Path(__file__).parent / "conf"]
