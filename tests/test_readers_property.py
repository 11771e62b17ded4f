"""Property-based tests of the shared readers (hypothesis): random tables read back exactly; junk fails cleanly.

Valid input: random tables (2-4 uniquely named columns, 1-6 rows) whose cells are random text:
empty cells, spaces, commas, quotes, line breaks, non-ASCII letters and the words pandas would
turn into NaN or numbers ("nan", "NULL", "1", "01", "1.0"); written as csv (quoted as the csv
module quotes), tsv (cells without tabs or line breaks, as tsv allows), and JSON lines with one
type per column (text, integers or booleans, nulls allowed). Every cell must come back exactly:
csv/tsv cells as the text written, JSON values with their types.
Invalid input: random bytes named .csv/.tsv/.jsonl; reading must either succeed or raise the
framework's DataError, never anything else.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glmtasks.data import read_records
from glmtasks.errors import DataError

TRICKY = ["", " ", "nan", "NaN", "NULL", "None", "N/A", "1", "01", "1.0", "-3", "true", "#x", "a,b", 'say "hi"', "two\nlines", "é中文"]
names = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), min_size=2, max_size=4, unique=True)
text = st.one_of(st.sampled_from(TRICKY), st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"), max_size=12))
tsv_text = text.filter(lambda s: not any(c in s for c in "\t\n\r"))
EXAMPLES = 60
TRIED = {"csv": 0, "tsv": 0, "jsonl": 0, "junk": 0}


def table(cells):
    return names.flatmap(lambda cols: st.tuples(st.just(cols), st.lists(st.lists(cells, min_size=len(cols), max_size=len(cols)), min_size=1, max_size=6)))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=table(text))
def test_csv_cells_read_back_as_written(tmp_path_factory, data):
    columns, rows = data
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    TRIED["csv"] += 1
    records = read_records(path, "train_file")
    assert records == [dict(zip(columns, row)) for row in rows]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=table(tsv_text))
def test_tsv_cells_read_back_as_written(tmp_path_factory, data):
    columns, rows = data
    path = tmp_path_factory.mktemp("tsv") / "t.tsv"
    path.write_text("\n".join("\t".join(row) for row in [columns, *rows]) + "\n", encoding="utf-8")
    TRIED["tsv"] += 1
    assert read_records(path, "train_file") == [dict(zip(columns, row)) for row in rows]


json_column = st.sampled_from([text, st.integers(-10**6, 10**6), st.booleans()]).map(lambda values: st.one_of(values, st.none()))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=names.flatmap(lambda cols: st.tuples(st.just(cols), st.tuples(*[json_column for _ in cols]))).flatmap(
    lambda spec: st.tuples(st.just(spec[0]), st.lists(st.tuples(*[column for column in spec[1]]).map(list), min_size=1, max_size=6))))
def test_json_lines_read_back_with_their_types(tmp_path_factory, data):
    columns, rows = data
    path = tmp_path_factory.mktemp("jsonl") / "t.jsonl"
    expected = [dict(zip(columns, row)) for row in rows]
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in expected), encoding="utf-8")
    TRIED["jsonl"] += 1
    assert read_records(path, "train_file") == expected


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=st.binary(min_size=0, max_size=200), suffix=st.sampled_from([".csv", ".tsv", ".jsonl"]))
def test_junk_bytes_read_or_fail_with_a_data_error(tmp_path_factory, payload, suffix):
    path = tmp_path_factory.mktemp("junk") / f"t{suffix}"
    path.write_bytes(payload)
    TRIED["junk"] += 1
    try:
        read_records(path, "train_file")
    except DataError as error:
        assert "\n" not in str(error)


def test_report_how_many_inputs_were_tried(capsys):
    if not any(TRIED.values()):
        pytest.skip("run with the property tests above")
    with capsys.disabled():
        print(f"\nreader property tests tried {sum(TRIED.values())} inputs: {TRIED}")
    assert all(count >= 1 for count in TRIED.values())
