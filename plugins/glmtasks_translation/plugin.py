"""Hook implementations of the translation plugin (registrations only; no heavy imports)."""

from pathlib import Path

from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl

_PACKAGE = "glmtasks_translation"


@hookimpl
def glmtasks_register_tasks():
    """Machine translation in the direction data.source_lang -> data.target_lang, scored with sacreBLEU."""
    return [
        TaskSpec(
            name="translation",
            description="machine translation (GLM prefix LM or T5/BART), sacreBLEU and chrF",
            head="translation_lm",
            datamodule="translation",
            metrics=("sacrebleu", "chrf"),
            monitor="sacrebleu",
        )
    ]


@hookimpl
def glmtasks_register_heads():
    """The shared conditional-generation head (decoder-only prefix LM or encoder-decoder)."""
    return [
        HeadSpec(
            name="translation_lm",
            factory="glmtasks_generation.heads:make_generation_head",
            config_class="glmtasks_generation.config:GenerationHeadConfig",
            description="AutoModelForCausalLM as a prefix LM (GLM) or AutoModelForSeq2SeqLM (T5, BART)",
        )
    ]


@hookimpl
def glmtasks_register_datamodules():
    """Sentence pairs from line-aligned text files, tables, or the generated en<->toy corpus."""
    return [
        DataModuleSpec(
            name="translation",
            factory=f"{_PACKAGE}.data:TranslationDataModule",
            config_class=f"{_PACKAGE}.config:TranslationDataConfig",
            description="parallel text files (train.{lang}.gz), tables with a column per language, or a demo corpus",
        )
    ]


@hookimpl
def glmtasks_register_metrics():
    """Corpus BLEU and chrF (sacreBLEU; the signature goes to metrics.json)."""
    return [
        MetricSpec(name="sacrebleu", factory=f"{_PACKAGE}.metrics:sacrebleu", description="corpus BLEU (sacreBLEU), signature in metrics.json"),
        MetricSpec(name="chrf", factory=f"{_PACKAGE}.metrics:chrf", description="corpus chrF (sacreBLEU)"),
    ]


@hookimpl
def glmtasks_register_config_dirs():
    """``task/``, ``data/``, ``experiment/`` and ``hparams_search/`` configs of this plugin."""
    return [Path(__file__).parent / "conf"]


@hookimpl
def glmtasks_draw_figures(run):
    """Sentence chrF by reference length of a translation run."""
    if run.task != "translation":
        return []
    from glmtasks_translation.figures import chrf_by_length_figure

    figure = chrf_by_length_figure(run)
    return [figure] if figure else []
