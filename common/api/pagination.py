"""Cursor pages in the commit-safe order of common.sync: `(sync_xid, id)` below the horizon.

A page is one index range scan from the cursor (a row comparison on the composite index), so
the last page of a province costs what the first does; there is no count and no offset. The
`next` link is always given: with `has_more` true the client goes on now; with it false the
client has everything committed so far and keeps `next` to ask later for what changed since.

The cursor is signed (a client cannot forge a position or carry it to other filters) and
dated: a deletion feed cursor older than the tombstone retention answers 410, because the
deletions it would have seen may have been purged.
"""

import hashlib
from typing import Any

from django.core import signing
from django.db import models
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.utils.urls import replace_query_param

from common.sync import sync_horizon

CURSOR_SALT = "zhucun.api.cursor"
# Query parameters that do not select rows (the cursor's own, and how rows are shown).
NOT_FILTERS = {"cursor", "page_size", "reveal", "reason"}


class CursorGone(exceptions.APIException):
    status_code = 410
    default_detail = "cursor expired"
    default_code = "cursor_gone"


def filters_fingerprint(query_params) -> str:
    items = sorted(
        (key, value)
        for key in query_params
        if key not in NOT_FILTERS
        for value in query_params.getlist(key)
    )
    return hashlib.sha256(repr(items).encode()).hexdigest()[:12]


class SyncCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 100
    max_page_size = 1000
    # Seconds after which a cursor is refused with 410 (None: never).
    max_age: int | None = None

    def page_size_of(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("每页条数应为1到%(max)d之间的整数。") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def position(self, request) -> tuple[int, int] | None:
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            x, i, fingerprint = signing.loads(raw, salt=CURSOR_SALT, max_age=self.max_age)
        except signing.SignatureExpired:
            raise CursorGone(
                _("同步游标已超过删除记录的保留期，请重新全量同步后再取删除记录。")
            ) from None
        except (signing.BadSignature, ValueError, TypeError):
            raise exceptions.ValidationError(
                {self.cursor_query_param: [_("游标无效，请使用上一页返回的 next 链接。")]}
            ) from None
        if fingerprint != filters_fingerprint(request.query_params):
            raise exceptions.ValidationError(
                {
                    self.cursor_query_param: [
                        _("游标与本次的筛选条件不符，筛选条件变化后请从头同步。")
                    ]
                }
            )
        return int(x), int(i)

    def paginate_rows(
        self, queryset: models.QuerySet, columns: tuple[str, ...], request, view=None
    ) -> list[tuple]:
        """One page of value tuples (`columns`, then sync_xid) and the paging state."""
        self.request = request
        size = self.page_size_of(request)
        after = self.position(request)
        table = queryset.model._meta.db_table
        horizon = sync_horizon(queryset.db)
        qs = queryset.filter(sync_xid__lt=horizon)
        if after is not None:
            # A row comparison, so that the composite index gives the page in one range scan
            # (Django has no public expression for it); the table name is the model's.
            qs = qs.filter(
                RawSQL(  # noqa: S611
                    f'("{table}"."sync_xid", "{table}"."id") > (%s, %s)',
                    after,
                    output_field=models.BooleanField(),
                )
            )
        id_at = columns.index("id")
        rows = list(qs.order_by("sync_xid", "id").values_list(*columns, "sync_xid")[: size + 1])
        self.has_more = len(rows) > size
        rows = rows[:size]
        self.last = (rows[-1][-1], rows[-1][id_at]) if rows else after or (0, 0)
        return rows

    def next_link(self) -> str:
        token = signing.dumps(
            [*self.last, filters_fingerprint(self.request.query_params)],
            salt=CURSOR_SALT,
            compress=False,
        )
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, token)

    def get_paginated_response_data(self, results: list[dict]) -> dict[str, Any]:
        return {"next": self.next_link(), "has_more": self.has_more, "results": results}

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next", "has_more", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "description": str(
                        _(
                            "下一页链接（总是给出）。has_more 为 true 时立即请求它继续；为 false 时"
                            "已取完目前已提交的全部数据，保存它，下次从这里只取此后的变更。"
                        )
                    ),
                    "example": "https://zhucun.example.gov.cn/api/v1/households/?cursor=WzEyMzQ1LDY3OCwiYWJjIl0:1t:abc",
                },
                "has_more": {
                    "type": "boolean",
                    "description": str(_("是否还有更多已提交的数据可以立即取。")),
                    "example": True,
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(
                    _("游标：取上一页响应中的 next 链接即可，不要自己构造。不带游标从头开始。")
                ),
                "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_\-:]*$"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(
                    _("每页条数，默认%(default)d，最大%(max)d。")
                    % {"default": self.page_size, "max": self.max_page_size}
                ),
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
                "example": 1000,
            },
        ]
