"""The QA plugin's report figure: F1 by question type (first wh-word) and by answer length."""

from __future__ import annotations

import pytest

from figure_helpers import draw, fake_run
from glmtasks_qa import plugin
from glmtasks_qa.figures import answer_length, length_bin, question_type


@pytest.mark.parametrize("question, expected", [
    ("What did Ann study?", "what"), ("In which year was it built?", "which"), ("How many people live there?", "how"),
    ("Name the river.", "other"), ("他什么时候出生？", "what"), ("为什么下雨？", "why"),
])
def test_question_type_is_the_first_wh_word(question, expected):
    assert question_type(question) == expected


def test_answer_length_bins():
    assert [length_bin(answer_length(a)) for a in ["Paris", "music theory", "a b c", "a b c d", "1 2 3 4 5 6 7", "北京大学"]] == ["1", "2", "3", "4-5", "6-10", "4-5"]


def test_the_hook_draws_mean_f1_per_type_and_length(tmp_path):
    predictions = [
        {"question": "What did Ann study?", "answers": ["music theory"], "prediction": "music theory"},
        {"question": "What did Bo study?", "answers": ["law"], "prediction": "history"},
        {"question": "Where was Cy born?", "answers": ["Rosvik"], "prediction": "in Rosvik"},
        {"question": "Where is it?", "answers": [], "prediction": "x"},  # unanswerable: not scored
    ]
    run = fake_run(tmp_path / "run", "qa", predictions, task_info={"language": "en"})
    (figure,) = plugin.glmtasks_draw_figures(run)
    by_type, by_length = draw(figure, tmp_path / "qa.png").axes
    assert [t.get_text() for t in by_type.get_xticklabels()] == ["what", "where"]
    assert [round(p.get_height(), 1) for p in by_type.patches] == [50.0, 66.7]
    assert [t.get_text() for t in by_length.get_xticklabels()] == ["1", "2"]
    assert plugin.glmtasks_draw_figures(fake_run(tmp_path / "n", "ner", predictions)) == []
