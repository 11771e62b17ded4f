"""Report figure of classification runs: the confusion matrix of the predicted split (from predictions.jsonl)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from glmtasks.api import ReportFigure, RunFiles

MAX_LABELS = 40
"""Above this many labels only the most frequent gold labels get a row and column (the rest are summed into "other")."""


def confusion_counts(pairs: Sequence[tuple[str, str]], labels: Sequence[str]) -> tuple[list[str], list[list[int]]]:
    """(axis labels, counts[gold][predicted]) over ``labels``; with more than :data:`MAX_LABELS` labels the
    least frequent gold labels are merged into ``other``."""
    frequency: dict[str, int] = {}
    for gold, _ in pairs:
        frequency[gold] = frequency.get(gold, 0) + 1
    names = list(labels) or sorted(frequency)
    names += sorted({label for pair in pairs for label in pair} - set(names))
    if len(names) > MAX_LABELS:
        names = sorted(names, key=lambda n: -frequency.get(n, 0))[: MAX_LABELS - 1] + ["other"]
    position = {name: i for i, name in enumerate(names)}
    counts = [[0] * len(names) for _ in names]
    for gold, predicted in pairs:
        counts[position.get(gold, len(names) - 1)][position.get(predicted, len(names) - 1)] += 1
    return names, counts


def confusion_matrix_figure(run: RunFiles) -> Optional[ReportFigure]:
    """The confusion matrix (rows: gold label, columns: predicted; colour: share of the row, text: count),
    or None when predictions.jsonl has no gold labels."""
    pairs = [(str(r["label"]), str(r["prediction"])) for r in run.predictions() if r.get("label") is not None and "prediction" in r]
    if not pairs:
        return None
    names, counts = confusion_counts(pairs, [str(label) for label in run.task_info.get("labels", [])])
    correct = sum(counts[i][i] for i in range(len(names)))

    def draw(figure: Any) -> None:
        size = max(4.0, min(14.0, 0.45 * len(names) + 3))
        figure.set_size_inches(size + 1.5, size)
        ax = figure.add_subplot(1, 1, 1)
        shares = [[c / max(1, sum(row)) for c in row] for row in counts]
        image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        figure.colorbar(image, ax=ax, label="share of the gold label's examples")
        ticks = range(len(names))
        ax.set_xticks(ticks, names, rotation=45 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center", fontsize=8)
        ax.set_yticks(ticks, names, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        if len(names) <= 20:
            for i, row in enumerate(counts):
                for j, count in enumerate(row):
                    ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color="white" if shares[i][j] > 0.5 else "black")
        ax.set_title(f"{len(pairs)} predictions, accuracy {correct / len(pairs):.3f}")

    return ReportFigure(name="confusion_matrix", draw=draw, title=f"confusion matrix ({run.task})")
