"""Report figure of NER runs: precision, recall and F1 per entity type (metrics.json), with gold counts (predictions.jsonl)."""

from __future__ import annotations

from typing import Any, Optional

from glmtasks.api import ReportFigure, RunFiles

_SCORES = ("precision", "recall", "f1")


def per_type_scores(metrics: dict[str, float], prefix: str) -> dict[str, dict[str, float]]:
    """``{type: {"precision": p, "recall": r, "f1": f}}`` from ``<prefix>/<TYPE>_<score>`` entries (``entity`` is the overall score)."""
    found: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        if not key.startswith(prefix + "/"):
            continue
        name = key[len(prefix) + 1 :]
        entity_type, _, score = name.rpartition("_")
        if score in _SCORES and entity_type and entity_type != "entity":
            found.setdefault(entity_type, {})[score] = float(value)
    return {t: s for t, s in found.items() if all(k in s for k in _SCORES)}


def gold_counts(run: RunFiles) -> dict[str, int]:
    """Gold entities per type in predictions.jsonl (``B-``/``S-``/``U-`` tags start one)."""
    counts: dict[str, int] = {}
    for record in run.predictions():
        for tag in record.get("gold_tags") or []:
            if isinstance(tag, str) and tag[:2] in ("B-", "S-", "U-"):
                counts[tag[2:]] = counts.get(tag[2:], 0) + 1
    return counts


def entity_type_figure(run: RunFiles) -> Optional[ReportFigure]:
    """Grouped bars of precision, recall and F1 per entity type on the test split (the evaluated split for
    mode=evaluate, else validation when there is no test score); None when metrics.json has no per-type scores."""
    metrics = run.scalars()
    for prefix in ("test", "val"):
        scores = per_type_scores(metrics, prefix)
        if scores:
            break
    else:
        return None
    counts = gold_counts(run)
    types = sorted(scores)

    def draw(figure: Any) -> None:
        figure.set_size_inches(max(6.0, 1.3 * len(types) + 2), 4.5)
        ax = figure.add_subplot(1, 1, 1)
        width = 0.27
        for offset, score in enumerate(_SCORES):
            xs = [i + (offset - 1) * width for i in range(len(types))]
            values = [scores[t][score] for t in types]
            ax.bar(xs, values, width, label=score)
            for x, value in zip(xs, values):
                ax.text(x, value, f"{value:.2f}", ha="center", va="bottom", fontsize=7)
        labels = [f"{t}\n({counts[t]} gold)" if t in counts else t for t in types]
        ax.set_xticks(range(len(types)), labels)
        ax.set_ylim(0, 1.08)
        ax.set_ylabel(f"{prefix} score")
        overall = metrics.get(f"{prefix}/entity_f1")
        ax.set_title(f"per entity type ({prefix}){f', overall F1 {overall:.3f}' if overall is not None else ''}")
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)

    return ReportFigure(name="entity_types", draw=draw, title=f"entity-level precision / recall / F1 ({run.task})")
