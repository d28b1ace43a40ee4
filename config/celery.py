"""The Celery app. Tasks are discovered in every app's tasks.py."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("zhucun", task_cls="common.tasks:AuditedTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Nightly at 02:30: drop expired sessions so the table stays small.
    "sessions-clear": {
        "task": "accounts.tasks.sessions_clear_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # Nightly at 02:40: drop login logs older than their 180-day retention.
    "login-attempts-clean": {
        "task": "accounts.tasks.login_attempts_clean_task",
        "schedule": crontab(hour=2, minute=40),
    },
    # First day of the month at 03:00: rank every county's teams on last month's data.
    "monthly-rankings": {
        "task": "assessments.tasks.monthly_rankings_task",
        "schedule": crontab(day_of_month=1, hour=3, minute=0),
    },
    # Second day of the month at 04:00: draft last month's red/black-list circular for every
    # county whose ranking of last month succeeded (the rankings run on the 1st at 03:00, and
    # a county that recomputes on the 1st is done by then), so that staff find the drafts
    # ready to word and publish on the morning of the 2nd. Counties that already have a
    # circular of the month are left alone.
    "monthly-circulars": {
        "task": "reports.tasks.monthly_circulars_task",
        "schedule": crontab(day_of_month=2, hour=4, minute=0),
    },
    # Nightly at 02:55: drop API tombstones past their retention (90 days); older deletion
    # cursors are refused, so the province re-syncs rather than missing a deletion.
    "tombstones-purge": {
        "task": "common.tasks.tombstones_purge_task",
        "schedule": crontab(hour=2, minute=55),
    },
    # Nightly at 03:05: drop API pull logs past their retention (180 days).
    "api-pulls-purge": {
        "task": "accounts.tasks.api_pulls_purge_task",
        "schedule": crontab(hour=3, minute=5),
    },
    # Nightly at 03:10: delete uploaded import files and their reports (they hold ID numbers)
    # some days after the import ended; the job and its problem list stay.
    "import-files-purge": {
        "task": "reports.tasks.import_files_purge_task",
        "schedule": crontab(hour=3, minute=10),
    },
    # Nightly at 02:50: forget form submission keys older than 30 days (exactly-once forms).
    "submission-keys-purge": {
        "task": "common.tasks.submission_keys_purge_task",
        "schedule": crontab(hour=2, minute=50),
    },
    # Every hour at :17: delete export files past their expiry (24 h; personal data must not
    # linger), fail export jobs that a killed worker left running, re-queue lost ones.
    "export-jobs-housekeeping": {
        "task": "reports.tasks.export_jobs_housekeeping_task",
        "schedule": crontab(minute=17),
    },
}
