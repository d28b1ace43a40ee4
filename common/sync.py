"""Incremental sync: a commit-safe order over every synced table, and tombstones for deletions.

The provincial mirror pulls each table page by page and later asks only for what changed. A
cursor on `(updated_at, id)` alone can skip rows: `updated_at` is stamped when a row is
written, not when its transaction commits, so a transaction that writes at 10:00:00 and
commits at 10:00:05 makes its row visible only after rows stamped 10:00:03 have been served
and the cursor has moved past 10:00:00 — that row is never pulled. A settle window (serve only
rows older than N seconds) narrows the gap but does not close it: a transaction that stays
open longer than N seconds (a big import, a slow lock wait) still loses rows. We chose an
order that cannot skip:

- Every synced row carries `sync_xid`, the 64-bit id of the transaction that last wrote it
  (`pg_current_xact_id()`), stamped by a BEFORE INSERT OR UPDATE trigger. Every way of writing
  is covered — `save()`, `QuerySet.update()` (which never touches `auto_now`), bulk inserts,
  raw SQL — because the database stamps it, not Django.
- The feed is ordered by `(sync_xid, id)` (a composite index per table) and serves only rows
  whose `sync_xid` is below the *horizon*: the oldest transaction of this database that is
  still running, or, when none is, the snapshot's `xmax` (the SQL function
  `common_sync_horizon()`, installed by common's migration 0002). Every transaction below the
  horizon has finished, so no row stamped below it can still appear; a row written by a
  transaction that is still open has a stamp at or above the horizon and waits. A row's next
  write restamps it with a newer id, so an update moves the row to the end of the feed and
  it is served again — an upsert for the mirror. Nothing is skipped; a version is served
  once.
- The horizon counts only transactions of *this* database (a long job in another database of
  the cluster does not stall the feed), only those of client backends (an autovacuum worker
  analyzing a table holds an id while it runs but never writes a synced row), and ignores
  read-only transactions (exports, other pulls), which hold no transaction id. A long writer
  of this database (an import running for minutes) holds the feed back for its duration:
  the price of never skipping, and the reason long jobs commit in batches. On a read replica
  the standby's snapshot `xmin` is used, which is conservative in the same way.
- A request that has written in its own open transaction (a test, a workflow endpoint)
  sees its own rows: the horizon is past its own transaction id as well.
- The horizon is read in its own statement *before* the page query, from fresh activity
  statistics (`pg_stat_clear_snapshot()`), so every transaction running when the page's
  snapshot is taken either was seen running (the horizon is at or below its id) or started
  after the horizon was read (its id is at or above `xmax`).

`updated_at` stays the human-readable change time, indexed for the `updated_since` filter.

Deletions: an AFTER DELETE statement trigger on each synced table writes one `Tombstone` per
deleted row, with the region code the row was scoped by (found through the same path as the
table's `visible_to()`), the deletion time and the same transaction stamp, so the deletion
feed pages exactly like the data. A county sees only the deletions of its own rows.

Known limit, documented for the province: a row that leaves a client's scope without being
deleted (a household moved to another county) is not announced to the client that loses it.
For the same reason a resource that serves only some states of its rows (circulars: published
and superseded; yearly assessments: finalized) serves only states that a row never leaves.
"""

from typing import Any

import pgtrigger
from django.db import connections, models

STAMP_SQL = "pg_current_xact_id()::text::bigint"


def sync_stamp_field() -> models.BigIntegerField:
    """The transaction stamp of a synced table (kept by the database, never by Django)."""
    return models.BigIntegerField(default=0, editable=False, db_index=False)


def sync_index(name: str) -> models.Index:
    return models.Index(fields=["sync_xid", "id"], name=f"{name}_api_sync")


class _ScopeSql:
    """The region code a deleted row was scoped by, as SQL over the transition table."""

    def __init__(self, scope_path: str):
        self.scope_path = scope_path

    def joins(self, model) -> tuple[str, str]:
        """(FROM clause over old_rows with LEFT JOINs, the code expression)."""
        parts = self.scope_path.split("__")
        alias, current, sql = "o", model, "old_rows o"
        for n, part in enumerate(parts[:-1], 1):
            field = current._meta.get_field(part)
            target = field.related_model
            nxt = f"j{n}"
            sql += (
                f' LEFT JOIN "{target._meta.db_table}" {nxt}'
                f' ON {nxt}."{target._meta.pk.column}" = {alias}."{field.column}"'
            )
            alias, current = nxt, target
        last = current._meta.get_field(parts[-1])
        return sql, f'{alias}."{last.column}"'


class _TombstoneTrigger(pgtrigger.Trigger):
    def __init__(self, *, scope_path: str, **kwargs: Any):
        self.scope = _ScopeSql(scope_path)
        super().__init__(**kwargs)

    def get_func(self, model):
        source, code = self.scope.joins(model)
        label = model._meta.label_lower
        # Identifiers from model metadata only, never from input.
        return (
            "INSERT INTO common_tombstone (model, object_id, scope_code, deleted_at, sync_xid) "  # noqa: S608
            f"SELECT '{label}', o.\"{model._meta.pk.column}\", coalesce({code}, ''), now(), "
            f"{STAMP_SQL} "
            f"FROM {source}; RETURN NULL;"
        )


def sync_triggers(scope_path: str) -> list[pgtrigger.Trigger]:
    """The stamp and the tombstone triggers of a synced table.

    `scope_path` is the table's `visible_to()` path to a region code (its QuerySet's
    `scope_path`, e.g. `household__village__code`); a deleted row's tombstone carries that code.
    """
    return [
        pgtrigger.Trigger(
            name="api_sync_stamp",
            when=pgtrigger.Before,
            operation=pgtrigger.Insert | pgtrigger.Update,
            func=f"NEW.sync_xid := {STAMP_SQL}; RETURN NEW;",
        ),
        _TombstoneTrigger(
            name="api_sync_tombstone",
            when=pgtrigger.After,
            operation=pgtrigger.Delete,
            level=pgtrigger.Statement,
            referencing=pgtrigger.Referencing(old="old_rows"),
            scope_path=scope_path,
        ),
    ]


class _TouchTrigger(pgtrigger.Trigger):
    def __init__(self, *, parent_field: str, rows: tuple[str, ...], **kwargs: Any):
        self.parent_field, self.rows = parent_field, rows
        super().__init__(**kwargs)

    def get_func(self, model):
        field = model._meta.get_field(self.parent_field)
        parent = field.related_model._meta
        # Identifiers from model metadata only, never from input.
        ids = " UNION ".join(f'SELECT "{field.column}" FROM {rows}' for rows in self.rows)  # noqa: S608
        # The parent's stamp trigger restamps it; no tracked field changes, so the audit
        # records the link itself (its own events), not an empty change of the parent.
        return (
            f'UPDATE "{parent.db_table}" SET sync_xid = 0 '  # noqa: S608
            f'WHERE "{parent.pk.column}" IN ({ids}); '
            "RETURN NULL;"
        )


def touch_triggers(parent_field: str, *, update: bool = False) -> list[pgtrigger.Trigger]:
    """Triggers on a link table (a team's joint units) that restamp its parent row, so that
    the parent, which lists the links, is served again by the feed. `updated_at` stays: it
    is the change time of the row's own fields.

    `update=True` for a table of rows nested in the parent's (a circular's entries, an
    assessment's scores): a changed row restamps its parent too (both parents, should it
    move from one to another)."""
    triggers = [
        _TouchTrigger(
            name="api_sync_touch_insert",
            when=pgtrigger.After,
            operation=pgtrigger.Insert,
            level=pgtrigger.Statement,
            referencing=pgtrigger.Referencing(new="new_rows"),
            parent_field=parent_field,
            rows=("new_rows",),
        ),
        _TouchTrigger(
            name="api_sync_touch_delete",
            when=pgtrigger.After,
            operation=pgtrigger.Delete,
            level=pgtrigger.Statement,
            referencing=pgtrigger.Referencing(old="old_rows"),
            parent_field=parent_field,
            rows=("old_rows",),
        ),
    ]
    if update:
        triggers.append(
            _TouchTrigger(
                name="api_sync_touch_update",
                when=pgtrigger.After,
                operation=pgtrigger.Update,
                level=pgtrigger.Statement,
                referencing=pgtrigger.Referencing(old="old_rows", new="new_rows"),
                parent_field=parent_field,
                rows=("new_rows", "old_rows"),
            )
        )
    return triggers


def sync_horizon(using: str = "default") -> int:
    """The stamp below which every transaction has finished (see the module docstring).

    Must run in its own statement before the page query, outside a transaction that has
    already read the page (autocommit, as API requests run)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT common_sync_horizon()")
        return int(cursor.fetchone()[0])


def tombstones_purge(*, older_than_days: int | None = None) -> int:
    """Drop tombstones past their retention (ZHUCUN_TOMBSTONE_RETENTION_DAYS); a deletion-feed
    cursor older than that is refused (410), so no client misses a purged deletion."""
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    from .models import Tombstone

    days = older_than_days or settings.ZHUCUN_TOMBSTONE_RETENTION_DAYS
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _counts = Tombstone.objects.filter(deleted_at__lt=cutoff).delete()
    return deleted
