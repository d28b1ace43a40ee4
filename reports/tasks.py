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
