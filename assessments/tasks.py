from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def ranking_run_task(run_id: int) -> None:
    from assessments.services import ranking_run

    ranking_run(run_id=run_id)  # claims the row; a redelivery is a no-op


@shared_task(soft_time_limit=300, time_limit=330)
def monthly_rankings_task() -> int:
    """Queue last month's ranking for every county that has a scheme in force on the
    month's first day (a county whose only scheme starts later is left alone: its run
    could only fail)."""
    import datetime as dt

    from django.utils import timezone

    from assessments.models import IndicatorScheme
    from assessments.services import ranking_request
    from common.audit import Source, audit_context
    from villages.models import Level, Region

    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    prefixes = set(
        IndicatorScheme.objects.filter(effective_from__lte=last_month).values_list(
            "prefix", flat=True
        )
    )
    counties = [
        c
        for c in Region.objects.filter(level=Level.COUNTY)
        if any(c.code.startswith(p) for p in prefixes)
    ]
    with audit_context(source=Source.TASK):
        for county in counties:
            ranking_request(county=county, period=last_month)
    return len(counties)


@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def assessment_fill_task(run_id: int) -> None:
    from assessments.services import assessment_fill_run
    from common.audit import Source, audit_context

    with audit_context(source=Source.TASK):
        assessment_fill_run(run_id=run_id)  # claims the row; a redelivery is a no-op
