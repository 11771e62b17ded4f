"""The NER plugin's report figure: precision, recall and F1 bars per entity type."""

from __future__ import annotations

from figure_helpers import draw, fake_run
from glmtasks_ner import plugin
from glmtasks_ner.figures import gold_counts, per_type_scores

METRICS = {"test/entity_f1": 0.5, "test/loss": 1.0}
for entity_type, (p, r, f) in {"PER": (0.9, 0.8, 0.85), "LOC": (0.5, 0.25, 1 / 3)}.items():
    METRICS |= {f"test/{entity_type}_precision": p, f"test/{entity_type}_recall": r, f"test/{entity_type}_f1": f}


def test_per_type_scores_are_read_from_metric_names():
    scores = per_type_scores(METRICS, "test")
    assert scores == {"PER": {"precision": 0.9, "recall": 0.8, "f1": 0.85}, "LOC": {"precision": 0.5, "recall": 0.25, "f1": 1 / 3}}
    assert per_type_scores(METRICS, "val") == {}


def test_the_hook_draws_three_bars_per_type_with_gold_counts(tmp_path):
    predictions = [{"gold_tags": ["B-PER", "I-PER", "O", "B-LOC"], "index": 0}, {"gold_tags": ["B-PER", "O"], "index": 1}]
    run = fake_run(tmp_path / "run", "ner", predictions, metrics={"test": METRICS})
    assert gold_counts(run) == {"PER": 2, "LOC": 1}
    (figure,) = plugin.glmtasks_draw_figures(run)
    ax = draw(figure, tmp_path / "ner.png").axes[0]
    assert len(ax.patches) == 6 and [t.get_text() for t in ax.get_xticklabels()] == ["LOC\n(1 gold)", "PER\n(2 gold)"]
    assert sorted(round(p.get_height(), 2) for p in ax.patches) == [0.25, 0.33, 0.5, 0.8, 0.85, 0.9]


def test_an_evaluate_run_uses_its_evaluated_split_and_other_tasks_get_nothing(tmp_path):
    validation = {k.replace("test/", "val/"): v for k, v in METRICS.items()}
    run = fake_run(tmp_path / "eval", "ner", [], metrics={"mode": "evaluate", "test": None, "val": None, "metrics": validation})
    (figure,) = plugin.glmtasks_draw_figures(run)
    assert "(val)" in draw(figure, tmp_path / "eval.png").axes[0].get_title()
    assert plugin.glmtasks_draw_figures(fake_run(tmp_path / "qa", "qa", [], metrics={"test": METRICS})) == []
