"""The read endpoint of one synced table: list (cursor pages) and retrieve.

A subclass names its serializer, its FilterSet, its Chinese summary, description and example
row, and overrides `get_queryset()` with the app's selector, which starts from
`visible_to(user)`: an id out of the user's scope is then exactly a missing id (404).
Rows are read with `.values_list()` and serialized by the serializer's compiled plan; the
queries of a page do not depend on its size (two: the horizon and the page).

Every answer to an authenticated caller is logged by the configured pull logger (client,
resource, filters, rows, status) before it leaves, and a request that reveals ID numbers and
phones is refused unless the role holds the permission and a reason is given; the reason is
logged, the values never are.
"""

import time
from functools import cache
from typing import Any, ClassVar

from django.conf import settings
from django.http import Http404
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from . import REVEAL_PERMISSION
from .filters import StrictFilterBackend
from .pagination import SyncCursorPagination
from .permissions import ApiAccess, view_permission
from .schema import example
from .serializers import MaskedField, SyncSerializer
from .throttling import ApiClientThrottle, ApiUserThrottle

REVEAL_PARAMETERS = [
    OpenApiParameter(
        "reveal",
        bool,
        description=_(
            "为 true 时返回完整的身份证号和电话（默认脱敏）。仅限具有“查看完整个人信息”权限"
            "的角色，并须同时给出 reason；每次查看都记录在案（不记录号码本身）。"
        ),
        required=False,
    ),
    OpenApiParameter(
        "reason",
        str,
        description=_("查看完整身份证号和电话的理由（4到200字），与 reveal=true 同时使用。"),
        required=False,
    ),
]


@cache
def pull_logger():
    return import_string(settings.ZHUCUN_API_PULL_LOGGER)


class LoggedApiMixin:
    """Every answer is private (never kept by a browser or a proxy: personal data, or files
    of it) and, to an authenticated caller, logged by the configured pull logger with the
    resource, action, status, rows and duration. A view sets `row_count` (and
    `logged_reveal_reason()` when it revealed full values)."""

    resource: ClassVar[str] = ""  # the URL prefix, set by ApiRouter.register
    row_count = 0

    def logged_reveal_reason(self) -> str:
        return ""

    def initial(self, request, *args, **kwargs):
        self.started = time.perf_counter()
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        # Only a request that was authenticated is logged: asking `request.user` of one refused
        # before (an oversized upload) would authenticate it now, and a session's CSRF check
        # reads the whole body.
        user = getattr(request, "_user", None)
        if user is not None and user.is_authenticated:
            started = getattr(self, "started", None)
            pull_logger()(
                request=request,
                resource=self.resource,
                action=getattr(self, "action", None) or request.method.lower(),
                status=response.status_code,
                rows=self.row_count,
                reveal_reason=self.logged_reveal_reason(),
                duration_ms=int((time.perf_counter() - started) * 1000) if started else None,
            )
        return response


class SyncViewSet(LoggedApiMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class: ClassVar[type[SyncSerializer]]
    summary: ClassVar[Any] = ""
    description: ClassVar[Any] = ""
    example: ClassVar[dict] = {}
    pagination_class = SyncCursorPagination
    filter_backends = [StrictFilterBackend]
    permission_classes = [ApiAccess]
    throttle_classes = [ApiClientThrottle, ApiUserThrottle]
    renderer_classes = [JSONRenderer]
    lookup_value_regex = r"[0-9]{1,18}"

    personal_data: ClassVar[bool] = False  # has masked fields (set from the serializer)
    reveal = False
    reveal_reason = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "serializer_class" not in cls.__dict__:
            return  # an intermediate base class
        if not (cls.summary and cls.description and cls.example):
            raise TypeError(f"{cls.__name__} needs a Chinese summary, description and example")
        cls.serializer_class.plan()  # refuse unsupported fields now, not at the first request
        fields = cls.serializer_class().fields.values()
        cls.personal_data = any(isinstance(f, MaskedField) for f in fields)
        parameters = REVEAL_PARAMETERS if cls.personal_data else []
        extend_schema_view(
            list=extend_schema(
                tags=[str(cls.summary)],
                summary=cls.summary,
                description=cls.description,
                parameters=parameters,
                examples=[example(str(_("示例")), cls.example)],
            ),
            retrieve=extend_schema(
                tags=[str(cls.summary)],
                summary=_("%(summary)s：单条") % {"summary": cls.summary},
                description=_(
                    "按 ID 取一条。不存在或不在管辖范围内的 ID 都回答 404（两者无法区分）。"
                ),
                parameters=parameters,
                examples=[example(str(_("示例")), cls.example)],
            ),
        )(cls)

    # --- what subclasses may override -----------------------------------------------------

    @classmethod
    def model(cls):
        return cls.serializer_class.Meta.model

    def required_permissions(self) -> list[str]:
        return [view_permission(self.model())]

    def error_statuses(self) -> tuple[str, ...]:
        return ("400", "401", "403", "404", "405", "429")

    # --- the request ----------------------------------------------------------------------

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.reveal = self.personal_data and self.reveal_requested(request)

    def logged_reveal_reason(self) -> str:
        return self.reveal_reason if self.reveal else ""

    def reveal_requested(self, request) -> bool:
        raw = request.query_params.get("reveal")
        if raw not in (None, "true", "1", "false", "0"):
            raise exceptions.ValidationError({"reveal": [_g("reveal 只能为 true 或 false。")]})
        reason = request.query_params.get("reason")
        if reason is not None and (not 4 <= len(reason.strip()) <= 200 or "\x00" in reason):
            raise exceptions.ValidationError(
                {"reason": [_g("查看完整身份证号和电话须说明理由（4到200字）。")]}
            )
        if raw in (None, "false", "0"):
            return False
        if not request.user.has_perm(REVEAL_PERMISSION):
            raise exceptions.PermissionDenied(_g("您的角色不能查看完整的身份证号和电话。"))
        if reason is None:
            raise exceptions.ValidationError(
                {"reason": [_g("查看完整身份证号和电话须说明理由（4到200字）。")]}
            )
        self.reveal_reason = reason.strip()
        return True

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        plan = self.serializer_class.plan()
        rows = self.paginator.paginate_rows(queryset, plan.columns, request, self)
        results = plan.rows(rows, reveal=self.reveal)
        self.row_count = len(results)
        return Response(self.paginator.get_paginated_response_data(results))

    def retrieve(self, request, *args, **kwargs):
        plan = self.serializer_class.plan()
        row = self.get_queryset().filter(pk=kwargs[self.lookup_field]).values_list(*plan.columns)
        found = list(row[:1])
        if not found:
            raise Http404
        self.row_count = 1
        return Response(plan.rows(found, reveal=self.reveal)[0])
