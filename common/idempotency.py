"""Exactly-once form submissions: a client key per submission, and the first answer kept.

`submit_once` inserts the key and runs the write in one transaction. A concurrent duplicate
blocks on the unique index until the first commits, then finds the key and returns the
first answer; if the first fails (bad input), nothing is kept and the retry runs afresh.
"""

import uuid
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import SubmissionKey


def parse_key(value: str | None) -> uuid.UUID:
    """The submission key of a form, or a clear error (the page must be reloaded)."""
    try:
        return uuid.UUID(str(value or ""))
    except ValueError:
        raise ValidationError(_("提交标识无效，请刷新页面后重新提交。")) from None


def submit_once(*, user, key: uuid.UUID, kind: str, write: Callable[[], str]) -> tuple[str, bool]:
    """Run `write` (which returns the answer, a URL) once per (user, key).

    Returns (answer, replayed): replayed is True when the key had been used already.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {SubmissionKey._meta.db_table} (user_id, key, kind, answer, "  # noqa: S608
                "created_at) VALUES (%s, %s, %s, '', %s) "
                "ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
                [user.pk, key, kind, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            first = SubmissionKey.objects.get(user=user, key=key)
            if first.kind != kind:
                raise ValidationError(_("提交标识已用于其他表单，请刷新页面后重新提交。"))
            return first.answer, True
        answer = write()
        SubmissionKey.objects.filter(pk=row[0]).update(answer=answer)
        return answer, False


def submission_keys_purge(*, days: int = 30) -> int:
    """Forget keys older than `days`: a phone does not resend a form after a month."""
    from datetime import timedelta

    deleted, _rows = SubmissionKey.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=days)
    ).delete()
    return deleted
