"""Hook implementations of the chat plugin (registrations only; no heavy imports)."""

from pathlib import Path

from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl

_PACKAGE = "glmtasks_chat"


@hookimpl
def glmtasks_register_tasks():
    """Dialogue fine-tuning of chat models on conversations."""
    return [
        TaskSpec(
            name="chat",
            description="dialogue fine-tuning with the model's chat template, assistant-only loss, packing; perplexity, BLEU-4, ROUGE",
            head="chat_lm",
            datamodule="chat",
            metrics=("assistant_perplexity", "reply_bleu4", "reply_rouge1", "reply_rouge2", "reply_rougeL"),
            monitor="assistant_perplexity",
            mode="min",
            trainer={"max_epochs": 6},
        )
    ]


@hookimpl
def glmtasks_register_heads():
    """A causal LM trained on assistant tokens, generating replies that stop at the template's end tokens."""
    return [
        HeadSpec(
            name="chat_lm",
            factory=f"{_PACKAGE}.heads:make_chat_head",
            config_class=f"{_PACKAGE}.config:ChatHeadConfig",
            description="AutoModelForCausalLM; assistant-token loss; replies generated with the chat template's stop tokens",
        )
    ]


@hookimpl
def glmtasks_register_datamodules():
    """Conversations (messages, ShareGPT, Alpaca, transcripts) from json/jsonl files, the hub or the demo."""
    return [
        DataModuleSpec(
            name="chat",
            factory=f"{_PACKAGE}.data:ChatDataModule",
            config_class=f"{_PACKAGE}.config:ChatDataConfig",
            description="conversations rendered with the chat template, assistant tokens supervised, training rows packed",
        )
    ]


@hookimpl
def glmtasks_register_metrics():
    """Perplexity of assistant tokens; BLEU-4 and ROUGE-1/2/L of each conversation's generated last reply."""
    return [
        MetricSpec(name="assistant_perplexity", factory=f"{_PACKAGE}.metrics:perplexity", description="perplexity of the assistant tokens"),
        MetricSpec(name="reply_bleu4", factory=f"{_PACKAGE}.metrics:bleu4", description="BLEU-4 of generated replies (sacreBLEU)"),
        MetricSpec(name="reply_rouge1", factory=f"{_PACKAGE}.metrics:rouge1", description="ROUGE-1 F of generated replies"),
        MetricSpec(name="reply_rouge2", factory=f"{_PACKAGE}.metrics:rouge2", description="ROUGE-2 F of generated replies"),
        MetricSpec(name="reply_rougeL", factory=f"{_PACKAGE}.metrics:rougeL", description="ROUGE-L F of generated replies"),
    ]


@hookimpl
def glmtasks_register_config_dirs():
    """``task/``, ``data/`` and ``experiment/`` configs of this plugin."""
    return [Path(__file__).parent / "conf"]


@hookimpl
def glmtasks_draw_figures(run):
    """Reply ROUGE-L by reference length of a chat run."""
    if run.task != "chat":
        return []
    from glmtasks_chat.figures import reply_rouge_by_length_figure

    figure = reply_rouge_by_length_figure(run)
    return [figure] if figure else []
