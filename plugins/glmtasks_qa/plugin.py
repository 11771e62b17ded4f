"""Hook implementations of the question-answering plugin (registrations only; no heavy imports)."""

from pathlib import Path

from glmtasks.api import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec, hookimpl

_PACKAGE = "glmtasks_qa"


@hookimpl
def glmtasks_register_tasks():
    """Extractive question answering: the answer is a span of the context."""
    return [
        TaskSpec(
            name="qa",
            description="extractive question answering on SQuAD-format data (English or Chinese)",
            head="span_extraction",
            datamodule="squad",
            metrics=("squad_f1",),
            monitor="squad_f1",
        )
    ]


@hookimpl
def glmtasks_register_heads():
    """Start/end logits per token with n-best span decoding."""
    return [
        HeadSpec(
            name="span_extraction",
            factory=f"{_PACKAGE}.heads:make_span_extraction_head",
            config_class=f"{_PACKAGE}.config:SpanExtractionConfig",
            description="AutoModelForQuestionAnswering, or AutoModel + linear span layer (GLM)",
        )
    ]


@hookimpl
def glmtasks_register_datamodules():
    """SQuAD-format JSON (plain, .gz, .zip), a SQuAD-like hub dataset or generated demo data, cut into strided windows."""
    return [
        DataModuleSpec(
            name="squad",
            factory=f"{_PACKAGE}.data:QADataModule",
            config_class=f"{_PACKAGE}.config:QADataConfig",
            description="SQuAD-format JSON with article slices, a SQuAD-like hub dataset, or a generated demo set; strided windows",
        )
    ]


@hookimpl
def glmtasks_register_metrics():
    """SQuAD EM and F1 per question over all its windows and references."""
    return [
        MetricSpec(
            name="squad_f1",
            factory=f"{_PACKAGE}.metrics:squad_f1",
            description="SQuAD F1 and exact match (logged as squad_f1, squad_em), per question",
        )
    ]


@hookimpl
def glmtasks_register_config_dirs():
    """``task/qa.yaml``, ``data/{qa,squad,cmrc2018}.yaml``, ``experiment/`` and ``hparams_search/qa.yaml`` configs."""
    return [Path(__file__).parent / "conf"]


@hookimpl
def glmtasks_draw_figures(run):
    """F1 by question type (first wh-word) and by answer length of a QA run."""
    if run.task != "qa":
        return []
    from glmtasks_qa.figures import qa_breakdown_figure

    figure = qa_breakdown_figure(run)
    return [figure] if figure else []
