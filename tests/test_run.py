"""End-to-end runs of the CLI on glm-tiny: outputs, export round-trip, user errors, no overwrites."""

from __future__ import annotations

import json
import random

import pytest

from conftest import TINY
from glmtasks.testing import run_task

SMALL_DEMO = ["data.demo_train_size=300", "data.demo_eval_size=64"]


def one_line_error(result) -> str:
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def sentiment_run(sentiment_task_run):
    """The session's tiny sentiment run (conftest), shared by the tests that inspect its outputs."""
    run = sentiment_task_run
    assert len(run.run_dirs()) == 1
    return run.run_dir, run.stdout


def test_run_directory_holds_config_checkpoints_metrics_predictions_export(sentiment_run):
    run_dir, stdout = sentiment_run
    assert "validation: val/accuracy=" in stdout and "test: test/accuracy=" in stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["monitor"] == "val/accuracy" and 0 <= metrics["val"]["val/accuracy"] <= 1
    assert {"test/accuracy", "test/macro_f1"} <= set(metrics["test"])
    assert (run_dir / "checkpoints" / "last.ckpt").is_file() and metrics["best_checkpoint"].endswith(".ckpt")
    assert "name: sentiment" in (run_dir / "config.yaml").read_text()
    predictions = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert [p["index"] for p in predictions] == list(range(64)), "one line per input, in input order"
    assert {"text", "label", "prediction", "score"} <= set(predictions[0])
    assert json.loads((run_dir / "export" / "glmtasks.json").read_text())["task_info"]["labels"] == ["negative", "positive"]
    assert not list(run_dir.glob("*.partial")) and not list(run_dir.glob("*.rank*.jsonl"))


def test_export_loads_in_a_plain_transformers_pipeline_with_the_same_labels(sentiment_run):
    from transformers import pipeline

    run_dir, _ = sentiment_run
    predictions = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    classifier = pipeline("text-classification", model=str(run_dir / "export"), device="cpu")
    outputs = classifier([p["text"] for p in predictions])
    assert [o["label"] for o in outputs] == [p["prediction"] for p in predictions]
    assert all(abs(o["score"] - p["score"]) < 1e-4 for o, p in zip(outputs, predictions))


def test_rerun_into_an_earlier_run_directory_is_refused_and_changes_nothing(sentiment_run, run_cli):
    run_dir, _ = sentiment_run
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    result = run_cli("task=sentiment", *TINY, *SMALL_DEMO, f"hydra.run.dir={run_dir}")
    assert "already holds metrics.json" in one_line_error(result)
    for path, content in before.items():
        if path.suffix != ".log":
            assert path.read_bytes() == content, f"{path} was modified"


def test_classification_of_sentence_pairs_with_labels_read_from_data(tmp_path, run_cli):
    rng = random.Random(0)
    rows = ["premise,hypothesis,relation"]
    for _ in range(120):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        relation = "same" if a == b else ("more" if a > b else "less")
        rows.append(f"there are {a} apples,there are {b} apples,{relation}")
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "dev.csv").write_text("\n".join(rows[:41]) + "\n")
    result = run_cli(
        "task=classification", *TINY, "data.source=files", f"data.train_file={tmp_path / 'train.csv'}",
        f"data.validation_file={tmp_path / 'dev.csv'}", "data.text_column=premise",
        "data.text_pair_column=hypothesis", "data.label_column=relation",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (run_dir,) = result.run_dirs()
    assert json.loads((run_dir / "export" / "config.json").read_text())["id2label"] == {"0": "less", "1": "more", "2": "same"}
    first = json.loads((run_dir / "predictions.jsonl").read_text().splitlines()[0])
    assert {"text", "text_pair", "label", "prediction"} <= set(first)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.tsv").write_text("sentence\tlabel\n" + "nice film\t1\nbad film\t0\n" * 20)
    (tmp_path / "bad_label.tsv").write_text("sentence\tlabel\nnice film\t1\nmeh\t7\n")
    (tmp_path / "header_only.tsv").write_text("sentence\tlabel\n")
    return tmp_path


def data_args(train, dev, *extra):
    return ["task=sentiment", "data=sst2", f"data.train_file={train}", f"data.validation_file={dev}", *TINY, *extra]


@pytest.mark.parametrize(
    "case,expected",
    [
        ("missing_file", "data file not found: "),
        ("missing_column", "column 'review' (data.text_column) not found in "),
        ("bad_label", "label 7 in row 2 of the validation data is not one of the labels [negative, positive]"),
        ("empty", "has no rows"),
    ],
)
def test_data_errors_exit_2_with_one_line(files, run_cli, case, expected):
    good = files / "good.tsv"
    args = {
        "missing_file": data_args(files / "nope.tsv", good),
        "missing_column": data_args(good, good, "data.text_column=review"),
        "bad_label": data_args(good, files / "bad_label.tsv"),
        "empty": data_args(good, files / "header_only.tsv"),
    }[case]
    assert expected in one_line_error(run_cli(*args))


@pytest.mark.parametrize(
    "args,expected",
    [
        (["task=sentimnt"], "unknown task 'sentimnt' (did you mean 'sentiment'?)"),
        (["backbone=gml-tiny"], "unknown backbone 'gml-tiny'"),
        (["trainer.max_epoch=1"], "unknown config key 'trainer.max_epoch' (did you mean 'max_epochs'?)"),
        (["backbone=hf", "backbone.name_or_path=/no/such/model"], "cannot load tokenizer '/no/such/model'"),
    ],
)
def test_config_errors_exit_2_with_one_line(run_cli, args, expected):
    assert expected in one_line_error(run_cli(*args))


def test_test_predictions_come_from_the_test_pass_without_a_second_pass(tmp_path, monkeypatch):
    import lightning as L
    from omegaconf import OmegaConf

    from glmtasks.cli import compose, validate
    from glmtasks.run import train

    passes = []
    monkeypatch.setattr(L.Trainer, "predict", lambda self, *a, **k: passes.append("predict"))
    config = validate(OmegaConf.to_container(compose(["task=sentiment", *TINY, *SMALL_DEMO, f"paths.output_dir={tmp_path}"]), resolve=True))
    result = train(config)
    lines = [json.loads(line) for line in (tmp_path / result["run_dir"] / "predictions.jsonl").read_text().splitlines()]
    assert passes == [] and [line["index"] for line in lines] == list(range(64))
    assert sum(line["prediction"] == line["label"] for line in lines) / 64 == pytest.approx(result["test"]["test/accuracy"])


def test_a_predict_file_or_a_limited_test_pass_gets_its_own_predict_pass(tmp_path, monkeypatch):
    import lightning as L
    from omegaconf import OmegaConf

    from glmtasks.cli import compose, validate
    from glmtasks.run import train

    passes, original = [], L.Trainer.predict
    monkeypatch.setattr(L.Trainer, "predict", lambda self, *a, **k: passes.append("predict") or original(self, *a, **k))

    def run(*overrides):
        config = validate(OmegaConf.to_container(compose(["task=sentiment", *TINY, *SMALL_DEMO, *overrides]), resolve=True))
        result = train(config)
        return [json.loads(line) for line in (tmp_path / result["run_dir"] / "predictions.jsonl").read_text().splitlines()]

    inputs = tmp_path / "inputs.tsv"
    inputs.write_text("text\na great and moving film\na dull mess\n")
    lines = run(f"data.predict_file={inputs}", f"paths.output_dir={tmp_path / 'a'}")
    assert passes == ["predict"] and [line["text"] for line in lines] == ["a great and moving film", "a dull mess"]
    lines = run("++data.eval_batch_size=16", "+trainer.limit_test_batches=1", f"paths.output_dir={tmp_path / 'b'}")
    assert passes == ["predict", "predict"] and [line["index"] for line in lines] == list(range(64))


def test_without_test_data_the_last_validation_stands_in_for_the_test_pass(tmp_path, monkeypatch):
    """Same split, same weights: the scores and predictions equal those of a real test pass over the same file."""
    import lightning as L
    from omegaconf import OmegaConf

    from glmtasks.cli import compose, validate
    from glmtasks.run import train

    rng = random.Random(1)
    words = {"positive": ["great", "moving", "fine", "superb"], "negative": ["dull", "bad", "boring", "awful"]}
    rows = [(f"a {rng.choice(words[label])} {rng.choice(['film', 'plot', 'cast'])}", label) for label in ["positive", "negative"] * 60]
    for name, part in (("train.tsv", rows[:80]), ("dev.tsv", rows[80:])):
        (tmp_path / name).write_text("sentence\tlabel\n" + "".join(f"{text}\t{label}\n" for text, label in part))
    passes, original = [], L.Trainer.test
    monkeypatch.setattr(L.Trainer, "test", lambda self, *a, **k: passes.append("test") or original(self, *a, **k))

    def run(name, *overrides):
        args = data_args(tmp_path / "train.tsv", tmp_path / "dev.tsv", "data.labels=[negative,positive]", f"paths.output_dir={tmp_path / name}", *overrides)
        result = train(validate(OmegaConf.to_container(compose(args), resolve=True)))
        return result, (tmp_path / name / result["run_dir"] / "predictions.jsonl").read_text()

    reused, reused_predictions = run("reused")
    assert passes == [] and reused["test"] == {"test/" + k[4:]: v for k, v in reused["val"].items()}
    assert not list((tmp_path / "reused").rglob("*fit-validation*"))
    tested, tested_predictions = run("tested", f"data.test_file={tmp_path / 'dev.tsv'}")
    assert passes == ["test"]
    assert reused_predictions == tested_predictions and len(reused_predictions.splitlines()) == 40
    assert reused["test"] == pytest.approx(tested["test"], abs=1e-6)


def _composed(*overrides):
    from omegaconf import OmegaConf

    from glmtasks.cli import compose, validate

    return validate(OmegaConf.to_container(compose(list(overrides)), resolve=True))


def test_compile_pads_to_a_multiple_and_compiles_the_model_in_place():
    from types import SimpleNamespace

    from glmtasks.run import compile_backbone

    calls = []
    head = SimpleNamespace(model=SimpleNamespace(compile=lambda: calls.append("compiled")))
    chosen, unset = SimpleNamespace(config=SimpleNamespace(pad_to_multiple_of=8)), SimpleNamespace(config=SimpleNamespace(pad_to_multiple_of=None))
    compile_backbone(_composed("task=sentiment"), head, unset)
    assert calls == [] and unset.config.pad_to_multiple_of is None, "compile=false changes nothing"
    compile_backbone(_composed("task=sentiment", "compile=true"), head, unset)
    compile_backbone(_composed("task=sentiment", "compile=true"), head, chosen)
    assert calls == ["compiled", "compiled"] and unset.config.pad_to_multiple_of == 16 and chosen.config.pad_to_multiple_of == 8


def test_head_options_of_an_evaluate_command_replace_the_trained_ones():
    from glmtasks.registry import default_registry
    from glmtasks.run import changed_head_options, resolve_task

    registry = default_registry()
    config = _composed("task=translation", "task.head_config.num_beams=4")
    assert changed_head_options(config, resolve_task(config, registry), registry) == {"num_beams": 4}
    config = _composed("task=translation")
    assert changed_head_options(config, resolve_task(config, registry), registry) == {}
