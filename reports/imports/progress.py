"""Live progress of an import job, kept in the cache: the commit runs inside one database
transaction, whose writes no other connection sees until it ends, so the job row cannot
carry the progress while it runs."""

import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from ..models import ImportJobStatus

# The share of the bar each phase fills: (start, end) in percent.
DRY_RUN = {"read": (0, 70), "check": (70, 100)}
COMMIT = {"read": (0, 35), "check": (35, 50), "write": (50, 100)}
INTERVAL = 0.5  # seconds between cache writes
PHASE_LABELS = {
    "queued": _("排队等待"),
    "read": _("读取文件"),
    "check": _("校验"),
    "write": _("写入"),
}


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


def import_progress_many(job_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The progress of several jobs in one cache round trip (a list of jobs)."""
    keys = {_key(job_id): job_id for job_id in job_ids}
    return {keys[key]: value for key, value in cache.get_many(list(keys)).items()}


def progress_display(job: Any, raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a page or the API shows of a running job: the phase (its Chinese name) and the
    percentage; None once the job is no longer running. A job waiting for its worker, or
    whose worker has not reported yet, is at 0 %."""
    if not job.running:
        return None
    raw = raw or {}
    started = job.status in (ImportJobStatus.CHECKING, ImportJobStatus.COMMITTING)
    phase = raw.get("phase") or ("read" if started else "queued")
    return {
        "phase": phase,
        "phase_display": str(PHASE_LABELS.get(phase, phase)),
        "percent": int(raw.get("percent") or 0),
        "done": int(raw.get("done") or 0),
        "total": int(raw.get("total") or 0),
    }
