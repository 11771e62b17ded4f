"""Progress of long work outside the training loop (reading and tokenizing data): counts, rates and ETA.

Quiet for quick work: nothing is printed until a job has run :data:`QUIET_SECONDS`; after
that, a job shows one line that updates in place (when progress bars are on and stderr is a
terminal) or a plain log line every :data:`LOG_INTERVAL` seconds (``callbacks.progress_bar=false``,
or output to a file), and ends with one summary line. Light: no torch import.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Optional

log = logging.getLogger(__name__)

QUIET_SECONDS = 2.0
"""Work shorter than this prints nothing."""
LOG_INTERVAL = 10.0
"""Seconds between plain progress lines."""
BAR_INTERVAL = 0.5
"""Seconds between updates of the in-place line."""

_bars = True


def set_progress_bars(enabled: bool) -> None:
    """Process-wide: in-place progress lines (True, ``callbacks.progress_bar``) or periodic log lines (False)."""
    global _bars
    _bars = bool(enabled)


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h07m``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def rate_text(count: float, seconds: float, unit: str) -> str:
    """``1,234 examples/s`` (``-`` before any time has passed)."""
    if seconds <= 0:
        return f"- {unit}/s"
    rate = count / seconds
    return f"{rate:,.0f} {unit}/s" if rate >= 10 else f"{rate:.2f} {unit}/s"


class Progress:
    """Counts of one job: ``with Progress("tokenizing train", total=n, unit="examples") as p: ... p.update(k)``.

    Args:
        what: what is being done, e.g. ``tokenizing the train split``.
        total: how many items (None when unknown).
        unit: the items' name, plural.
    """

    def __init__(self, what: str, total: Optional[int] = None, unit: str = "items"):
        self.what, self.total, self.unit = what, total, unit
        self.count = 0
        self.started = time.perf_counter()
        self._last = self.started
        self._shown = False
        self._inline = _bars and sys.stderr.isatty()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(failed=exc[0] is not None)

    def line(self) -> str:
        """``tokenizing train: 12,000/50,000 examples (24%), 3,100 examples/s, ETA 12s``."""
        elapsed = time.perf_counter() - self.started
        text = f"{self.what}: {self.count:,}"
        if self.total:
            text += f"/{self.total:,} {self.unit} ({100 * self.count / self.total:.0f}%)"
        else:
            text += f" {self.unit}"
        text += f", {rate_text(self.count, elapsed, self.unit)}"
        if self.total and self.count and self.count < self.total:
            text += f", ETA {format_duration(elapsed * (self.total - self.count) / self.count)}"
        return text

    def update(self, count: int = 1) -> None:
        """Add ``count`` finished items; prints when it is time to."""
        self.count += count
        now = time.perf_counter()
        if now - self.started < QUIET_SECONDS or (self.total and self.count >= self.total):
            return  # quick so far, or done: the summary line of close() says the rest
        if now - self._last >= (BAR_INTERVAL if self._inline else LOG_INTERVAL) or not self._shown:
            self._last = now
            self._shown = True
            if self._inline:
                sys.stderr.write("\r" + self.line() + "\033[K")
                sys.stderr.flush()
            else:
                log.info(self.line())

    def close(self, failed: bool = False) -> None:
        """End the job: one summary line when progress was shown (or the job was slow)."""
        elapsed = time.perf_counter() - self.started
        if self._inline and self._shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
        if (self._shown or elapsed >= QUIET_SECONDS) and not failed:
            log.info("%s: %s %s in %s (%s)", self.what, f"{self.count:,}", self.unit, format_duration(elapsed), rate_text(self.count, elapsed, self.unit))
