"""A paginator for big admin lists: no exact count of hundreds of thousands of rows.

An unfiltered list of a big table uses PostgreSQL's own row estimate; a filtered list counts
at most `ZHUCUN_ADMIN_COUNT_CAP` rows and shows "5000+" beyond. Pages past the cap are reached
by narrowing the filters or searching; exports give the full set.
"""

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


class CappedCount(int):
    """An int that prints as "N+": the count is at least N."""

    def __str__(self) -> str:
        return f"{int(self)}+"


class FastCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        qs = self.object_list
        cap = settings.ZHUCUN_ADMIN_COUNT_CAP
        if not hasattr(qs, "query"):
            return super().count
        if not qs.query.where:
            estimate = _estimate(qs)
            if estimate > cap:
                return CappedCount(estimate)
        found = qs.order_by().values("pk")[: cap + 1].count()
        return CappedCount(cap) if found > cap else found


def _estimate(qs) -> int:
    table = qs.model._meta.db_table
    with connections[qs.db].cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return max(int(row[0]), 0) if row else 0
