"""The Celery task base: every task runs inside an audit context with source "task"."""

from celery import Task, shared_task


class AuditedTask(Task):
    def __call__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model

        from .audit import Source, audit_context

        actor = None
        actor_id = kwargs.get("actor_id")
        if actor_id:
            actor = get_user_model().objects.filter(pk=actor_id).first()
        with audit_context(source=Source.TASK, actor=actor, task=self.name):
            return super().__call__(*args, **kwargs)


@shared_task(soft_time_limit=300, time_limit=330)
def submission_keys_purge_task() -> int:
    from common.idempotency import submission_keys_purge

    return submission_keys_purge()


@shared_task(soft_time_limit=300, time_limit=330)
def tombstones_purge_task() -> int:
    from common.sync import tombstones_purge

    return tombstones_purge()
