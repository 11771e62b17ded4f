"""Optimizer and learning-rate schedule from the ``optimizer`` and ``scheduler`` configs."""

from __future__ import annotations

import math

import torch

from glmtasks.config import OptimizerConfig, SchedulerConfig, check_keywords, raise_if_errors
from glmtasks.errors import ConfigError


def build_optimizer(model: torch.nn.Module, config: OptimizerConfig) -> torch.optim.Optimizer:
    """A ``torch.optim`` optimizer; biases and normalization weights (1-D) get no weight decay."""
    optimizer_class = getattr(torch.optim, config.name, None)
    if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, torch.optim.Optimizer)):
        raise ConfigError(f"unknown optimizer.name '{config.name}'; use a class of torch.optim such as AdamW, Adam or SGD")
    errors: list[str] = []
    check_keywords(optimizer_class, config.kwargs, "optimizer.kwargs", errors)
    raise_if_errors(errors)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for _, p in trainable if p.ndim >= 2], "weight_decay": config.weight_decay},
        {"params": [p for _, p in trainable if p.ndim < 2], "weight_decay": 0.0},
    ]
    return optimizer_class([g for g in groups if g["params"]], lr=config.lr, **config.kwargs)


def warmup_steps(config: SchedulerConfig, total_steps: int) -> int:
    """Warmup length in steps: ``warmup_steps`` itself, or that fraction of ``total_steps``."""
    if config.warmup_steps < 0:
        raise ConfigError("scheduler.warmup_steps must be >= 0")
    if config.warmup_steps < 1:
        return int(round(config.warmup_steps * total_steps))
    return int(config.warmup_steps)


def lr_multiplier(config: SchedulerConfig, total_steps: int):
    """The function step -> multiplier of the peak learning rate for ``config.name``."""
    warmup = warmup_steps(config, total_steps)
    decay_steps = max(1, total_steps - warmup)

    def warming(step: int) -> float | None:
        return (step + 1) / (warmup + 1) if step < warmup else None

    def linear(step: int) -> float:
        w = warming(step)
        return w if w is not None else max(0.0, (total_steps - step) / decay_steps)

    def cosine(step: int) -> float:
        w = warming(step)
        return w if w is not None else 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / decay_steps)))

    def constant(step: int) -> float:
        w = warming(step)
        return w if w is not None else 1.0

    schedules = {"linear": linear, "cosine": cosine, "constant": constant}
    if config.name not in schedules:
        raise ConfigError(f"unknown scheduler.name '{config.name}'; use one of {', '.join(schedules)} (scheduler=<name>)")
    return schedules[config.name]


def build_scheduler(optimizer: torch.optim.Optimizer, config: SchedulerConfig, total_steps: int):
    """A ``LambdaLR`` stepped once per optimizer step."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_multiplier(config, total_steps))
