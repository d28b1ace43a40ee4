"""Export jobs through the REST API (`/api/v1/exports/`): ask for an export, follow its
progress, download its file.

- `POST /exports/` queues an export of the rows the caller may see (the same service as the
  admin's "导出 Excel" action) and answers 202 with the job and its `Location`. An identical
  request while the first is still pending or running answers 202 with that same job (same
  id, same `Location`), so a client may safely send a request again after a lost answer.
- `GET /exports/` (the caller's own jobs, newest first, in pages) and `GET /exports/{id}/`
  (status, progress, the link to the file once it is ready).
- `GET /exports/{id}/file/` streams the file to its requester. Anyone else's job is a missing
  id (404), a superuser's too; an expired file is 410, a job without a file (yet) is 409.

Who may: every role holding `reports.add_exportjob` (accounts.roles), including the
province's machine token: this is the one API resource that accepts a POST; the synced
resources have no write handlers at all and keep answering 405. Session callers send the
CSRF token like any DRF session POST.

The request body is checked strictly against what the schema says (JSON types, the filter
names of the chosen list, their values), so that a request the schema allows is accepted
and every other one is a 400 in the one error format before the service runs; the service
then checks the same filters again (`reports.exports.filters.clean_filters`).
"""

import re
from typing import Any, ClassVar

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from common.api.filters import MAX_ID
from common.api.permissions import ApiAccess
from common.api.schema import ApiAutoSchema, ErrorSerializer
from common.api.throttling import ApiClientThrottle, ApiUserThrottle
from common.api.viewsets import LoggedApiMixin
from common.audit import Source, audit_context, client_ip

from .exports.filters import FILTERSETS, MAX_IDS, HashFilter, IdsFilter
from .exports.layouts import LAYOUTS, PROFILE_CHOICES
from .exports.selectors import export_job_get, export_job_list
from .exports.services import (
    CONTENT_TYPES,
    EXPORT_PERMISSION,
    ExportExpiredError,
    ExportNotReadyError,
    export_job_request,
)
from .exports.views import export_job_download_response
from .models import ExportJob

TAG = _("导出任务")

# --- strict JSON fields: the value's JSON type is the schema's, nothing is coerced ----------


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (not "12", not true, not 1.5)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false (not "true", not 1)."""

    default_error_messages = {"invalid": _("应为 true 或 false。")}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictChoiceField(serializers.ChoiceField):
    """One of the choices, as a JSON string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string matching `pattern` as a whole (by default: any text without NUL, which
    PostgreSQL cannot store), taken as it is (no trimming). The schema states the pattern;
    an empty string is allowed only with `allow_blank` (the schema's second alternative)."""

    default_error_messages = {
        "invalid": _("应为文本。"),
        "pattern": _("不能含有空字符（\\x00）。"),
    }

    def __init__(self, *, pattern: str = r"^[^\x00]+$", pattern_message=None, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.pattern = re.compile(pattern)
        if pattern_message is not None:
            self.error_messages["pattern"] = pattern_message
        # The pattern says it (and the schema shows it); one message is enough.
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]
        self.validators.append(RegexValidator(pattern))  # read by the schema generator

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not self.pattern.fullmatch(data):
            self.fail("pattern")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800") from a JSON escape
            self.fail("invalid")
        return data


# --- the filters: one serializer per list, made from the export filter layer ----------------


class ExportFilters(serializers.Serializer):
    """The filters of one list (`reports.exports.filters`), each as its JSON type. A name the
    list does not know is refused, with the filter layer's own message."""

    entity: ClassVar[str] = ""
    description: ClassVar[Any] = ""  # the schema's, in Chinese

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise exceptions.ValidationError(
                    {
                        "non_field_errors": [
                            _g("导出不支持这些筛选条件：%(names)s") % {"names": "、".join(unknown)}
                        ]
                    }
                )
        return super().to_internal_value(data)


def filter_field(spec: django_filters.Filter) -> serializers.Field:
    """The JSON field of one export filter: its type, its limits, its Chinese label."""
    extra = spec.extra
    common = {"required": False, "label": spec.label}
    if isinstance(spec, IdsFilter):
        return serializers.ListField(
            child=StrictIntegerField(min_value=1, max_value=MAX_ID),
            max_length=MAX_IDS,
            help_text=_("只导出这些ID的记录（最多10000个），其他筛选条件同时生效。"),
            **common,
        )
    if isinstance(spec, HashFilter):
        (validator,) = extra["validators"]
        return StrictCharField(
            pattern=validator.regex.pattern,
            pattern_message=validator.message,
            help_text=_("身份证号或电话的密钥散列（64位十六进制）；一般用 q 直接搜索即可。"),
            **common,
        )
    if isinstance(spec, django_filters.ChoiceFilter):
        return StrictChoiceField(choices=list(extra["choices"]), **common)
    if isinstance(spec, django_filters.BooleanFilter):
        return StrictBooleanField(**common)
    if isinstance(spec, django_filters.NumberFilter):
        # A filter without limits of its own is a record id (county, township, village …).
        return StrictIntegerField(
            min_value=extra.get("min_value", 1), max_value=extra.get("max_value", MAX_ID), **common
        )
    if isinstance(spec, django_filters.CharFilter):
        return StrictCharField(max_length=extra.get("max_length", 64), **common)
    raise TypeError(f"export filter {spec.field_name!r}: {type(spec).__name__} has no JSON field")


def filters_serializer(entity: str, description) -> type[ExportFilters]:
    fields = {name: filter_field(spec) for name, spec in FILTERSETS[entity].base_filters.items()}
    name = f"{entity.title()}ExportFilters"
    attrs = {"__module__": __name__, "entity": entity, "description": description}
    return type(name, (ExportFilters,), {**attrs, **fields})


HouseholdExportFilters = filters_serializer(
    "household", _("帮扶户名单（household_system、household_national）的筛选条件。")
)
MemberExportFilters = filters_serializer(
    "member", _("家庭成员名单（member_system、member_national）的筛选条件。")
)
CadreExportFilters = filters_serializer("cadre", _("驻村干部名单（cadres）的筛选条件。"))
UnitExportFilters = filters_serializer("unit", _("派出单位名单（units）的筛选条件。"))


class _DescribedInChinese:
    """A component described by the serializer's `description` (gettext), not by its
    class's English docstring."""

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["description"] = str(self.target.description)
        return schema


class ExportFiltersSchema(_DescribedInChinese, OpenApiSerializerExtension):
    """...and a filter name the list does not know is not accepted."""

    target_class = ExportFilters
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        schema["additionalProperties"] = False
        return schema


# --- the request ----------------------------------------------------------------------------

PROFILES_HELP = format_lazy(
    "{}" + "；".join(["{}：{}（{}）"] * len(LAYOUTS)) + "。",
    _("导出内容（列的格式）。"),
    *[part for key, layout in LAYOUTS.items() for part in (key, layout.title, layout.description)],
)
FILTERS_HELP = _(
    "筛选条件，名称和取值与后台该名单的筛选参数相同，只导出您管辖范围内符合条件的记录；"
    "不认识的名称或不正确的值回答400，不创建任务。收入类列和筛选（risk、band）按 year "
    "（或 income_year）年度计算，默认今年。q 中的完整身份证号或电话只以密钥散列保存。"
)


class ExportRequestInput(serializers.Serializer):
    """The request as the service takes it; a subclass per list narrows `profile` to the
    list's profiles and `filters` to its filters."""

    description: ClassVar[Any] = _("导出申请。")
    profile = StrictChoiceField(choices=PROFILE_CHOICES, help_text=PROFILES_HELP)
    format = StrictChoiceField(
        choices=ExportJob.Format.choices,
        default=ExportJob.Format.XLSX,
        help_text=_("文件格式：xlsx（默认）或 csv（UTF-8，带BOM）。"),
    )
    filters = serializers.DictField(required=False, help_text=FILTERS_HELP)
    unmasked = StrictBooleanField(
        default=False,
        help_text=_(
            "为 true 时文件含完整证件号码和电话（默认脱敏）。仅限具有“导出完整证件号码和电话”"
            "权限的角色（县级管理员），并须在 reason 中说明用途；申请和每次下载都记录在案。"
        ),
    )
    reason = StrictCharField(
        max_length=200,
        default="",
        allow_blank=True,
        help_text=_("用途说明（至少4个字），unmasked 为 true 时必填，否则不保存。"),
    )


def _request_input(entity: str, filters: type[ExportFilters], description):
    # Named `<List>Export`: the schema's request component is then `<List>ExportRequest`.
    choices = [(key, layout.title) for key, layout in LAYOUTS.items() if layout.entity == entity]
    fields = {
        "profile": StrictChoiceField(choices=choices, help_text=PROFILES_HELP),
        "filters": filters(required=False, help_text=FILTERS_HELP),
    }
    attrs = {"__module__": __name__, "description": description}
    return type(f"{entity.title()}Export", (ExportRequestInput,), {**attrs, **fields})


class ExportRequestSchema(_DescribedInChinese, OpenApiSerializerExtension):
    target_class = ExportRequestInput
    match_subclasses = True


HouseholdExport = _request_input("household", HouseholdExportFilters, _("导出帮扶户名单的申请。"))
MemberExport = _request_input("member", MemberExportFilters, _("导出家庭成员名单的申请。"))
CadreExport = _request_input("cadre", CadreExportFilters, _("导出驻村干部名单的申请。"))
UnitExport = _request_input("unit", UnitExportFilters, _("导出派出单位名单的申请。"))
REQUEST_INPUTS = {
    "household": HouseholdExport,
    "member": MemberExport,
    "cadre": CadreExport,
    "unit": UnitExport,
}


def request_input(data: Any) -> ExportRequestInput:
    """The input serializer for the body's profile (an unknown profile: the general one,
    which reports it)."""
    profile = data.get("profile") if isinstance(data, dict) else None
    layout = LAYOUTS.get(profile) if isinstance(profile, str) else None
    serializer_class = REQUEST_INPUTS[layout.entity] if layout else ExportRequestInput
    return serializer_class(data=data)


# --- the job --------------------------------------------------------------------------------


class ExportJobSerializer(serializers.ModelSerializer):
    description: ClassVar[Any] = _("导出任务：申请的内容、状态和进度、文件。")

    profile_display = serializers.CharField(source="get_profile_display", label=_("导出内容名称"))
    status_display = serializers.CharField(source="get_status_display", label=_("状态名称"))
    filters = serializers.DictField(label=_("筛选条件（规范化后保存的）"))
    percent = serializers.IntegerField(label=_("进度（%）"), min_value=0, max_value=100)
    expired = serializers.SerializerMethodField(label=_("文件已过期"))
    url = serializers.SerializerMethodField(label=_("本任务的地址"))
    download_url = serializers.SerializerMethodField(
        label=_("下载地址"), help_text=_("导出完成且文件未过期时给出，否则为 null。")
    )

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "url",
            "profile",
            "profile_display",
            "format",
            "filters",
            "unmasked",
            "reason",
            "status",
            "status_display",
            "progress",
            "total",
            "percent",
            "row_count",
            "sheets",
            "error",
            "file_name",
            "file_size",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "expired",
            "download_url",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "progress": {"help_text": _("已写入的行数（导出中随时更新）。")},
            "total": {"help_text": _("预计行数（开始导出后给出）。")},
            "error": {"help_text": _("失败时的中文原因。")},
            "expires_at": {"help_text": _("文件过期时间（完成后默认24小时），过期后下载回答410。")},
        }

    def get_expired(self, job: ExportJob) -> bool:
        return job.status == ExportJob.Status.SUCCEEDED and not job.is_downloadable

    def get_url(self, job: ExportJob) -> str:
        return reverse("api:exports-detail", args=[job.pk], request=self.context["request"])

    def get_download_url(self, job: ExportJob) -> str | None:
        if not job.is_downloadable:
            return None
        return reverse("api:exports-file", args=[job.pk], request=self.context["request"])


EXAMPLE_RUNNING = {
    "id": 4021,
    "url": "https://zhucun.example.gov.cn/api/v1/exports/4021/",
    "profile": "member_national",
    "profile_display": "人口名单（国家系统格式）",
    "format": "xlsx",
    "filters": {"county": "12", "relation__exact": "head", "year": "2026"},
    "unmasked": False,
    "reason": "",
    "status": "running",
    "status_display": "导出中",
    "progress": 30000,
    "total": 120000,
    "percent": 25,
    "row_count": None,
    "sheets": None,
    "error": "",
    "file_name": "",
    "file_size": None,
    "created_at": "2026-11-18T09:30:02+08:00",
    "started_at": "2026-11-18T09:30:03+08:00",
    "finished_at": None,
    "expires_at": None,
    "expired": False,
    "download_url": None,
}
EXAMPLE_PENDING = {
    **EXAMPLE_RUNNING,
    "status": "pending",
    "status_display": "排队中",
    "progress": 0,
    "total": None,
    "percent": 0,
    "started_at": None,
}
EXAMPLE_SUCCEEDED = {
    **EXAMPLE_RUNNING,
    "status": "succeeded",
    "status_display": "已完成",
    "progress": 120000,
    "total": 120000,
    "percent": 100,
    "row_count": 120000,
    "sheets": 1,
    "file_name": "人口名单（国家系统格式）-山西省-20261118-0930.xlsx",
    "file_size": 9437184,
    "finished_at": "2026-11-18T09:31:10+08:00",
    "expires_at": "2026-11-19T09:31:10+08:00",
    "download_url": "https://zhucun.example.gov.cn/api/v1/exports/4021/file/",
}
EXAMPLE_REQUEST = {
    "profile": "member_national",
    "format": "xlsx",
    "filters": {"county": 12, "relation__exact": "head", "year": 2026},
}


class ExportJobComponent(_DescribedInChinese, OpenApiSerializerExtension):
    target_class = ExportJobSerializer


# --- paging ---------------------------------------------------------------------------------

MAX_PAGE = 2**31 - 1


class ExportJobPagination(PageNumberPagination):
    """Numbered pages of the caller's jobs, newest first. A page number or size that is not
    a whole number in range is a 400; a page past the last is a 404."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    page_query_description = _("页码，从1开始。")
    page_size_query_description = _("每页条数，默认20，最大100。")
    invalid_page_message = _("页码超出范围。")

    @staticmethod
    def _whole(raw: str, low: int, high: int) -> int | None:
        if raw.isascii() and raw.isdigit() and len(raw) <= 10 and low <= int(raw) <= high:
            return int(raw)
        return None

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param, "1")
        if self._whole(raw, 1, MAX_PAGE) is None:
            raise exceptions.ValidationError({self.page_query_param: [_g("页码应为正整数。")]})
        return raw

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = self._whole(raw, 1, self.max_page_size)
        if size is None:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _g("每页条数应为1到%(max)d之间的整数。") % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def get_paginated_response_schema(self, schema):
        page = "https://zhucun.example.gov.cn/api/v1/exports/?page={}"
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": str(_("您的导出任务总数。")),
                    "example": 45,
                },
                "next": {
                    **link,
                    "description": str(_("下一页的链接，没有下一页时为 null。")),
                    "example": page.format(3),
                },
                "previous": {
                    **link,
                    "description": str(_("上一页的链接，没有上一页时为 null。")),
                    "example": page.format(1),
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        limits = {
            self.page_query_param: {"minimum": 1, "maximum": MAX_PAGE},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(limits[parameter["name"]])
        return parameters


# --- the endpoint ---------------------------------------------------------------------------


class JsonBodyParser(JSONParser):
    """A body that is not JSON is a 400 in Chinese (DRF's own message is English)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except exceptions.ParseError:
            raise exceptions.ParseError(_g("请求体不是有效的 JSON。")) from None


class ExportJobSchema(ApiAutoSchema):
    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body is not None:
            # A request names at least its profile (drf-spectacular cannot tell from oneOf).
            body["required"] = True
        return body


class ExportAccess(ApiAccess):
    message = _("您的角色不能导出数据。")


def _error(description) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


UNAUTHENTICATED = _error(_("未提供或提供了无效的身份凭证（令牌或登录会话）。"))
FORBIDDEN = _error(_("角色不能导出数据（如工作队），或登录会话的请求缺少 CSRF 令牌。"))
THROTTLED = _error(_("请求过于频繁，请按 Retry-After 头所示的秒数后重试。"))
NOT_ALLOWED = _error(_("该地址不接受此请求方法。"))
NOT_FOUND = _error(_("导出任务不存在，或不是您申请的（两者的回答完全相同）。"))
FILE = OpenApiResponse(
    OpenApiTypes.BINARY, description=_("文件本身，按任务的格式：.xlsx，或 .csv（UTF-8，带BOM）。")
)
ID_DESCRIPTION = _("按 ID 取您自己的一个导出任务；别人的任务（超级管理员看别人的也一样）回答404。")


class ExportJobViewSet(LoggedApiMixin, viewsets.GenericViewSet):
    """Export jobs of the caller: request, list, status, file (see the module docstring)."""

    permission_classes = [ExportAccess]
    throttle_classes = [ApiClientThrottle, ApiUserThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [JsonBodyParser]
    pagination_class = ExportJobPagination
    serializer_class = ExportJobSerializer
    lookup_value_regex = r"[0-9]{1,18}"
    schema = ExportJobSchema()

    def required_permissions(self) -> list[str]:
        return [EXPORT_PERMISSION]

    def error_statuses(self) -> tuple[str, ...]:
        return ()  # each operation documents its own (below)

    def get_queryset(self):
        return export_job_list(user=self.request.user)

    def perform_content_negotiation(self, request, force=False):
        # The file is whatever it is (xlsx, csv); a client that asks for it by its type
        # still gets it. Errors are JSON as everywhere.
        return super().perform_content_negotiation(request, force=force or self.action == "file")

    # --- the operations -------------------------------------------------------------------

    @extend_schema(
        tags=[TAG],
        summary=_("申请导出"),
        description=_(
            "申请把帮扶户或家庭成员名单导出为 .xlsx 或 .csv 文件：只含调用者管辖范围内的记录，"
            "证件号码和电话默认脱敏。导出在后台排队进行，立即回答202和任务（Location 头为任务"
            "地址），之后用 GET /api/v1/exports/{id}/ 查看进度，完成后从 download_url 下载。"
            "同一调用者在前一个相同的申请（导出内容、格式、筛选条件、是否脱敏都相同）仍在排队或"
            "导出中时再次申请，回答202和那个任务，不会重复导出；因此网络中断后可放心重发。"
            "省级接口令牌、市、县、乡镇和督查人员可以导出，工作队不可以；用登录会话调用时须"
            "带 CSRF 令牌（X-CSRFToken 头）。"
        ),
        request=PolymorphicProxySerializer(
            component_name="Export",
            serializers={key: REQUEST_INPUTS[layout.entity] for key, layout in LAYOUTS.items()},
            resource_type_field_name="profile",
        ),
        responses={
            202: OpenApiResponse(
                ExportJobSerializer,
                description=_("已受理：新建的任务，或仍在进行中的相同申请的任务。"),
            ),
            400: _error(
                _(
                    "请求有误：导出内容、格式、筛选条件或用途说明不正确，或调用者没有管辖区划；"
                    "extra.fields 给出各字段的错误。不创建任务。"
                )
            ),
            401: UNAUTHENTICATED,
            403: _error(
                _(
                    "角色不能导出数据（如工作队），或不能导出完整证件号码和电话，或登录会话的请求"
                    "缺少 CSRF 令牌。"
                )
            ),
            405: NOT_ALLOWED,
            415: _error(_("请求体须为 JSON（Content-Type: application/json）。")),
            429: THROTTLED,
        },
        parameters=[
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                description=_("任务的地址（GET 查看状态和进度）。"),
                response=[202],
            )
        ],
        examples=[
            OpenApiExample(
                str(_("按县导出户主的人口名单")), value=EXAMPLE_REQUEST, request_only=True
            ),
            OpenApiExample(
                str(_("已受理")), value=EXAMPLE_PENDING, response_only=True, status_codes=[202]
            ),
        ],
    )
    def create(self, request, *args, **kwargs):
        serializer = request_input(request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # Token callers are known only here (the audit middleware saw an anonymous request).
        with audit_context(
            source=Source.API, actor=request.user, ip=client_ip(request), url=request.path
        ):
            try:
                job = export_job_request(
                    user=request.user,
                    profile=data["profile"],
                    filters=dict(data.get("filters") or {}),
                    format=data["format"],
                    unmasked=data["unmasked"],
                    reason=data["reason"],
                )
            except DjangoPermissionDenied as exc:
                raise exceptions.PermissionDenied(str(exc)) from None
            except DjangoValidationError as exc:
                if hasattr(exc, "error_dict"):
                    raise
                # The filter layer's own message: it is about the filters.
                raise DjangoValidationError({"filters": exc.messages}) from None
        self.row_count = 1
        body = self.get_serializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(
        tags=[TAG],
        summary=_("我的导出任务"),
        description=_(
            "调用者自己申请的导出任务，最新的在前，分页。每个账号只看到自己的任务；令牌的任务"
            "属于令牌所属的账号。"
        ),
        responses={
            200: OpenApiResponse(ExportJobSerializer(many=True), description=_("成功。")),
            400: _error(_("页码或每页条数不正确。")),
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: _error(_("页码超出范围。")),
            405: NOT_ALLOWED,
            429: THROTTLED,
        },
        examples=[OpenApiExample(str(_("示例")), value=EXAMPLE_RUNNING, response_only=True)],
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        self.row_count = len(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        summary=_("导出任务：状态与进度"),
        description=format_lazy(
            "{}{}",
            ID_DESCRIPTION,
            _(
                "status：pending 排队中、running 导出中、succeeded 已完成、failed 失败（error "
                "为原因）；progress/total 为已写/预计行数，percent 为百分比。完成且未过期时 "
                "download_url 给出下载地址；建议每隔几秒查询一次。"
            ),
        ),
        responses={
            200: OpenApiResponse(ExportJobSerializer, description=_("成功。")),
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            405: NOT_ALLOWED,
            429: THROTTLED,
        },
        examples=[
            OpenApiExample(str(_("导出中")), value=EXAMPLE_RUNNING, response_only=True),
            OpenApiExample(str(_("已完成")), value=EXAMPLE_SUCCEEDED, response_only=True),
        ],
    )
    def retrieve(self, request, *args, **kwargs):
        job = export_job_get(user=request.user, job_id=kwargs[self.lookup_field])
        self.row_count = 1
        return Response(self.get_serializer(job).data)

    @extend_schema(
        tags=[TAG],
        summary=_("下载导出文件"),
        description=format_lazy(
            "{}{}",
            ID_DESCRIPTION,
            _(
                "只有申请人能下载，文件名为中文（Content-Disposition 的 filename*）。文件在"
                "完成后保留 expires_at 所示的时间（默认24小时），过期后回答410，须重新申请；"
                "尚未完成或导出失败回答409。每次下载都记录在案。"
            ),
        ),
        responses={
            (200, CONTENT_TYPES[ExportJob.Format.XLSX]): FILE,
            (200, "text/csv"): FILE,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            405: NOT_ALLOWED,
            409: _error(
                _(
                    "文件还没有：任务排队中或导出中（稍后再试），或导出失败（extra.status 为 "
                    "failed，message 给出原因）。"
                )
            ),
            410: _error(_("文件已过期并已删除，请重新申请导出。")),
            429: THROTTLED,
        },
    )
    @action(detail=True, methods=["get"], url_path="file")
    def file(self, request, *args, **kwargs):
        job_id = kwargs[self.lookup_field]
        try:
            response = export_job_download_response(request, job_id)
        except ExportExpiredError as exc:
            return Response({"message": exc.message, "extra": exc.extra}, status=410)
        except ExportNotReadyError as exc:
            return Response({"message": exc.message, "extra": exc.extra}, status=409)
        self.row_count = export_job_get(user=request.user, job_id=job_id).row_count or 0
        return response
