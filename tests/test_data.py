"""Shared data machinery: file reading errors, batch samplers, padding."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from glmtasks.data import LengthGroupedBatchSampler, PadCollator, SortedEvalBatchSampler, read_table, require_columns, shard_bounds
from glmtasks.errors import DataError


def test_pad_collator_pads_right_and_left_with_field_specific_values():
    features = [
        {"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1], "labels": [1, 2, 3], "index": 0},
        {"input_ids": [8], "attention_mask": [1], "labels": [4], "index": 1},
    ]
    right = PadCollator(pad_id=0)(features)
    assert right["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert right["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert right["labels"].tolist() == [[1, 2, 3], [4, -100, -100]]
    assert right["index"].tolist() == [0, 1]
    left = PadCollator(pad_id=9, padding_side="left")(features)
    assert left["input_ids"].tolist() == [[5, 6, 7], [9, 9, 8]]


def test_length_grouped_batches_cover_every_example_once_and_group_lengths():
    lengths = [i % 37 + 1 for i in range(1000)]
    sampler = LengthGroupedBatchSampler(lengths, batch_size=16, seed=3)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)
    assert spread < 3, "batches should hold examples of similar length"
    sampler.set_epoch(1)
    assert list(sampler) != batches, "a new epoch reshuffles"


def test_length_grouped_batches_shard_across_ranks_with_equal_step_counts():
    lengths = list(range(1, 102))
    shards = [list(LengthGroupedBatchSampler(lengths, 10, seed=0, rank=r, world_size=2)) for r in range(2)]
    assert len(shards[0]) == len(shards[1]) == len(LengthGroupedBatchSampler(lengths, 10, rank=0, world_size=2))
    seen = [i for shard in shards for b in shard for i in b]
    assert len(seen) == len(set(seen)), "no example on two ranks"


@pytest.mark.parametrize("size,world", [(10, 2), (11, 2), (7, 3), (1, 4), (0, 2), (5, 4), (9, 4)])
def test_eval_sharding_covers_each_example_exactly_once(size, world):
    lengths = [(i * 7) % 5 for i in range(size)]
    counts = Counter(i for r in range(world) for b in SortedEvalBatchSampler(lengths, 3, r, world) for i in b)
    assert sorted(counts) == list(range(size)) and set(counts.values()) <= {1}
    sizes = [e - s for s, e in (shard_bounds(size, r, world) for r in range(world))]
    assert sum(sizes) == size and max(sizes) - min(sizes) <= 1, "balanced: no rank idle while another has two more"


def test_read_table_formats(tmp_path):
    (tmp_path / "a.csv").write_text("text,label\nhello,pos\n")
    (tmp_path / "a.tsv").write_text('text\tlabel\nsay "hi\tneg\n')
    (tmp_path / "a.jsonl").write_text('{"text": "x", "label": 1}\n')
    assert read_table(tmp_path / "a.csv", "train_file")["text"] == ["hello"]
    assert read_table(tmp_path / "a.tsv", "train_file")["text"] == ['say "hi'], "quotes in TSV are text"
    assert read_table(tmp_path / "a.jsonl", "train_file")["label"] == [1]


def test_read_table_errors_name_the_key_and_fix(tmp_path):
    with pytest.raises(DataError, match=r"data file not found: .*nope.csv \(data.train_file\); fix the path with data.train_file="):
        read_table(tmp_path / "nope.csv", "train_file")
    (tmp_path / "empty.csv").write_text("text,label\n")
    with pytest.raises(DataError, match="has no rows"):
        read_table(tmp_path / "empty.csv", "validation_file")
    (tmp_path / "a.xyz").write_text("x")
    with pytest.raises(DataError, match="set data.format="):
        read_table(tmp_path / "a.xyz", "train_file")


def test_require_columns_lists_the_columns_there_are(tmp_path):
    (tmp_path / "a.csv").write_text("sentence,label\nhello,pos\n")
    dataset = read_table(tmp_path / "a.csv", "train_file")
    with pytest.raises(DataError, match=r"column 'text' \(data.text_column\) not found in a.csv; its columns are sentence, label"):
        require_columns(dataset, {"text_column": "text"}, "a.csv")


def test_pad_rows_keeps_the_dtype_torch_would_infer_and_pads_either_side():
    from glmtasks.data import pad_rows

    ints = pad_rows([[1, 2, 3], [], [4]], pad=-1)
    assert ints.dtype == torch.int64 and ints.tolist() == [[1, 2, 3], [-1, -1, -1], [4, -1, -1]]
    assert pad_rows([[1, 2], [3]], pad=0, side="left").tolist() == [[1, 2], [0, 3]]
    floats = pad_rows([[0.5], [0.25, 1.0]], pad=0)
    assert floats.dtype == torch.float32 and floats.tolist() == [[0.5, 0.0], [0.25, 1.0]]
    assert pad_rows([[True], [False, True]], pad=False).dtype == torch.bool
    assert pad_rows([(7, 8), (9,)], pad=0).tolist() == [[7, 8], [9, 0]], "tuples too"
    mixed = pad_rows([[1], [2, 0.5]], pad=0)
    assert mixed.dtype == torch.float32 and mixed.tolist() == [[1.0, 0.0], [2.0, 0.5]], "a float anywhere makes floats"
    assert pad_rows([[], []], pad=0).dtype == torch.int64
    with pytest.raises(TypeError, match="rows must hold numbers"):
        pad_rows([["12"], ["7"]], pad=0)


def test_pad_rows_rounds_the_width_up_to_a_multiple_and_the_collator_passes_it_on():
    from glmtasks.data import PadCollator, pad_rows

    assert pad_rows([[1, 2, 3], [4]], pad=0, multiple_of=4).tolist() == [[1, 2, 3, 0], [4, 0, 0, 0]]
    assert pad_rows([[1, 2, 3, 4], [5]], pad=0, multiple_of=4).shape == (2, 4), "already a multiple: unchanged"
    assert pad_rows([[1], [2, 3]], pad=0, side="left", multiple_of=3).tolist() == [[0, 0, 1], [0, 2, 3]]
    batch = PadCollator(pad_id=9, pad_to_multiple_of=8)([{"input_ids": [1, 2], "labels": [5], "label": 1}])
    assert batch["input_ids"].tolist() == [[1, 2] + [9] * 6] and batch["labels"].tolist() == [[5] + [-100] * 7]
