"""Report figure shared by generation tasks: a per-example score against the reference length (from predictions.jsonl).

A task plugin passes its own sentence-level scorer (ROUGE for summarization, chrF for
translation); this module bins the examples by the length of their first reference and
draws the mean score per bin with the number of examples, beside a scatter of every example.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from glmtasks.api import ReportFigure, RunFiles

BINS = 6
"""Length bins (equal-count quantiles of the reference lengths), fewer when there are few distinct lengths."""


def text_length(text: str) -> int:
    """Words of a text; characters for text without spaces (Chinese, Japanese)."""
    words = text.split()
    return len(words) if len(words) > 1 or text.isascii() else len(text.strip())


def length_bins(lengths: Sequence[int], count: int = BINS) -> list[tuple[int, int]]:
    """Up to ``count`` contiguous (low, high) ranges holding about equally many of ``lengths``."""
    ordered = sorted(lengths)
    if not ordered:
        return []
    edges: list[tuple[int, int]] = []
    step = len(ordered) / count
    start = 0
    for i in range(1, count + 1):
        end = len(ordered) if i == count else int(round(i * step))
        if end <= start:
            continue
        low, high = ordered[start], ordered[end - 1]
        if edges and low <= edges[-1][1]:
            low = edges[-1][1] + 1
        if low <= high:
            edges.append((low, high))
        start = end
    return edges


def scored_examples(run: RunFiles, score: Callable[[str, list[str]], float], hypothesis: str = "hypothesis",
                    references: str = "references") -> list[tuple[int, float]]:
    """(first reference's length, ``score(hypothesis, references)``) for every prediction with a reference.

    ``hypothesis`` and ``references`` name the fields of predictions.jsonl (a single reference
    string is taken as a list of one).
    """
    rows = []
    for record in run.predictions():
        given = record.get(references)
        given = [given] if isinstance(given, str) else given or []
        kept = [r for r in given if isinstance(r, str) and r.strip()]
        if not kept or not isinstance(record.get(hypothesis), str):
            continue
        rows.append((text_length(kept[0]), float(score(record[hypothesis], kept))))
    return rows


def score_by_length_figure(run: RunFiles, score: Callable[[str, list[str]], float], score_name: str,
                           hypothesis: str = "hypothesis", references: str = "references") -> Optional[ReportFigure]:
    """Mean ``score_name`` per reference-length bin (bars, with counts) and every example (scatter); None without references."""
    rows = scored_examples(run, score, hypothesis, references)
    if not rows:
        return None
    bins = length_bins([length for length, _ in rows])
    groups = [[s for length, s in rows if low <= length <= high] for low, high in bins]
    labels = [f"{low}" if low == high else f"{low}-{high}" for low, high in bins]
    overall = sum(s for _, s in rows) / len(rows)

    def draw(figure: Any) -> None:
        figure.set_size_inches(11, 4.2)
        ax = figure.add_subplot(1, 2, 1)
        means = [sum(g) / len(g) if g else 0.0 for g in groups]
        ax.bar(range(len(labels)), means, color="tab:orange")
        for i, (mean, group) in enumerate(zip(means, groups)):
            ax.text(i, mean, f"{mean:.1f}\nn={len(group)}", ha="center", va="bottom", fontsize=7)
        ax.axhline(overall, color="gray", linestyle="--", linewidth=1, label=f"all: {overall:.2f}")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel("reference length (words)")
        ax.set_ylabel(f"mean {score_name}")
        ax.set_ylim(0, max(means + [overall]) * 1.25 + 1e-9)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        scatter = figure.add_subplot(1, 2, 2)
        scatter.scatter([length for length, _ in rows], [s for _, s in rows], s=8, alpha=0.5)
        scatter.set_xlabel("reference length (words)")
        scatter.set_ylabel(score_name)
        scatter.set_title("every example")
        scatter.grid(alpha=0.3)

    return ReportFigure(name="score_by_length", draw=draw, title=f"{score_name} by reference length ({run.task}, {len(rows)} examples)")
