"""Optimizer and learning-rate schedule from the ``optimizer`` and ``scheduler`` configs."""

from __future__ import annotations

import inspect
import math

import torch

from glmtasks.config import OptimizerConfig, SchedulerConfig, check_keywords, raise_if_errors
from glmtasks.errors import ConfigError


def build_optimizer(model: torch.nn.Module, config: OptimizerConfig, allow_fused: bool = True) -> torch.optim.Optimizer:
    """A ``torch.optim`` optimizer; biases and normalization weights (1-D) get no weight decay.

    With ``allow_fused`` (no gradient scaler in play) and all parameters on the CPU, the
    optimizer's fused kernel is chosen unless ``optimizer.kwargs`` picks an implementation.
    """
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
    kwargs = dict(config.kwargs)
    if allow_fused and _use_fused_on_cpu(optimizer_class, [p for _, p in trainable], kwargs):
        kwargs["fused"] = True
    return optimizer_class([g for g in groups if g["params"]], lr=config.lr, **kwargs)


def _use_fused_on_cpu(optimizer_class: type, params: list[torch.Tensor], kwargs: dict) -> bool:
    """Whether to pick the fused kernel: all parameters are floating-point CPU tensors, the class has
    a ``fused`` option and ``optimizer.kwargs`` chooses no implementation (``fused``/``foreach``).

    On the CPU, torch's default is its per-parameter loop; the fused kernel does the same update
    in one pass: MiniLM's AdamW update (22.7M parameters, half of them the word embeddings)
    falls from 97 to 19 ms (``bench/profile_step.py``). ``optimizer.kwargs.fused=false`` keeps
    the loop.
    """
    if "fused" in kwargs or "foreach" in kwargs or not params:
        return False
    if "fused" not in inspect.signature(optimizer_class.__init__).parameters:
        return False
    return all(p.device.type == "cpu" and p.is_floating_point() for p in params)


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
