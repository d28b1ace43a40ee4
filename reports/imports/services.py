"""The import job: upload → dry run → confirm → commit, every step one service.

For the REST API (issue 6) an import is two calls:
- `import_job_create(user=..., layout=..., upload=...)`: checks the upload at once (size,
  real .xlsx, macros, zip bomb, XML entities) and queues the dry run; answer 202 with the job.
- `import_job_confirm(job=..., user=...)`: once the dry run passed (status "ready"), queues
  the commit. The job found with `selectors.import_job_get(user=..., pk=...)` (404 out of
  scope); its status, progress (`progress.import_progress`) and problems are reads.
"""

import contextlib
import gc
import hashlib
import logging
import tempfile
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from common.audit import Source, audit_context
from common.errors import ApplicationError, user_message

from ..models import ImportJob, ImportJobStatus, ImportProblem
from . import cache
from .households import HouseholdsImporter, Outcome
from .layouts import LAYOUTS, Layout
from .progress import Progress, progress_clear
from .roster import RosterImporter
from .upload import RefusedFileError, check_workbook
from .workbooks import fill_values_and_report
from .xlsx import Workbook

log = logging.getLogger(__name__)

# What a user must be allowed to do to import each kind of row (roles grant these).
PERMISSIONS = {
    "households": (
        "households.add_household",
        "households.change_household",
        "households.add_member",
        "households.change_member",
    ),
    "cadres": ("teams.add_cadre", "teams.change_cadre", "teams.add_assignment"),
    "units": ("teams.add_dispatchingunit", "teams.change_dispatchingunit"),
}
IMPORTERS = {"households": HouseholdsImporter, "cadres": RosterImporter, "units": RosterImporter}
# A job still "checking" or "committing" this long after its last change lost its worker
# (the task's hard time limit has passed): a redelivered task may claim it again.
STALE_SECONDS = 2100
MAX_PROBLEMS = 200_000  # problems stored per job; the report file holds the same


def can_import(user: Any, layout: Layout) -> bool:
    return bool(user and user.is_active) and all(
        user.has_perm(p) for p in PERMISSIONS[layout.entity]
    )


def import_layouts(user: Any) -> list[Layout]:
    """The layouts the user may import."""
    return [layout for layout in LAYOUTS.values() if can_import(user, layout)]


@transaction.atomic
def import_job_create(*, user: User, layout: str, upload: File) -> ImportJob:
    """Check an upload and queue its dry run (after commit). The checks read only the zip's
    directory and the beginning of its XML parts, so a hostile file is refused at once,
    with a Chinese message, and is never stored."""
    found = LAYOUTS.get(layout)
    if found is None:
        raise ApplicationError(_("未知的导入内容：%s") % layout)
    if not can_import(user, found):
        raise PermissionDenied(_("您没有导入%s的权限。") % found.title)
    size = upload.size or 0
    upload.seek(0)
    book = check_workbook(upload, size=size)
    book.close()
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1 << 20), b""):
        digest.update(chunk)
    upload.seek(0)
    job = ImportJob(
        layout=found.key,
        region=user.region,
        requested_by=user,
        original_name=(getattr(upload, "name", "") or "upload.xlsx")[-255:],
        size=size,
        sha256=digest.hexdigest(),
    )
    job.file.save("upload.xlsx", upload, save=False)
    job.save()
    from ..tasks import import_job_check_task

    transaction.on_commit(lambda: import_job_check_task.delay(job.pk))
    return job


@contextlib.contextmanager
def _rare_collections():
    """An import holds millions of small objects (cells, rows, values): the cyclic garbage
    collector's passes over all of them cost more than the import's own work (a quarter of
    the reading, two thirds of loading the kept reading). Collections are made rarer, never
    off, while a job runs."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _claim(job_id: int, waiting: str, running: str) -> bool:
    stale = timezone.now() - timezone.timedelta(seconds=STALE_SECONDS)
    return bool(
        ImportJob.objects.filter(pk=job_id)
        .filter(Q(status=waiting) | Q(status=running, updated_at__lt=stale))
        .update(status=running, updated_at=timezone.now())
    )


def _open(job: ImportJob) -> Workbook:
    job.file.open("rb")
    return Workbook(check_workbook(job.file.file, size=job.file.size))


def _importer(job: ImportJob, book: Workbook, user: Any):
    layout = LAYOUTS[job.layout]
    return IMPORTERS[layout.entity](book=book, layout=layout, user=user)


@_rare_collections()
def import_job_check(*, job_id: int) -> None:
    """The dry run: read every row, check every rule, store every problem and the report of
    bad rows. A job is claimed once (pending → checking); a second delivery finds it taken."""
    if not _claim(job_id, ImportJobStatus.PENDING, ImportJobStatus.CHECKING):
        return
    job = ImportJob.objects.select_related("requested_by").get(pk=job_id)
    progress = Progress(job.pk, dry_run=True)
    try:
        book = _open(job)
        importer = _importer(job, book, job.requested_by)
        if importer.cacheable:
            parsed = importer.read(progress)
            outcome = importer.apply(parsed, dry_run=True, progress=progress)
            if not outcome.problems:
                _keep(job, parsed)
        else:
            outcome = importer.run(dry_run=True, progress=progress)
        status = ImportJobStatus.INVALID if outcome.problems else ImportJobStatus.READY
        _finish_check(job, book, importer, outcome, status)
    except RefusedFileError as exc:
        _fail(job, exc.message)
    except Exception:
        log.exception("import job %s: the dry run failed", job_id)
        _fail(job, _("校验时发生系统错误，请稍后重试或联系系统管理员。"))
        raise
    finally:
        job.file.close()
        progress_clear(job.pk)


def _finish_check(job, book, importer, outcome: Outcome, status: str) -> None:
    problems = outcome.problems
    report = b""
    if problems:
        report = fill_values_and_report(book, importer.headers, problems)
    with transaction.atomic():
        ImportProblem.objects.filter(job=job).delete()
        ImportProblem.objects.bulk_create(
            [
                ImportProblem(
                    job=job,
                    sheet=p.sheet[:64],
                    row=p.row,
                    column=p.column[:128],
                    letters=p.letters[:4],
                    value=p.value[:200],
                    message=p.message,
                    code=p.code[:32],
                )
                for p in problems[:MAX_PROBLEMS]
            ],
            batch_size=5000,
        )
        job.status = status
        job.rows = outcome.rows
        job.problem_count = len(problems)
        job.bad_rows = len({(p.sheet, p.row) for p in problems if p.row})
        job.counts = outcome.counts
        job.sheets = {"read": outcome.sheets, "skipped": outcome.skipped_sheets}
        job.checked_at = timezone.now()
        if report:
            job.report.save("problems.xlsx", ContentFile(report), save=False)
        job.save()


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJobStatus.FAILED,
        error=message,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


@transaction.atomic
def import_job_confirm(*, job: ImportJob, user: User) -> ImportJob:
    """Confirm a checked import and queue its commit (after commit). Confirming again, or a
    job already importing or imported, changes nothing."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status in (
        ImportJobStatus.CONFIRMED,
        ImportJobStatus.COMMITTING,
        ImportJobStatus.DONE,
    ):
        return job
    if job.status == ImportJobStatus.INVALID:
        raise ApplicationError(
            _(
                "校验发现 %(rows)d 行有问题，不能确认导入，没有写入任何数据；"
                "请按问题清单改正文件后重新上传。只有校验通过的导入才能确认。"
            )
            % {"rows": job.bad_rows},
            extra={"status": job.status, "problem_count": job.problem_count},
        )
    if job.status != ImportJobStatus.READY:
        raise ApplicationError(
            _("只有校验通过的导入才能确认（当前：%s）。") % job.get_status_display(),
            extra={"status": job.status},
        )
    if not can_import(user, LAYOUTS[job.layout]):
        raise PermissionDenied(_("您没有导入%s的权限。") % LAYOUTS[job.layout].title)
    job.status = ImportJobStatus.CONFIRMED
    job.confirmed_by = user
    job.confirmed_at = timezone.now()
    job.save(update_fields=["status", "confirmed_by", "confirmed_at", "updated_at"])
    from ..tasks import import_job_commit_task

    transaction.on_commit(lambda: import_job_commit_task.delay(job.pk))
    return job


class _Refused(Exception):  # noqa: N818 - control flow: roll the import back
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


@_rare_collections()
def import_job_commit(*, job_id: int) -> None:
    """Write the confirmed import in one transaction, all or nothing. The rows are checked
    again first (the data may have changed since the dry run); any problem now rolls
    everything back and the job shows the problems. Every written row is audited with the
    confirming user and the source "import"."""
    if not _claim(job_id, ImportJobStatus.CONFIRMED, ImportJobStatus.COMMITTING):
        return
    job = ImportJob.objects.select_related("requested_by", "confirmed_by").get(pk=job_id)
    actor = job.confirmed_by or job.requested_by
    progress = Progress(job.pk, dry_run=False)
    try:
        book = _open(job)
        kept = None
        for attempt in (1, 2):
            importer = _importer(job, book, actor)
            if importer.cacheable and kept is None:
                kept = _kept(job, importer) or importer.read(progress)
            try:
                with (
                    audit_context(source=Source.IMPORT, actor=actor, import_job=job.pk),
                    transaction.atomic(),
                ):
                    if kept is not None:
                        outcome = importer.apply(kept, dry_run=False, progress=progress)
                    else:
                        outcome = importer.run(dry_run=False, progress=progress)
                    if outcome.problems:
                        raise _Refused(outcome)
            except _Refused as refused:
                _finish_check(job, book, importer, refused.outcome, ImportJobStatus.INVALID)
                return
            except (IntegrityError, OperationalError):
                # A concurrent write won a race for a natural key (or a deadlock was broken):
                # check and write again, now seeing it. A second failure is reported.
                if attempt == 2:
                    raise
                continue
            break
        job.status = ImportJobStatus.DONE
        job.rows = outcome.rows
        job.counts = outcome.counts
        job.finished_at = timezone.now()
        job.problem_count = job.bad_rows = 0
        job.save(
            update_fields=[
                "status",
                "rows",
                "counts",
                "finished_at",
                "problem_count",
                "bad_rows",
                "updated_at",
            ]
        )
    except RefusedFileError as exc:
        _fail(job, exc.message)
    except (ApplicationError, IntegrityError) as exc:
        log.warning("import job %s: the commit was refused: %s", job_id, exc)
        _fail(job, _("导入未完成，没有写入任何数据：%s") % user_message(exc))
    except Exception:
        log.exception("import job %s: the commit failed", job_id)
        _fail(job, _("导入时发生系统错误，没有写入任何数据，请稍后重试或联系系统管理员。"))
        raise
    finally:
        job.file.close()
        progress_clear(job.pk)
        _forget(job)


def _kept_name(job: ImportJob) -> str:
    return f"imports/{job.token}-read.json.gz"


def _keep(job: ImportJob, parsed) -> None:
    """Keep the dry run's reading of the file for the commit (see cache.py)."""
    with tempfile.TemporaryFile() as buffer:
        cache.dump(parsed, buffer, layout=LAYOUTS[job.layout], sha256=job.sha256)
        buffer.seek(0)
        job.file.storage.save(_kept_name(job), File(buffer))


def _kept(job: ImportJob, importer):
    storage, name = job.file.storage, _kept_name(job)
    if not storage.exists(name):
        return None
    with storage.open(name, "rb") as source:
        return cache.load(
            source,
            layout=LAYOUTS[job.layout],
            sha256=job.sha256,
            member_fields=importer.member_fields,
        )


def _forget(job: ImportJob) -> None:
    name = _kept_name(job)
    if job.file.storage.exists(name):
        job.file.storage.delete(name)


@transaction.atomic
def import_job_cancel(*, job: ImportJob, user: User) -> ImportJob:
    """Drop an import that will not be committed; its file (personal data) is deleted. Only
    someone who may import its rows may cancel it (as only they may confirm it)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if not can_import(user, LAYOUTS[job.layout]):
        raise PermissionDenied(_("您没有导入%s的权限。") % LAYOUTS[job.layout].title)
    if job.status == ImportJobStatus.CANCELLED:
        return job
    if job.status not in (
        ImportJobStatus.PENDING,
        ImportJobStatus.INVALID,
        ImportJobStatus.READY,
        ImportJobStatus.FAILED,
    ):
        raise ApplicationError(_("正在导入或已导入的任务不能取消。"))
    job.status = ImportJobStatus.CANCELLED
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at", "updated_at"])
    name = job.file.name
    if name:
        transaction.on_commit(lambda: job.file.storage.delete(name))
    transaction.on_commit(lambda: _forget(job))
    return job


def import_files_purge(*, days: int | None = None) -> int:
    """Delete the uploaded files and reports of imports finished more than `days` ago (they
    hold ID numbers); the job rows and their problems stay as the record."""
    days = days if days is not None else settings.ZHUCUN_IMPORT_KEEP_DAYS
    cutoff = timezone.now() - timezone.timedelta(days=days)
    done = 0
    jobs = ImportJob.objects.filter(updated_at__lt=cutoff).exclude(file="", report="")
    for job in jobs.exclude(
        status__in=[
            ImportJobStatus.PENDING,
            ImportJobStatus.CHECKING,
            ImportJobStatus.CONFIRMED,
            ImportJobStatus.COMMITTING,
        ]
    ).iterator():
        for f in (job.file, job.report):
            if f.name:
                f.storage.delete(f.name)
        _forget(job)
        ImportJob.objects.filter(pk=job.pk).update(file="", report="")
        done += 1
    return done
