"""Running one export: the rows of the requester's scope through the layout into a file.

The rows come from one SQL statement read through a server-side cursor in chunks
(`.iterator(chunk_size=…)`, a named cursor on PostgreSQL) inside a read-only REPEATABLE READ
transaction, so the count and the rows are one snapshot and the server streams rows as they
come instead of materialising the result first. Progress is written about once a second on a
second connection, so that the progress page sees it while the read transaction is open.
Memory stays flat: a chunk of rows, the writer's buffer, nothing else.
"""

import datetime as dt
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from households.selectors import household_list, member_list
from teams.selectors import cadre_list, unit_list

from .csv_writer import CsvStreamWriter
from .filters import apply_filters
from .layouts import LAYOUTS, Layout, row_builder
from .xlsx import MAX_DATA_ROWS, XlsxStreamWriter

PROGRESS_SECONDS = 1.0


def base_queryset(entity: str, user: Any):
    """The rows a user may export: the households and roster selectors, from
    `visible_to(user)`."""
    if entity == "household":
        return household_list(user=user, with_risk=False)
    if entity == "member":
        return member_list(user=user)
    if entity == "cadre":
        return cadre_list(user=user, with_warnings=False)
    if entity == "unit":
        return unit_list(user=user)
    raise ValueError(entity)


def export_queryset(layout: Layout, filters: dict[str, Any], *, user: Any):
    """The filtered rows of `layout` for `user` as a values_list of the layout's sources,
    and the same rows without the joins (to count them)."""
    rows, year = apply_filters(
        layout.entity, base_queryset(layout.entity, user), filters, user=user
    )
    annotations, names = layout.query(year)
    values = rows.annotate(**annotations).order_by(*layout.order_by).values_list(*names)
    return values, rows


@dataclass
class ExportResult:
    rows: int
    sheets: int
    size: int


def open_writer(fmt: str, fileobj: IO[bytes], layout: Layout, *, max_data_rows: int):
    columns = [c.sheet_column() for c in layout.columns]
    title = str(layout.sheet_title or layout.title)
    if fmt == "csv":
        return CsvStreamWriter(fileobj, columns, title=title)
    return XlsxStreamWriter(
        fileobj, columns, title=title, max_data_rows=max_data_rows, creator="驻村通"
    )


def write_export(
    *,
    layout: Layout,
    fmt: str,
    rows: Iterator[tuple],
    fileobj: IO[bytes],
    unmasked: bool,
    data_date: dt.date,
    on_progress: Callable[[int], None] = lambda n: None,
    max_data_rows: int = MAX_DATA_ROWS,
) -> ExportResult:
    """Write `rows` (tuples of the layout's sources) into `fileobj` in the given format."""
    build = row_builder(layout, unmasked=unmasked, data_date=data_date)
    writer = open_writer(fmt, fileobj, layout, max_data_rows=max_data_rows)
    chunk = settings.ZHUCUN_EXPORT_CHUNK_ROWS
    with writer:
        write = writer.write_row
        for n, raw in enumerate(rows, 1):
            write(build(raw))
            if n % chunk == 0:
                on_progress(n)
    return ExportResult(rows=writer.rows, sheets=len(writer.sheets), size=fileobj.tell())


class ProgressWriter:
    """Store a job's progress at most once a second, on its own connection when the export
    reads in a transaction of its own (else the update would not be seen until the end)."""

    def __init__(self, job_id: int, *, side_connection: bool):
        from reports.models import ExportJob

        self.job_id = job_id
        self.table = connection.ops.quote_name(ExportJob._meta.db_table)
        self.last = 0.0
        self.db = connections.create_connection("default") if side_connection else connection

    def __call__(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_SECONDS:
            return
        self.last = now
        with self.db.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET progress = %s, updated_at = %s "  # noqa: S608
                "WHERE id = %s AND status = 'running'",
                [done, timezone.now(), self.job_id],
            )

    def close(self) -> None:
        if self.db is not connection:
            self.db.close()


@contextmanager
def read_transaction() -> Iterator[bool]:
    """The transaction an export reads in; yields whether it is the export's own.

    Its own (a worker): one REPEATABLE READ, READ ONLY snapshot for the count and the rows.
    The planner is told that every row of the cursor will be read (not the first tenth, its
    default for cursors) and not to JIT-compile the statement: for an export's one big
    query the compilation costs seconds and saves less. Inside a caller's transaction (the
    tests), the same settings apply to a savepoint and the isolation level is the caller's.
    """
    own = not connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            if own:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
            cursor.execute("SET LOCAL jit = off")
        yield own


def run_export(job, *, max_data_rows: int = MAX_DATA_ROWS) -> tuple[ExportResult, IO[bytes]]:
    """Export a claimed job into a temporary file (returned open, at its end)."""
    layout = LAYOUTS[job.profile]
    user = job.requested_by
    progress = ProgressWriter(job.pk, side_connection=not connection.in_atomic_block)
    # Returned open to the caller, which stores and closes it.
    tmp = tempfile.TemporaryFile(prefix="zhucun-export-")  # noqa: SIM115
    try:
        with read_transaction():
            values, counted = export_queryset(layout, job.filters, user=user)
            total = counted.count()
            with progress.db.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {progress.table} SET total = %s WHERE id = %s",  # noqa: S608
                    [total, job.pk],
                )
            result = write_export(
                layout=layout,
                fmt=job.format,
                rows=values.iterator(chunk_size=settings.ZHUCUN_EXPORT_CHUNK_ROWS),
                fileobj=tmp,
                unmasked=job.unmasked,
                data_date=timezone.localdate(),
                on_progress=progress,
                max_data_rows=max_data_rows,
            )
    except BaseException:
        tmp.close()
        raise
    finally:
        progress.close()
    return result, tmp
