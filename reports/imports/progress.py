"""Live progress of an import job, kept in the cache: the commit runs inside one database
transaction, whose writes no other connection sees until it ends, so the job row cannot
carry the progress while it runs."""

import time
from typing import Any

from django.core.cache import cache

# The share of the bar each phase fills: (start, end) in percent.
DRY_RUN = {"read": (0, 70), "check": (70, 100)}
COMMIT = {"read": (0, 35), "check": (35, 50), "write": (50, 100)}
INTERVAL = 0.5  # seconds between cache writes


def _key(job_id: int) -> str:
    return f"reports:import:{job_id}:progress"


class Progress:
    """A callable the importers report to: progress(phase, done, total)."""

    def __init__(self, job_id: int, *, dry_run: bool):
        self.job_id = job_id
        self.phases = DRY_RUN if dry_run else COMMIT
        self.last = 0.0
        self.percent = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        start, end = self.phases.get(phase, (self.percent, self.percent))
        share = min(done / total, 1.0) if total else 0.0
        self.percent = max(self.percent, int(start + (end - start) * share))
        now = time.monotonic()
        if now - self.last < INTERVAL and not (total and done >= total):
            return
        self.last = now
        cache.set(
            _key(self.job_id),
            {"phase": phase, "done": done, "total": total, "percent": self.percent},
            timeout=3600,
        )


def import_progress(job_id: int) -> dict[str, Any] | None:
    return cache.get(_key(job_id))


def progress_clear(job_id: int) -> None:
    cache.delete(_key(job_id))
