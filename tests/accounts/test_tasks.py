import datetime as dt

from axes.models import AccessLog
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.tasks import login_attempts_clean_task, sessions_clear_task


def test_housekeeping_tasks(db):
    Session.objects.create(
        session_key="old", session_data="x", expire_date=timezone.now() - dt.timedelta(days=1)
    )
    Session.objects.create(
        session_key="live", session_data="x", expire_date=timezone.now() + dt.timedelta(days=1)
    )
    old = AccessLog.objects.create(username="u", ip_address="10.0.0.1", user_agent="t")
    AccessLog.objects.filter(pk=old.pk).update(attempt_time=timezone.now() - dt.timedelta(days=200))
    recent = AccessLog.objects.create(username="u", ip_address="10.0.0.1", user_agent="t")
    sessions_clear_task.apply().get()
    login_attempts_clean_task.apply().get()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [recent.pk]
