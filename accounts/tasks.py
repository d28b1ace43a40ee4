from celery import shared_task


@shared_task(soft_time_limit=300, time_limit=330)
def sessions_clear_task() -> None:
    from django.core.management import call_command

    call_command("clearsessions")


@shared_task(soft_time_limit=300, time_limit=330)
def login_attempts_clean_task() -> None:
    """Login logs are kept 180 days (network-security law: at least six months)."""
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.reset_logs(age_days=180)


@shared_task(soft_time_limit=300, time_limit=330)
def api_pulls_purge_task() -> int:
    """API pull logs are kept ZHUCUN_API_PULL_RETENTION_DAYS days (default 180)."""
    from accounts.services import api_pulls_purge

    return api_pulls_purge()
