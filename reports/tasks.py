"""Celery tasks of reports. Each takes ids, loads, and calls one service."""

from celery import shared_task

# --- imports ---


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1860)
def import_job_check_task(job_id: int) -> None:
    from reports.imports.services import import_job_check

    import_job_check(job_id=job_id)  # claims the job; a redelivery is a no-op


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1860)
def import_job_commit_task(job_id: int) -> None:
    from reports.imports.services import import_job_commit

    import_job_commit(job_id=job_id)  # claims the job; a redelivery is a no-op


@shared_task(soft_time_limit=600, time_limit=660)
def import_files_purge_task() -> int:
    from reports.imports.services import import_files_purge

    return import_files_purge()
