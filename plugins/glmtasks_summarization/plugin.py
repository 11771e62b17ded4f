"""Hook implementations of the summarization plugin (registrations only; no heavy imports)."""

from pathlib import Path

from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl

_PACKAGE = "glmtasks_summarization"


@hookimpl
def glmtasks_register_tasks():
    """Abstractive summarization of documents or dialogues, scored with ROUGE."""
    return [
        TaskSpec(
            name="summarization",
            description="abstractive summarization (GLM prefix LM or T5/BART), ROUGE-1/2/L/Lsum",
            head="summarization_lm",
            datamodule="summarization",
            metrics=("rouge1", "rouge2", "rougeL", "rougeLsum"),
            monitor="rougeLsum",
        )
    ]


@hookimpl
def glmtasks_register_heads():
    """The shared conditional-generation head (decoder-only prefix LM or encoder-decoder)."""
    return [
        HeadSpec(
            name="summarization_lm",
            factory="glmtasks_generation.heads:make_generation_head",
            config_class="glmtasks_generation.config:GenerationHeadConfig",
            description="AutoModelForCausalLM as a prefix LM (GLM) or AutoModelForSeq2SeqLM (T5, BART)",
        )
    ]


@hookimpl
def glmtasks_register_datamodules():
    """Document/summary pairs from csv/tsv/json(l)/parquet files, or generated match reports."""
    return [
        DataModuleSpec(
            name="summarization",
            factory=f"{_PACKAGE}.data:SummarizationDataModule",
            config_class=f"{_PACKAGE}.config:SummarizationDataConfig",
            description="document/summary pairs from files or the hub (lists of sentences or references) or a demo set",
        )
    ]


@hookimpl
def glmtasks_register_metrics():
    """ROUGE F-measures (rouge-score; mean over examples, 0-100)."""
    return [
        MetricSpec(name=name, factory=f"{_PACKAGE}.metrics:{name}", description=description)
        for name, description in [
            ("rouge1", "ROUGE-1 F (unigrams)"),
            ("rouge2", "ROUGE-2 F (bigrams)"),
            ("rougeL", "ROUGE-L F (longest common subsequence)"),
            ("rougeLsum", "ROUGE-Lsum F (LCS over sentences split on lines)"),
        ]
    ]


@hookimpl
def glmtasks_register_config_dirs():
    """``task/``, ``data/``, ``experiment/`` and ``hparams_search/`` configs of this plugin."""
    return [Path(__file__).parent / "conf"]


@hookimpl
def glmtasks_draw_figures(run):
    """ROUGE-L by reference length of a summarization run."""
    if run.task != "summarization":
        return []
    from glmtasks_summarization.figures import rouge_by_length_figure

    figure = rouge_by_length_figure(run)
    return [figure] if figure else []
