"""The generation plugins' report figure (shared in glmtasks_generation): score by reference length."""

from __future__ import annotations

from figure_helpers import draw, fake_run
from glmtasks_generation.figures import length_bins, text_length
from glmtasks_summarization import plugin as summarization
from glmtasks_translation import plugin as translation


def test_length_bins_hold_about_equal_counts_and_never_overlap():
    bins = length_bins([1, 1, 1, 2, 2, 3, 5, 8, 13, 21, 34, 55], count=4)
    assert bins == [(1, 1), (2, 3), (5, 13), (21, 55)]
    assert length_bins([4, 4, 4], count=6) == [(4, 4)] and length_bins([]) == []
    assert text_length("the cat sat") == 3 and text_length("今天下雨") == 4


PREDICTIONS = [
    {"source": "s", "references": ["the cat sat on the mat"], "hypothesis": "the cat sat on the mat"},
    {"source": "s", "references": ["a dog"], "hypothesis": "a cat"},
    {"source": "s", "references": ["one two three four five six seven eight"], "hypothesis": "nothing alike"},
    {"source": "s", "references": [], "hypothesis": "no reference: not scored"},
]


def test_summarization_draws_rouge_l_by_reference_length(tmp_path):
    run = fake_run(tmp_path / "run", "summarization", PREDICTIONS, task_info={"language": "en"})
    (figure,) = summarization.glmtasks_draw_figures(run)
    assert figure.name == "score_by_length" and "ROUGE-L" in figure.title and "3 examples" in figure.title
    bars, scatter = draw(figure, tmp_path / "s.png").axes
    assert [t.get_text() for t in bars.get_xticklabels()] == ["2", "6", "8"]
    assert [round(p.get_height(), 1) for p in bars.patches] == [50.0, 100.0, 0.0]
    assert len(scatter.collections[0].get_offsets()) == 3


def test_translation_draws_sentence_chrf_and_ignores_other_tasks(tmp_path):
    run = fake_run(tmp_path / "run", "translation", PREDICTIONS)
    (figure,) = translation.glmtasks_draw_figures(run)
    bars, _ = draw(figure, tmp_path / "t.png").axes
    heights = [p.get_height() for p in bars.patches]
    assert heights[1] == 100.0 and heights[2] < 10
    assert translation.glmtasks_draw_figures(fake_run(tmp_path / "s", "summarization", PREDICTIONS)) == []
    assert summarization.glmtasks_draw_figures(run) == []


def test_chat_draws_reply_rouge_l_from_its_own_fields(tmp_path):
    from glmtasks_chat import plugin as chat

    predictions = [{"messages": [], "reference": "see you at noon", "reply": "see you at noon"},
                   {"messages": [], "reference": "明天见", "reply": "明天见"},
                   {"messages": [], "reply": "no reference: an input to predict"}]
    run = fake_run(tmp_path / "run", "chat", predictions, task_info={"language": "zh"})  # unicode tokens: both scripts score
    (figure,) = chat.glmtasks_draw_figures(run)
    assert "reply ROUGE-L" in figure.title and "2 examples" in figure.title
    bars, _ = draw(figure, tmp_path / "c.png").axes
    assert [p.get_height() for p in bars.patches] == [100.0, 100.0]
    assert chat.glmtasks_draw_figures(fake_run(tmp_path / "t", "translation", PREDICTIONS)) == []
