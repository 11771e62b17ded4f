"""Report figure of QA runs: F1 by question type (the first wh-word) and by answer length, from predictions.jsonl."""

from __future__ import annotations

import re
from typing import Any, Optional, Sequence

from glmtasks.api import ReportFigure, RunFiles

WH_WORDS = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how")
ZH_WORDS = (("为什么", "why"), ("什么", "what"), ("哪", "which/where"), ("谁", "who"), ("何时", "when"), ("几", "how many"),
            ("多少", "how many"), ("怎么", "how"), ("如何", "how"))
LENGTH_BINS = ((1, 1), (2, 2), (3, 3), (4, 5), (6, 10), (11, None))
_WORD = re.compile(r"[a-z]+")


def question_type(question: str) -> str:
    """The question's first wh-word (``how``, ``what``...; a Chinese question word in English), else ``other``."""
    for word in _WORD.findall(question.lower()):
        if word in WH_WORDS:
            return word
    for marker, name in ZH_WORDS:
        if marker in question:
            return name
    return "other"


def answer_length(answer: str) -> int:
    """Words of an answer (characters for text without spaces, such as Chinese)."""
    words = answer.split()
    return len(words) if len(words) > 1 or answer.isascii() else len(answer.strip())


def length_bin(length: int) -> str:
    """The label of the :data:`LENGTH_BINS` bin holding ``length``."""
    for low, high in LENGTH_BINS:
        if length >= low and (high is None or length <= high):
            return str(low) if low == high else (f"{low}-{high}" if high else f"{low}+")
    return "0"


def scored_questions(run: RunFiles) -> list[tuple[str, str, float]]:
    """(question type, answer-length bin, F1) per answerable question of predictions.jsonl (F1 in percent like
    ``squad_f1``, best reference)."""
    from glmtasks_qa.metrics import score_answer

    language = run.task_info.get("language", "en")
    rows = []
    for record in run.predictions():
        answers: Sequence[str] = [a for a in record.get("answers") or [] if isinstance(a, str) and a.strip()]
        if not answers or "prediction" not in record:
            continue
        _, f1 = score_answer(str(record.get("prediction") or ""), answers, language)
        rows.append((question_type(str(record.get("question", ""))), length_bin(answer_length(answers[0])), 100 * f1))
    return rows


def _means(rows: list[tuple[str, float]], order: Sequence[str]) -> tuple[list[str], list[float], list[int]]:
    groups: dict[str, list[float]] = {}
    for key, value in rows:
        groups.setdefault(key, []).append(value)
    keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
    return keys, [sum(groups[k]) / len(groups[k]) for k in keys], [len(groups[k]) for k in keys]


def qa_breakdown_figure(run: RunFiles) -> Optional[ReportFigure]:
    """Two panels of mean F1 with question counts: by question type and by gold answer length; None without answers."""
    rows = scored_questions(run)
    if not rows:
        return None
    by_type = sorted({t for t, _, _ in rows}, key=lambda t: -sum(1 for r in rows if r[0] == t))
    bins = [length_bin(low) for low, _ in LENGTH_BINS]
    panels = [("question type (first wh-word)", _means([(t, f) for t, _, f in rows], by_type)),
              ("gold answer length (words)", _means([(b, f) for _, b, f in rows], bins))]
    overall = sum(f for _, _, f in rows) / len(rows)

    def draw(figure: Any) -> None:
        figure.set_size_inches(11, 4.2)
        for position, (title, (keys, means, counts)) in enumerate(panels, 1):
            ax = figure.add_subplot(1, 2, position)
            ax.bar(range(len(keys)), means, color="tab:green" if position == 1 else "tab:purple")
            ax.set_xticks(range(len(keys)), keys, rotation=30 if len(keys) > 6 else 0)
            for i, (mean, count) in enumerate(zip(means, counts)):
                ax.text(i, mean, f"{mean:.1f}\nn={count}", ha="center", va="bottom", fontsize=7)
            ax.axhline(overall, color="gray", linestyle="--", linewidth=1, label=f"all: {overall:.1f}")
            ax.set_ylim(0, 115)
            ax.set_xlabel(title)
            ax.set_ylabel("mean F1 (%)")
            ax.legend(fontsize=8, loc="upper right")
            ax.grid(axis="y", alpha=0.3)

    return ReportFigure(name="qa_breakdown", draw=draw, title=f"F1 by question type and answer length ({len(rows)} questions)")
