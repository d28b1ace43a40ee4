from celery import shared_task

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
