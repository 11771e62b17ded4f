"""``trainer.precision=auto``: bf16 mixed precision where the hardware computes bf16 fast, 32-bit elsewhere.

bf16 mixed precision keeps fp32 weights and optimizer state and runs matrix products in bf16
under autocast. Where the hardware has bf16 arithmetic (CUDA devices of compute capability 8.0
and later; CPUs with AMX or AVX512-BF16) that is 1.3-2x faster for the same quality; where it
has not, bf16 is emulated and slower than fp32. On the CPU it also needs matrices wide enough
for the bf16 kernels to beat the casts around them: MiniLM (hidden size 384) trains 1.75x
faster in bf16, glm-tiny (hidden size 128) 5% slower and with twice the peak memory
(bench/RESULTS.md), so ``auto`` keeps models narrower than :data:`MIN_CPU_BF16_WIDTH` in fp32.
Any other value of ``trainer.precision`` is passed to Lightning unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

log = logging.getLogger("glmtasks")

AUTO = "auto"
MIXED_BF16 = "bf16-mixed"
FULL = "32-true"
MIN_CPU_BF16_WIDTH = 256
"""Narrowest hidden size for which ``auto`` uses bf16 on the CPU (384 gains 1.75x; 128 loses 5%)."""
WIDTH_KEYS = ("hidden_size", "d_model", "n_embd", "dim")


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision a run uses and why.

    Attributes:
        requested: ``trainer.precision`` as configured (``auto`` or a Lightning precision).
        used: the Lightning precision the trainer gets.
        reason: one line naming the device feature behind an ``auto`` choice.
    """

    requested: str
    used: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """The choice as recorded in ``metrics.json``."""
        return {"requested": self.requested, "used": self.used, "reason": self.reason}


def cpu_bf16_feature() -> str | None:
    """The CPU feature that computes bf16 natively (``AMX`` or ``AVX512-BF16``), or None."""
    import torch

    probes = (("AMX", "_is_amx_tile_supported"), ("AVX512-BF16", "_is_avx512_bf16_supported"))
    for name, probe in probes:
        check = getattr(torch.cpu, probe, None)
        try:
            if check is not None and check():
                return name
        except RuntimeError:  # a torch build without the probe's kernels
            continue
    return None


def cuda_bf16_device() -> str | None:
    """The name of the first CUDA device when it computes bf16 natively (compute capability >= 8.0), else None."""
    import torch

    if not torch.cuda.is_available():
        return None
    major, _ = torch.cuda.get_device_capability(0)
    return torch.cuda.get_device_name(0) if major >= 8 else None


def model_width(model: Any) -> int | None:
    """The hidden size of the first transformers model inside ``model`` (its config's
    ``hidden_size``, ``d_model``, ``n_embd`` or ``dim``), or None when there is none."""
    modules = model.modules() if hasattr(model, "modules") else [model]
    for module in modules:
        config = getattr(module, "config", None)
        for key in WIDTH_KEYS:
            value = getattr(config, key, None)
            if isinstance(value, int):
                return value
    return None


def _device_kind(accelerator: Any) -> str:
    """``cuda``, ``cpu`` or another accelerator name, resolving ``auto`` the way Lightning does for CUDA and CPU."""
    name = str(accelerator or AUTO).lower()
    if name in ("gpu", "cuda"):
        return "cuda"
    if name == AUTO:
        import torch

        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    return name


def choose_precision(trainer_config: Mapping[str, Any], model: Any = None) -> PrecisionChoice:
    """The precision for ``trainer_config`` (its ``precision`` and ``accelerator`` keys) and ``model``
    (a module holding the backbone; on the CPU its width decides, see :data:`MIN_CPU_BF16_WIDTH`)."""
    requested = str(trainer_config.get("precision", AUTO))
    if requested != AUTO:
        return PrecisionChoice(requested, requested, "set by trainer.precision")
    device = _device_kind(trainer_config.get("accelerator"))
    if device == "cuda":
        gpu = cuda_bf16_device()
        if gpu:
            return PrecisionChoice(AUTO, MIXED_BF16, f"auto: {gpu} computes bf16 natively")
        return PrecisionChoice(AUTO, FULL, "auto: this GPU has no native bf16 (compute capability < 8.0); trainer.precision=16-mixed may be faster")
    if device == "cpu":
        feature = cpu_bf16_feature()
        width = model_width(model) if model is not None else None
        if feature and width is not None and width < MIN_CPU_BF16_WIDTH:
            return PrecisionChoice(AUTO, FULL, f"auto: the CPU computes bf16 natively ({feature}), but at hidden size {width} "
                                               f"(< {MIN_CPU_BF16_WIDTH}) bf16 is not faster on the CPU")
        if feature:
            return PrecisionChoice(AUTO, MIXED_BF16, f"auto: the CPU computes bf16 natively ({feature})")
        return PrecisionChoice(AUTO, FULL, "auto: the CPU has no AMX or AVX512-BF16, so bf16 would be emulated")
    return PrecisionChoice(AUTO, FULL, f"auto: 32-bit on accelerator {device!r}")


def resolve_precision(trainer_config: Mapping[str, Any], model: Any = None, announce: bool = False) -> dict[str, Any]:
    """``trainer_config`` with ``precision=auto`` replaced by the precision chosen for ``model``
    (logged with its reason when ``announce``)."""
    choice = choose_precision(trainer_config, model)
    if announce:
        log.info("precision: %s (%s)", choice.used, choice.reason + ("; set trainer.precision to choose" if choice.requested == AUTO else ""))
    return {**trainer_config, "precision": choice.used}
