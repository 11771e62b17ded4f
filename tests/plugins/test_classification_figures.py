"""The classification plugin's report figure: the confusion matrix drawn from predictions.jsonl."""

from __future__ import annotations

from figure_helpers import draw, fake_run
from glmtasks_classification import plugin
from glmtasks_classification.figures import MAX_LABELS, confusion_counts


def test_confusion_counts_rows_are_gold_columns_predicted():
    names, counts = confusion_counts([("a", "a"), ("a", "b"), ("b", "b"), ("c", "a")], ["a", "b"])
    assert names == ["a", "b", "c"], "a label seen only in the data is added"
    assert counts == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_many_labels_keep_the_most_frequent_and_sum_the_rest():
    pairs = [(f"l{i}", f"l{i}") for i in range(60) for _ in range(60 - i)]
    names, counts = confusion_counts(pairs, [f"l{i}" for i in range(60)])
    assert len(names) == MAX_LABELS and names[-1] == "other" and names[0] == "l0"
    assert sum(map(sum, counts)) == len(pairs) and counts[-1][-1] == sum(60 - i for i in range(MAX_LABELS - 1, 60))


def test_the_hook_draws_the_matrix_for_classification_runs_only(tmp_path):
    predictions = [{"text": "x", "label": gold, "prediction": guess, "index": i}
                   for i, (gold, guess) in enumerate([("negative", "negative"), ("positive", "negative"), ("positive", "positive")])]
    run = fake_run(tmp_path / "run", "sentiment", predictions, task_info={"labels": ["negative", "positive"]})
    (figure,) = plugin.glmtasks_draw_figures(run)
    assert figure.name == "confusion_matrix"
    drawn = draw(figure, tmp_path / "cm.png")
    ax = drawn.axes[0]
    assert [t.get_text() for t in ax.texts] == ["1", "0", "1", "1"] and "accuracy 0.667" in ax.get_title()
    assert plugin.glmtasks_draw_figures(fake_run(tmp_path / "other", "ner", predictions)) == []


def test_predictions_without_gold_labels_give_no_figure(tmp_path):
    run = fake_run(tmp_path / "run", "classification", [{"text": "x", "prediction": "a", "index": 0}])
    assert plugin.glmtasks_draw_figures(run) == []
