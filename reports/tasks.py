from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def circular_run_task(run_id: int) -> None:
    from reports.services import circular_run

    circular_run(run_id=run_id)  # claims the row; a redelivery is a no-op


@shared_task(soft_time_limit=300, time_limit=330)
def monthly_circulars_task() -> int:
    """Queue last month's draft circular for every county whose ranking of last month
    succeeded (see the beat schedule in config/celery.py)."""
    import datetime as dt

    from django.utils import timezone

    from common.audit import Source, audit_context
    from reports.services import circulars_request_due

    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    with audit_context(source=Source.TASK):
        return circulars_request_due(period=last_month)


# --- exports ---

# An export of a province's 1.7 million members takes about a minute; the limits leave room
# for a slow night and stop a runaway job. The housekeeping task fails a job that a killed
# worker left running once its hard limit has passed.
EXPORT_SOFT_TIME_LIMIT = 1800
EXPORT_TIME_LIMIT = 1860


@shared_task(acks_late=True, soft_time_limit=EXPORT_SOFT_TIME_LIMIT, time_limit=EXPORT_TIME_LIMIT)
def export_job_run_task(export_job_id: int) -> None:
    from reports.exports.services import export_job_run

    export_job_run(export_job_id=export_job_id)  # claims the row; a redelivery is a no-op


@shared_task(soft_time_limit=300, time_limit=330)
def export_jobs_housekeeping_task() -> dict:
    from reports.exports.services import export_jobs_housekeeping

    return export_jobs_housekeeping(
        stale_after_seconds=EXPORT_TIME_LIMIT + 300, requeue_after_seconds=15 * 60
    )


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
