"""Multi-process runs through Lightning: ranks before a process group exists, strategies from config, fresh processes.

glmtasks has no distributed engine of its own. Lightning starts the processes (its
subprocess launcher for ``trainer=ddp``, torch.multiprocessing for ``ddp_spawn``) or finds
them started by ``torchrun`` or SLURM (its cluster environments); this module holds the few
things the core needs around that:

* :func:`launch_rank`: the rank a launcher gave this process, readable before Lightning
  sets up the process group (so rank 0 alone refuses a used run directory).
* :func:`run_stamp`: the run directory's name, the same in every process of a ``torchrun``
  or ``srun`` launch (each process composes its own config).
* :func:`build_strategy`: ``trainer.strategy`` given as a mapping (``{name: fsdp, ...}``)
  becomes a Lightning strategy object; FSDP wrap policies are given by class name (and
  FSDP reads its full checkpoints with ``torch.load``, see :func:`_fsdp_strategy_class`).
* :func:`rank_zero_first`: run a block on rank 0 first, the other ranks after a barrier
  (for work done once and read by all, such as tokenization, see :func:`glmtasks.data.compute_once`).
* :func:`launches_processes` and :func:`run_in_fresh_process`: a sweep job whose trainer
  starts processes runs as a fresh ``python -m glmtasks`` process, so each job has its own
  process group, port and device memory.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Sequence

log = logging.getLogger(__name__)

# Variables that launchers set to give a process its rank (Lightning reads the same ones, in this order).
RANK_VARIABLES = ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK")
# Variables that tie a process to one distributed launch; a fresh job process must not inherit them.
LAUNCH_VARIABLES = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK")


def launch_rank() -> int:
    """Global rank of this process as its launcher set it (0 when not launched as one of several).

    Readable before any process group exists: Lightning's subprocess launcher sets
    ``LOCAL_RANK`` in the processes it starts, ``torchrun`` sets ``RANK``, ``srun`` sets
    ``SLURM_PROCID``.
    """
    for name in RANK_VARIABLES:
        value = os.environ.get(name)
        if value not in (None, ""):
            try:
                return int(value)
            except ValueError:
                continue
    return 0


def is_rank_zero() -> bool:
    """True in the process that writes a run's files (see :func:`launch_rank`)."""
    return launch_rank() == 0


def launch_id() -> Optional[str]:
    """A name shared by every process of one multi-process ``torchrun`` or ``srun`` launch, else None.

    ``torchrun`` exports its rendezvous id (a fresh UUID with ``--standalone``, the value of
    ``--rdzv-id`` otherwise; ``none`` when neither was given, which cannot name a run);
    ``srun`` exports the job and step ids. Single-process launches return None.
    """
    env = os.environ
    if int(env.get("WORLD_SIZE", "1") or 1) > 1 and env.get("TORCHELASTIC_RUN_ID", "none") not in ("", "none"):
        return f"torchrun-{env['TORCHELASTIC_RUN_ID']}"
    if int(env.get("SLURM_NTASKS", "1") or 1) > 1 and env.get("SLURM_JOB_ID") and env.get("SLURM_STEP_ID"):
        return f"slurm-{env['SLURM_JOB_ID']}.{env['SLURM_STEP_ID']}"
    return None


def run_stamp() -> str:
    """Name of a new run directory: the launch id under ``torchrun``/``srun``, else the time.

    Every process of a ``torchrun`` or ``srun`` launch composes its own config; a timestamp
    would give each its own directory, the launch id gives all of them the same one. Used
    by ``conf/hydra/default.yaml`` as ``${run_stamp:}``.
    """
    shared = launch_id()
    if shared:
        return shared
    now = time.time()
    return time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(now)) + f"_{int(now % 1 * 1_000_000):06d}"


# ---------------------------------------------------------------------------------------
# Strategies from config.


def _class_name_policy(names: Sequence[str]):
    """An FSDP policy (wrap or checkpoint) that selects modules whose class name is in ``names``."""
    from torch.distributed.fsdp.wrap import lambda_auto_wrap_policy

    wanted = frozenset(names)
    return functools.partial(lambda_auto_wrap_policy, lambda_fn=lambda module: type(module).__name__ in wanted)


def _full_checkpoint_load(path: Any) -> Any:
    """Read a full (single-file) checkpoint with ``torch.load`` (memory-mapped, on the CPU)."""
    import torch

    return torch.load(path, map_location="cpu", mmap=True, weights_only=False)


def _fsdp_strategy_class():
    """Lightning's FSDPStrategy, reading full-state-dict checkpoints with ``torch.load``.

    Lightning 2.6's lazy checkpoint reader (``_lazy_load``) fails on checkpoints written by
    torch >= 2.11 (``'UntypedStorage' object has no attribute 'dtype'``), so
    ``trainer.validate(ckpt_path=best)`` after an FSDP fit failed. This subclass swaps in a
    memory-mapped ``torch.load`` for the duration of ``load_checkpoint``; the rest is Lightning's.
    """
    from lightning.pytorch.strategies import FSDPStrategy
    from lightning.pytorch.strategies import fsdp as fsdp_module

    class GlmtasksFSDPStrategy(FSDPStrategy):
        def load_checkpoint(self, checkpoint_path: Any, weights_only: Optional[bool] = None) -> dict[str, Any]:
            original = getattr(fsdp_module, "_lazy_load", None)
            if original is None:
                return super().load_checkpoint(checkpoint_path, weights_only=weights_only)
            fsdp_module._lazy_load = _full_checkpoint_load
            try:
                return super().load_checkpoint(checkpoint_path, weights_only=weights_only)
            finally:
                fsdp_module._lazy_load = original

    return GlmtasksFSDPStrategy


def _strategy_class(name: str):
    """The Lightning strategy class behind a registered strategy name (``fsdp``, ``ddp``, ``deepspeed_stage_2``...)."""
    from lightning.pytorch.strategies import StrategyRegistry

    if name not in StrategyRegistry:
        return None
    return StrategyRegistry[name]["strategy"]


def check_strategy(value: Any, errors: list[str]) -> None:
    """Append one message per problem of a ``trainer.strategy`` mapping to ``errors``.

    A string is left to Lightning (it names its registered strategies in its own error).
    """
    if not isinstance(value, Mapping):
        return
    from glmtasks.config import check_keywords

    name = value.get("name")
    if not isinstance(name, str):
        errors.append("'trainer.strategy' as a mapping needs a name (trainer.strategy.name=fsdp|ddp|deepspeed|...)")
        return
    cls = _strategy_class(name)
    if cls is None:
        from lightning.pytorch.strategies import StrategyRegistry

        from glmtasks.registry import did_you_mean

        known = sorted(StrategyRegistry)
        errors.append(f"unknown strategy 'trainer.strategy.name={name}'{did_you_mean(name, known)}; Lightning knows: {', '.join(known)}")
        return
    options = {k: v for k, v in value.items() if k != "name"}
    check_keywords(cls.__init__, options, "trainer.strategy", errors)


def build_strategy(value: Any) -> Any:
    """``trainer.strategy`` for ``lightning.Trainer``: a mapping becomes an object, strings pass through.

    FSDP names (``fsdp``, ``fsdp_cpu_offload``) also become objects, of the class that reads
    full checkpoints with ``torch.load`` (:func:`_fsdp_strategy_class`).

    The mapping is ``{name: <registered strategy>, <argument of its class>: <value>, ...}``,
    for example ``{name: fsdp, sharding_strategy: FULL_SHARD, auto_wrap_policy: [GlmDecoderLayer]}``.
    The registered name's own settings (``fsdp_cpu_offload``, ``deepspeed_stage_3``...) are
    applied first, then the given arguments. ``auto_wrap_policy`` and
    ``activation_checkpointing_policy`` may be lists of module class names.
    """
    from lightning.pytorch.strategies import FSDPStrategy, StrategyRegistry

    if isinstance(value, str) and value in StrategyRegistry and StrategyRegistry[value]["strategy"] is FSDPStrategy:
        value = {"name": value}  # trainer.strategy=fsdp / fsdp_cpu_offload get the same checkpoint reader
    if not isinstance(value, Mapping):
        return value

    options = dict(value)
    name = options.pop("name")
    entry = StrategyRegistry[name]
    for key in ("auto_wrap_policy", "activation_checkpointing_policy"):
        if isinstance(options.get(key), (list, tuple)):
            options[key] = _class_name_policy(options[key])
    cls = entry["strategy"]
    if cls is FSDPStrategy:
        cls = _fsdp_strategy_class()
    return cls(**{**entry.get("init_params", {}), **options})


def lightning_trainer_kwargs(trainer_config: Mapping[str, Any]) -> dict[str, Any]:
    """``config.trainer`` as keyword arguments of ``lightning.Trainer`` (the strategy built)."""
    kwargs = dict(trainer_config)
    if "strategy" in kwargs:
        kwargs["strategy"] = build_strategy(kwargs["strategy"])
    return kwargs


# ---------------------------------------------------------------------------------------
# Rank 0 first.


@contextlib.contextmanager
def rank_zero_first(trainer: Any) -> Iterator[bool]:
    """Run the block on global rank 0, then (after a barrier) on the other ranks.

    Yields True on rank 0. Every rank passes the barrier exactly once, so the block may
    write files on rank 0 that the other ranks read. Without a trainer, or with one process,
    the block just runs.
    """
    if trainer is None or trainer.world_size <= 1:
        yield True
        return
    zero = trainer.global_rank == 0
    if not zero:
        trainer.strategy.barrier("glmtasks_rank_zero_first")
    try:
        yield zero
    finally:
        if zero:
            trainer.strategy.barrier("glmtasks_rank_zero_first")


# ---------------------------------------------------------------------------------------
# Sweep jobs that start processes.


def launches_processes(trainer_config: Mapping[str, Any]) -> bool:
    """Whether Lightning would start processes itself for this trainer config.

    True for multi-device ``ddp``/``ddp_spawn``/``fsdp``/``deepspeed`` run from a plain
    command; False for one device, and under ``torchrun``/``srun`` (processes started
    outside, one job process per rank).
    """
    import lightning as L

    from glmtasks.precision import resolve_precision

    keys = ("accelerator", "devices", "num_nodes", "strategy", "precision")
    kwargs = lightning_trainer_kwargs(resolve_precision({k: v for k, v in trainer_config.items() if k in keys}))
    quiet = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # no "GPU available" lines for a trainer that only answers a question
    try:
        trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, **kwargs)
    finally:
        quiet.setLevel(level)
    strategy = trainer.strategy
    environment = getattr(strategy, "cluster_environment", None)
    external = bool(environment is not None and environment.creates_processes_externally)
    return trainer.num_devices > 1 and strategy.launcher is not None and not external


def fresh_process_env() -> dict[str, str]:
    """This process's environment without the variables of any earlier distributed launch."""
    return {k: v for k, v in os.environ.items() if k not in LAUNCH_VARIABLES}


def run_in_fresh_process(overrides: Sequence[str], run_dir: Path, tail_lines: int = 40) -> tuple[int, list[str]]:
    """Run ``python -m glmtasks <overrides>`` as a single run writing into ``run_dir``; wait for it.

    Its output is passed through line by line. Returns the exit code and the last
    ``tail_lines`` lines of output (for the failure reason). The process gets its own
    session: if this one is interrupted, the whole group (with the ranks Lightning started)
    is terminated.
    """
    command = [
        sys.executable, "-m", "glmtasks", *overrides,
        f"hydra.run.dir={_quote(str(run_dir))}", "hydra.output_subdir=null",
    ]
    log.info("job runs in its own process group: %s", " ".join(command[1:]))
    tail: deque[str] = deque(maxlen=tail_lines)
    proc = subprocess.Popen(
        command, env=fresh_process_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, bufsize=1, start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            tail.append(line.rstrip("\n"))
        return proc.wait(), list(tail)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        raise
    finally:
        sys.stdout.flush()


def _quote(value: str) -> str:
    """A Hydra override value that keeps spaces and special characters literal."""
    if all(c.isalnum() or c in "/._-+:~@" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
