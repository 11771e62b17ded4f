"""An on-disk cache of encoded splits, shared by runs and sweep trials.

A split's features are stored under a key that changes whenever anything that could change
them changes: the records themselves, the data config (except batching options), the
``task_info``, the tokenizer (its full serialized form), the code of glmtasks and of the
plugin package that defines the datamodule, and the glmtasks version. A hit therefore returns exactly what encoding
would; a miss encodes and stores. Entries are written to a temporary file and renamed, so a
killed run never leaves half an entry, and an unreadable entry is encoded again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import logging
import os
import pickle
from pathlib import Path
from typing import Any, Callable, Optional

log = logging.getLogger(__name__)

CACHE_ENV = "GLMTASKS_CACHE"
BATCHING_FIELDS = ("batch_size", "eval_batch_size", "num_workers", "group_by_length", "cache_features", "cache_dir")
"""Data config fields that change batching, not features: runs differing only there share entries."""


def default_cache_dir() -> Path:
    """``$GLMTASKS_CACHE``, else ``$XDG_CACHE_HOME/glmtasks`` or ``~/.cache/glmtasks``, plus ``features/``."""
    root = os.environ.get(CACHE_ENV) or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "glmtasks"
    return Path(root) / "features"


def tokenizer_fingerprint(tokenizer: Any) -> Optional[str]:
    """A digest of everything that decides how ``tokenizer`` encodes, or None when it cannot be told (slow tokenizers)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    # Truncation and padding are per-call state of the backend (the encoders pass them explicitly).
    state = {k: v for k, v in json.loads(backend.to_str()).items() if k not in ("truncation", "padding")}
    described = {"backend": state, "padding_side": getattr(tokenizer, "padding_side", None),
                 "truncation_side": getattr(tokenizer, "truncation_side", None),
                 "special": {k: str(v) for k, v in sorted(getattr(tokenizer, "special_tokens_map", {}).items())}}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


@functools.lru_cache(maxsize=None)
def code_fingerprint(cls: type, base: type) -> str:
    """A digest of every Python file of the packages that define ``cls`` and its bases down to ``base``.

    Editing a plugin's encoder, or a helper it calls in glmtasks, invalidates the entries.
    Computed once per process (the sources are read once, not once per split).
    """
    packages: set[Path] = set()
    for klass in cls.__mro__[: cls.__mro__.index(base) + 1]:
        module = inspect.getmodule(klass)
        top = module.__name__.split(".")[0] if module else None
        spec = __import__(top).__spec__ if top else None
        locations = list(spec.submodule_search_locations or []) if spec else []
        if locations:
            packages.add(Path(locations[0]))
        elif module is not None and getattr(module, "__file__", None):
            packages.add(Path(module.__file__).parent)
    digest = hashlib.sha256()
    for package in sorted(packages):
        for path in sorted(package.rglob("*.py")):
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(datamodule: Any, split: str, records: list[dict[str, Any]]) -> Optional[str]:
    """The entry name of ``split`` of ``datamodule``, or None when it cannot be cached safely."""
    from glmtasks import __version__

    tokenizer = tokenizer_fingerprint(datamodule.tokenizer)
    if tokenizer is None:
        return None
    from glmtasks.datamodule import TaskDataModule

    config = {k: v for k, v in dataclasses.asdict(datamodule.config).items() if k not in BATCHING_FIELDS}
    digest = hashlib.sha256()
    for part in (__version__, type(datamodule).__qualname__, code_fingerprint(type(datamodule), TaskDataModule), split, tokenizer,
                 json.dumps(config, sort_keys=True, default=str), json.dumps(datamodule.task_info, sort_keys=True, default=str)):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL))
    return f"{type(datamodule).__name__}-{split}-{digest.hexdigest()[:32]}"


def cached(directory: Path, key: Optional[str], encode: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """``encode()``, read from ``directory/<key>.pkl`` when an entry exists, else computed and stored there."""
    if key is None:
        return encode()
    path = directory / f"{key}.pkl"
    if path.is_file():
        try:
            with path.open("rb") as handle:
                features = pickle.load(handle)  # noqa: S301 - written by glmtasks into the user's own cache
            log.info("read %d encoded features from the cache (%s)", len(features), path)
            return features
        except Exception as exc:  # noqa: BLE001 - a damaged entry is encoded again
            log.warning("ignoring the unreadable cache entry %s (%s); encoding again", path, type(exc).__name__)
    features = encode()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            pickle.dump(features, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as exc:  # a full or read-only disk costs the cache, not the run
        log.warning("could not write the feature cache %s: %s", path, exc)
    return features
