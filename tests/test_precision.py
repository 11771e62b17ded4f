"""trainer.precision=auto: bf16 mixed precision where the hardware computes bf16 natively, 32-bit elsewhere."""

from __future__ import annotations

import json

import pytest
import torch

from glmtasks import precision
from glmtasks.precision import choose_precision, resolve_precision


@pytest.fixture
def cpu(monkeypatch):
    """Set which bf16 features the CPU reports."""

    def set_features(amx: bool = False, avx512_bf16: bool = False) -> None:
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16, raising=False)

    return set_features


@pytest.mark.parametrize("amx,avx512_bf16,used,feature", [
    (True, True, "bf16-mixed", "AMX"),
    (False, True, "bf16-mixed", "AVX512-BF16"),
    (False, False, "32-true", "emulated"),
])
def test_auto_on_the_cpu_follows_its_bf16_features(cpu, amx, avx512_bf16, used, feature):
    cpu(amx=amx, avx512_bf16=avx512_bf16)
    choice = choose_precision({"accelerator": "cpu", "precision": "auto"})
    assert choice.used == used and feature in choice.reason and choice.requested == "auto"


@pytest.mark.parametrize("width,used", [(128, "32-true"), (255, "32-true"), (256, "bf16-mixed"), (384, "bf16-mixed"), (None, "bf16-mixed")])
def test_auto_on_the_cpu_keeps_narrow_models_in_fp32(cpu, width, used):
    """bf16 kernels beat fp32 on the CPU only for wide enough matrices (glm-tiny's 128 loses, MiniLM's 384 gains)."""
    from types import SimpleNamespace

    cpu(avx512_bf16=True)
    backbone = torch.nn.Linear(2, 2)
    backbone.config = SimpleNamespace(hidden_size=width) if width else SimpleNamespace()
    head = torch.nn.Sequential(torch.nn.Identity(), backbone)
    choice = choose_precision({"accelerator": "cpu", "precision": "auto"}, head)
    assert choice.used == used
    if used == "32-true":
        assert f"hidden size {width} (< 256)" in choice.reason


def test_model_width_reads_the_usual_config_names():
    from types import SimpleNamespace

    for key in ("hidden_size", "d_model", "n_embd", "dim"):
        assert precision.model_width(SimpleNamespace(config=SimpleNamespace(**{key: 512}))) == 512
    assert precision.model_width(torch.nn.Linear(2, 2)) is None


def test_an_explicit_precision_always_wins(cpu):
    cpu(avx512_bf16=True)
    assert choose_precision({"accelerator": "cpu", "precision": "32-true"}).used == "32-true"
    cpu(avx512_bf16=False)
    assert resolve_precision({"accelerator": "cpu", "precision": "bf16-mixed", "devices": 1}) == {"accelerator": "cpu", "precision": "bf16-mixed", "devices": 1}


@pytest.mark.parametrize("capability,used", [((9, 0), "bf16-mixed"), ((8, 0), "bf16-mixed"), ((7, 0), "32-true")])
def test_auto_on_a_gpu_wants_native_bf16(monkeypatch, capability, used):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: capability)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Some GPU")
    for accelerator in ("gpu", "cuda", "auto"):
        assert choose_precision({"accelerator": accelerator, "precision": "auto"}).used == used


def test_other_accelerators_get_32_bit():
    assert choose_precision({"accelerator": "mps", "precision": "auto"}).used == "32-true"


def test_a_probe_that_fails_counts_as_no_feature(monkeypatch):
    def broken():
        raise RuntimeError("not built with this kernel")

    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", broken, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    assert precision.cpu_bf16_feature() is None


def test_the_run_records_and_uses_its_choice(sentiment_task_run):
    """The shared tiny run used the default: metrics.json says what auto chose and why, and the trainer ran it."""
    from types import SimpleNamespace

    metrics = json.loads((sentiment_task_run.run_dir / "metrics.json").read_text())
    tiny = SimpleNamespace(config=SimpleNamespace(hidden_size=64))  # the test backbone (glmtasks.testing.TINY_OVERRIDES)
    expected = choose_precision({"accelerator": "cpu", "precision": "auto"}, tiny)
    assert metrics["precision"] == expected.as_dict()
    assert f"precision: {expected.used} ({expected.reason}" in sentiment_task_run.stdout + sentiment_task_run.stderr
