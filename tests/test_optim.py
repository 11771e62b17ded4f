"""Optimizer parameter groups and learning-rate schedules."""

from __future__ import annotations

import pytest
import torch

from glmtasks.config import OptimizerConfig, SchedulerConfig
from glmtasks.errors import ConfigError
from glmtasks.optim import build_optimizer, lr_multiplier, warmup_steps


def test_no_weight_decay_on_biases_and_norms():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    optimizer = build_optimizer(model, OptimizerConfig(lr=0.1, weight_decay=0.5))
    decays = sorted((g["weight_decay"], sum(p.numel() for p in g["params"])) for g in optimizer.param_groups)
    assert decays == [(0.0, 4 + 4 + 4), (0.5, 16)]


def test_unknown_optimizer_and_argument_fail_clearly():
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ConfigError, match="unknown optimizer.name 'Adamm'"):
        build_optimizer(model, OptimizerConfig(name="Adamm"))
    with pytest.raises(ConfigError, match="'optimizer.kwargs.betaz'"):
        build_optimizer(model, OptimizerConfig(kwargs={"betaz": [0.9, 0.9]}))


def test_warmup_as_ratio_or_steps():
    assert warmup_steps(SchedulerConfig(warmup_steps=0.1), 200) == 20
    assert warmup_steps(SchedulerConfig(warmup_steps=7), 200) == 7


@pytest.mark.parametrize("name,end", [("linear", 0.0), ("cosine", 0.0), ("constant", 1.0)])
def test_schedules_warm_up_to_peak_then_follow_their_shape(name, end):
    f = lr_multiplier(SchedulerConfig(name=name, warmup_steps=10), 100)
    assert f(0) == pytest.approx(1 / 11)
    assert f(10) == pytest.approx(1.0)
    assert f(100) == pytest.approx(end, abs=1e-6)
    values = [f(s) for s in range(10, 101)]
    assert all(a >= b - 1e-12 for a, b in zip(values, values[1:])), "never increases after warmup"


def test_fused_kernel_on_cpu_unless_an_implementation_is_chosen_or_a_scaler_unscales():
    model = torch.nn.Linear(4, 4)
    assert build_optimizer(model, OptimizerConfig()).defaults["fused"] is True
    assert not build_optimizer(model, OptimizerConfig(kwargs={"foreach": False})).defaults["fused"]
    assert not build_optimizer(model, OptimizerConfig(), allow_fused=False).defaults["fused"]
    assert "fused" not in build_optimizer(model, OptimizerConfig(name="RMSprop")).defaults


def test_fused_and_loop_adamw_take_the_same_step():
    torch.manual_seed(0)
    models = [torch.nn.Linear(8, 3) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    optimizers = [build_optimizer(models[0], OptimizerConfig(lr=0.01)),
                  build_optimizer(models[1], OptimizerConfig(lr=0.01, kwargs={"foreach": False}))]
    x = torch.randn(16, 8)
    for _ in range(3):
        for model, optimizer in zip(models, optimizers):
            optimizer.zero_grad()
            model(x).pow(2).mean().backward()
            optimizer.step()
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        torch.testing.assert_close(a, b)
