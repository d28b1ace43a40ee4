"""Excel imports through the REST API (issue 7): the admin's flow, upload → dry run →
confirm → commit, for people with their login session.

    GET  /api/v1/imports/layouts/                    what the caller may import, with templates
    GET  /api/v1/imports/layouts/{layout}/template/  a layout's template (.xlsx)
    GET  /api/v1/imports/                            the jobs the caller can see, newest first
    POST /api/v1/imports/                            multipart layout + file → 202, dry run queued
    GET  /api/v1/imports/{id}/                       status, progress, counts, the problems found
    GET  /api/v1/imports/{id}/report/                the bad rows with their cells marked (.xlsx)
    POST /api/v1/imports/{id}/confirm/               202, the commit queued (200: already was)
    POST /api/v1/imports/{id}/cancel/                the job dropped, its file deleted

Every step is the admin's service (`reports.imports.services`) and every read its selector, so
the rules are the same: who may import what (`can_import`), the checks of an upload, the jobs
of the caller's region (colleagues of one county see each other's imports, as in the admin;
another region's job answers exactly like a missing one), audit source "import" with the
confirming user. Province tokens only read the API: every import call refuses them (403).
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from common.api.schema import ERRORS, ErrorSerializer
from common.api.throttling import ApiClientThrottle, ApiUserThrottle
from common.api.viewsets import LoggedApiMixin
from common.errors import ApplicationError

from .imports import selectors, services
from .imports.layouts import LAYOUT_CHOICES, LAYOUTS, header_text
from .imports.progress import PHASE_LABELS, import_progress_many, progress_display
from .imports.workbooks import layout_template
from .models import ImportJob, ImportJobStatus, ImportProblem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROBLEMS_SHOWN = 500  # problems in a job's answer; all of them are in the report file
# Multipart framing around the file: a body longer than the file limit plus this is refused
# from its Content-Length, before any of it is read.
FORM_OVERHEAD = 2**20
# What only someone who may import does; everything else is a read of the jobs.
IMPORT_ACTIONS = {"create", "confirm", "cancel", "layouts", "layout_template"}
CANCELLABLE = (
    ImportJobStatus.PENDING,
    ImportJobStatus.INVALID,
    ImportJobStatus.READY,
    ImportJobStatus.FAILED,
)
ALREADY_CONFIRMED = (ImportJobStatus.CONFIRMED, ImportJobStatus.COMMITTING, ImportJobStatus.DONE)


class ImportAccess(BasePermission):
    """Reading jobs takes the role's `view_importjob` (as the admin's import list); uploading,
    confirming, cancelling and the templates take the right to import at least one layout
    (the layout itself is checked by the service). API tokens read only."""

    message = _("您的角色不能查看 Excel 导入。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        machine = getattr(request.successful_authenticator, "machine", False)
        if machine and request.method not in SAFE_METHODS:
            self.message = _("接口令牌只能读取数据，不能导入或更改导入。")
            return False
        if view.action in IMPORT_ACTIONS:
            self.message = _("您的角色不能导入 Excel 数据。")
            return bool(services.import_layouts(user))
        return user.has_perm("reports.view_importjob")


class ImportJobPagination(PageNumberPagination):
    """Page numbers over the jobs, newest first (a county's jobs are few: hundreds a year)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    page_query_description = _("页码，从1开始。")
    page_size_query_description = _("每页条数，1到100，默认20。")

    def get_page_size(self, request) -> int:
        return self._number(request, self.page_size_query_param, self.page_size, 100)

    def get_page_number(self, request, paginator) -> int:
        return self._number(request, self.page_query_param, 1, None)

    def _number(self, request, name: str, default: int, top: int | None) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) < 1 or (top is not None and int(raw) > top):
            message = (
                _g("每页条数应为1到%(max)d之间的整数。") % {"max": top}
                if top
                else _g("页码应为从1开始的整数。")
            )
            raise exceptions.ValidationError({name: [message]})
        return int(raw)

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        base = "https://zhucun.example.gov.cn/api/v1/imports/"
        answer["properties"]["count"]["description"] = _g("任务总数。")
        answer["properties"]["next"].update(
            {"example": f"{base}?page=3", "description": _g("下一页的地址，没有时为空。")}
        )
        answer["properties"]["previous"].update(
            {"example": f"{base}?page=1", "description": _g("上一页的地址，没有时为空。")}
        )
        return answer

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            limit = {"minimum": 1}
            if parameter["name"] == self.page_size_query_param:
                limit["maximum"] = self.max_page_size
            parameter["schema"].update(limit)
            parameter["example"] = 1 if parameter["name"] == self.page_query_param else 20
        return parameters


# --- serializers -----------------------------------------------------------------------------


class UploadInput(serializers.Serializer):
    layout = serializers.ChoiceField(
        choices=LAYOUT_CHOICES,
        help_text=_("导入内容：可导入的格式见 /api/v1/imports/layouts/。"),
        error_messages={"invalid_choice": _("未知的导入内容：{input}")},
    )
    file = serializers.FileField(
        help_text=_("Excel 工作簿（.xlsx），不含宏，不设密码。"),
        error_messages={
            "required": _("请选择要上传的 Excel 文件（.xlsx）。"),
            "invalid": _("请以 multipart/form-data 上传 Excel 文件（.xlsx）。"),
            "empty": _("上传的文件是空的。"),
        },
    )


class LayoutOutput(serializers.Serializer):
    layout = serializers.ChoiceField(choices=LAYOUT_CHOICES, help_text=_("导入内容的代码。"))
    title = serializers.CharField(help_text=_("中文名称。"))
    required_columns = serializers.ListField(
        child=serializers.CharField(), help_text=_("必填列的表头。")
    )
    template_url = serializers.URLField(help_text=_("导入模板（.xlsx，含下拉列表）的下载地址。"))


class ProgressOutput(serializers.Serializer):
    phase = serializers.ChoiceField(choices=list(PHASE_LABELS.items()), help_text=_("当前阶段。"))
    phase_display = serializers.CharField(help_text=_("当前阶段的中文名称。"))
    percent = serializers.IntegerField(min_value=0, max_value=100, help_text=_("完成百分比。"))
    done = serializers.IntegerField(min_value=0, help_text=_("本阶段已处理的行数或户数。"))
    total = serializers.IntegerField(min_value=0, help_text=_("本阶段的总数（未知时为0）。"))


class CountsOutput(serializers.Serializer):
    created = serializers.IntegerField(help_text=_("新增。"))
    updated = serializers.IntegerField(help_text=_("更新。"))
    unchanged = serializers.IntegerField(help_text=_("未变（不写入）。"))


class SheetsOutput(serializers.Serializer):
    read = serializers.ListField(child=serializers.CharField(), help_text=_("读取的工作表。"))
    skipped = serializers.ListField(
        child=serializers.CharField(), help_text=_("未读取的工作表（没有该格式的表头）。")
    )


class ProblemOutput(serializers.ModelSerializer):
    class Meta:
        model = ImportProblem
        fields = ("sheet", "row", "column", "letters", "value", "message", "code")
        extra_kwargs = {
            "sheet": {"help_text": _("工作表名称（整个文件的问题为空）。")},
            "row": {"help_text": _("文件中的行号（整个文件的问题为0）。")},
            "column": {"help_text": _("文件中的列标题（整行的问题为空）。")},
            "letters": {"help_text": _("列号，如 F。")},
            "value": {"help_text": _("单元格内容；身份证号和电话已脱敏。")},
            "message": {"help_text": _("问题的中文说明。")},
            "code": {"help_text": _("问题的类别，如 invalid、required、duplicate。")},
        }


class ImportJobOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text=_("本任务的地址。"))
    layout_display = serializers.CharField(source="get_layout_display", help_text=_("导入内容。"))
    status_display = serializers.CharField(source="get_status_display", help_text=_("状态。"))
    requested_by = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("上传人（账号已删除时为空）。")
    )
    confirmed_by = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("确认人（未确认时为空）。")
    )
    progress = serializers.SerializerMethodField(
        help_text=_("进行中（排队、校验、导入）的阶段和百分比；结束后为空。")
    )
    counts = serializers.SerializerMethodField(
        help_text=_(
            "校验后为确认后将新增、更新、不变的记录数，导入后为实际结果；"
            "按记录种类（households 户、members 家庭成员、cadres 干部、units 派出单位）。"
        )
    )
    sheets = serializers.SerializerMethodField(help_text=_("读取和未读取的工作表。"))
    report_url = serializers.SerializerMethodField(
        help_text=_("问题清单（.xlsx，问题单元格标红）的下载地址；没有问题时为空。")
    )
    can_confirm = serializers.SerializerMethodField(help_text=_("现在能否确认导入。"))
    can_cancel = serializers.SerializerMethodField(help_text=_("现在能否取消。"))

    class Meta:
        model = ImportJob
        fields = (
            "id",
            "url",
            "layout",
            "layout_display",
            "status",
            "status_display",
            "original_name",
            "size",
            "rows",
            "bad_rows",
            "problem_count",
            "error",
            "progress",
            "counts",
            "sheets",
            "report_url",
            "can_confirm",
            "can_cancel",
            "requested_by",
            "confirmed_by",
            "created_at",
            "checked_at",
            "confirmed_at",
            "finished_at",
        )
        extra_kwargs = {
            "id": {"help_text": _("任务ID。")},
            "original_name": {"help_text": _("上传的文件名。")},
            "size": {"help_text": _("文件大小（字节）。")},
            "rows": {"help_text": _("读到的数据行数。")},
            "bad_rows": {"help_text": _("有问题的行数。")},
            "problem_count": {"help_text": _("问题总数（本答复最多列出500条，全部见问题清单）。")},
            "error": {"help_text": _("任务失败的原因（文件被拒绝、系统错误）；没有时为空。")},
            "created_at": {"help_text": _("上传时间。")},
            "checked_at": {"help_text": _("校验完成时间。")},
            "confirmed_at": {"help_text": _("确认时间。")},
            "finished_at": {"help_text": _("结束时间（导入完成、失败或取消）。")},
        }

    def _request(self):
        return self.context["request"]

    def get_url(self, job) -> str:
        return reverse("api:imports-detail", args=[job.pk], request=self._request())

    @extend_schema_field(ProgressOutput(allow_null=True))
    def get_progress(self, job):
        return progress_display(job, self.context.get("progress", {}).get(job.pk))

    @extend_schema_field(serializers.DictField(child=CountsOutput()))
    def get_counts(self, job) -> dict:
        keys = ("created", "updated", "unchanged")
        return {
            kind: {key: int((values or {}).get(key, 0)) for key in keys}
            for kind, values in (job.counts or {}).items()
        }

    @extend_schema_field(SheetsOutput())
    def get_sheets(self, job) -> dict:
        sheets = job.sheets or {}
        return {"read": list(sheets.get("read", [])), "skipped": list(sheets.get("skipped", []))}

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_report_url(self, job) -> str | None:
        if not job.report:
            return None
        return reverse("api:imports-report", args=[job.pk], request=self._request())

    def _may_import(self, job) -> bool:
        return services.can_import(self._request().user, LAYOUTS[job.layout])

    def get_can_confirm(self, job) -> bool:
        return job.status == ImportJobStatus.READY and self._may_import(job)

    def get_can_cancel(self, job) -> bool:
        return job.status in CANCELLABLE and self._may_import(job)


class ImportJobDetailOutput(ImportJobOutput):
    problems = serializers.SerializerMethodField(
        help_text=_("校验发现的问题，按工作表和行号排列，最多500条；总数见 problem_count。")
    )

    class Meta(ImportJobOutput.Meta):
        fields = (*ImportJobOutput.Meta.fields, "problems")

    @extend_schema_field(ProblemOutput(many=True))
    def get_problems(self, job) -> list:
        return ProblemOutput(self.context.get("problems", []), many=True).data


# --- the schema ------------------------------------------------------------------------------

TAG = _("Excel 导入")
JOB_EXAMPLE = {
    "id": 120345,
    "url": "https://zhucun.example.gov.cn/api/v1/imports/120345/",
    "layout": "households",
    "layout_display": "帮扶户及家庭成员（系统格式）",
    "status": "invalid",
    "status_display": "有错误，未导入",
    "original_name": "清源镇帮扶户.xlsx",
    "size": 48213,
    "rows": 1001,
    "bad_rows": 1,
    "problem_count": 1,
    "error": "",
    "progress": None,
    "counts": {
        "households": {"created": 250, "updated": 0, "unchanged": 0},
        "members": {"created": 1000, "updated": 0, "unchanged": 0},
    },
    "sheets": {"read": ["帮扶户"], "skipped": ["填写说明"]},
    "report_url": "https://zhucun.example.gov.cn/api/v1/imports/120345/report/",
    "can_confirm": False,
    "can_cancel": True,
    "requested_by": "清徐县管理员",
    "confirmed_by": None,
    "created_at": "2026-11-20T10:00:00+08:00",
    "checked_at": "2026-11-20T10:00:12+08:00",
    "confirmed_at": None,
    "finished_at": None,
}
PROBLEM_EXAMPLE = {
    "sheet": "帮扶户",
    "row": 14,
    "column": "身份证号",
    "letters": "H",
    "value": "140***********002X",
    "message": "身份证号校验位不正确。",
    "code": "invalid",
}
RUNNING_EXAMPLE = {
    **JOB_EXAMPLE,
    "status": "checking",
    "status_display": "校验中",
    "rows": 0,
    "bad_rows": 0,
    "problem_count": 0,
    "progress": {
        "phase": "read",
        "phase_display": "读取文件",
        "percent": 35,
        "done": 500,
        "total": 1001,
    },
    "counts": {},
    "sheets": {"read": [], "skipped": []},
    "report_url": None,
    "can_cancel": False,
    "checked_at": None,
}
QUEUED_PROGRESS = {
    "phase": "queued",
    "phase_display": "排队等待",
    "percent": 0,
    "done": 0,
    "total": 0,
}
PENDING_EXAMPLE = {
    **RUNNING_EXAMPLE,
    "status": "pending",
    "status_display": "排队校验",
    "progress": QUEUED_PROGRESS,
    "can_cancel": True,
}
CONFIRMED_EXAMPLE = {
    **JOB_EXAMPLE,
    "status": "confirmed",
    "status_display": "排队导入",
    "bad_rows": 0,
    "problem_count": 0,
    "progress": QUEUED_PROGRESS,
    "report_url": None,
    "can_cancel": False,
    "confirmed_by": "清徐县管理员",
    "confirmed_at": "2026-11-20T10:05:00+08:00",
}
LAYOUT_EXAMPLE = {
    "layout": "households",
    "title": "帮扶户及家庭成员（系统格式）",
    "required_columns": ["行政村代码", "户编号", "姓名", "身份证号", "与户主关系"],
    "template_url": "https://zhucun.example.gov.cn/api/v1/imports/layouts/households/template/",
}

ERROR_TEXT = {
    "400": _("请求有误，message 给出中文原因，extra.fields 给出各字段的错误。"),
    "401": ERRORS["401"],
    "403": _(
        "角色不能查看或导入 Excel（或不能导入该内容）；接口令牌只读；"
        "登录会话的 POST 须带 CSRF 令牌（X-CSRFToken 请求头）。"
    ),
    "404": _("导入任务不存在，或不在您的管辖范围内（两者的回答完全相同）。"),
    "405": _("该地址不接受此请求方法。"),
    "409": _("任务当前的状态不允许此操作，message 说明原因；没有更改任何数据。"),
    "429": ERRORS["429"],
}


def _errors(*codes: str, **texts) -> dict:
    codes = ("400", "401", "403", "404", "405", *codes, "429")
    return {
        int(code): OpenApiResponse(
            ErrorSerializer, description=texts.get(f"e{code}", ERROR_TEXT[code])
        )
        for code in codes
    }


def _example(name, value, code="200", **kwargs) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[code], **kwargs)


def _file_download(description) -> dict:
    return {(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description=description)}


SCHEMA = {
    "list": extend_schema(
        tags=[TAG],
        summary=_("导入任务列表"),
        description=_(
            "调用者能看到的导入任务（本人和同一管辖区划内同事上传的），按上传时间从新到旧，"
            "分页。进行中的任务给出阶段和百分比。"
        ),
        responses={200: ImportJobOutput(many=True), **_errors()},
        examples=[_example(str(_("示例")), JOB_EXAMPLE)],
    ),
    "retrieve": extend_schema(
        tags=[TAG],
        summary=_("导入任务：单个"),
        description=_(
            "任务的状态、进度（阶段、百分比）、各类记录将新增/更新/不变的数量；校验发现问题时"
            "列出问题（工作表、行号、列、脱敏后的单元格内容、中文说明），最多500条，全部问题见"
            "问题清单文件。不存在或不在管辖范围内的ID都回答404。"
        ),
        responses={200: ImportJobDetailOutput, **_errors()},
        examples=[
            _example(str(_("校验发现问题")), {**JOB_EXAMPLE, "problems": [PROBLEM_EXAMPLE]}),
            _example(str(_("校验中")), {**RUNNING_EXAMPLE, "problems": []}),
        ],
    ),
    "create": extend_schema(
        tags=[TAG],
        summary=_("上传 Excel 文件并开始校验"),
        description=_(
            "以 multipart/form-data 上传导入内容 layout 和文件 file。文件立即检查（大小、"
            "是否为不含宏和密码的 .xlsx、压缩炸弹、XML 实体等），不合格时回答400和中文原因，"
            "不留下任何任务和文件；合格时回答202和新任务（状态“排队校验”），Location 头给出"
            "任务地址，校验（试导入，不写入任何数据）在后台逐行进行。请求体超过大小上限时在"
            "读取之前即被拒绝。登录会话须带 CSRF 令牌；接口令牌不能导入。"
        ),
        request={"multipart/form-data": UploadInput},
        responses={
            202: OpenApiResponse(
                ImportJobOutput, description=_("已受理：文件已保存，校验已排队。")
            ),
            **_errors(
                e400=_(
                    "文件未通过检查（过大、不是 .xlsx、含宏或密码、疑似压缩炸弹、含 XML 实体）"
                    "或缺少字段；message 给出中文原因，不留下任何任务。"
                ),
                e404=_("接口地址不存在。"),
            ),
            415: OpenApiResponse(
                ErrorSerializer, description=_("请求体不是 multipart/form-data 表单。")
            ),
        },
        examples=[
            OpenApiExample(
                str(_("上传")),
                value={"layout": "households", "file": "清源镇帮扶户.xlsx"},
                request_only=True,
            ),
            _example(str(_("已受理")), PENDING_EXAMPLE, "202"),
        ],
    ),
}


@extend_schema_view(**SCHEMA)
class ImportJobViewSet(LoggedApiMixin, viewsets.GenericViewSet):
    queryset = ImportJob.objects.none()  # the schema's; requests use the selector
    serializer_class = ImportJobOutput
    permission_classes = [ImportAccess]
    throttle_classes = [ApiClientThrottle, ApiUserThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [MultiPartParser]
    pagination_class = ImportJobPagination
    lookup_value_regex = r"[0-9]{1,18}"

    def error_statuses(self) -> tuple[str, ...]:
        return ()  # every operation names its own (the read API's say "read only")

    def initial(self, request, *args, **kwargs):
        if self.action == "create":
            self._refuse_oversized(request)
        super().initial(request, *args, **kwargs)

    def _refuse_oversized(self, request) -> None:
        """Refuse a body longer than the file limit from its Content-Length, before it is read
        (a session's CSRF check would read the whole form into temporary files)."""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.ZHUCUN_IMPORT_MAX_BYTES
        if length > limit + FORM_OVERHEAD:
            raise ApplicationError(
                _g("文件过大，单个文件不能超过 %d MB，请分成几个文件导入。") % (limit // 2**20),
                extra={"max_bytes": limit},
            )

    def perform_authentication(self, request):
        try:
            request.user  # noqa: B018 - authenticates
        except exceptions.PermissionDenied:
            # Only the session's CSRF check refuses here (tokens fail with 401): say it in
            # Chinese rather than DRF's English "CSRF Failed".
            raise exceptions.PermissionDenied(
                _g(
                    "CSRF 校验失败：使用登录会话的 POST 请求须在 X-CSRFToken 请求头"
                    "（或表单字段 csrfmiddlewaretoken）中带上 CSRF 令牌。"
                )
            ) from None

    def get_queryset(self):
        return selectors.import_job_list(user=self.request.user).order_by("-created_at", "-id")

    def get_object(self) -> ImportJob:
        try:
            return selectors.import_job_get(user=self.request.user, pk=int(self.kwargs["pk"]))
        except (ImportJob.DoesNotExist, ValueError, TypeError):
            raise Http404 from None

    def _job(self, job, *, detail=False, problems=(), code=status.HTTP_200_OK, headers=None):
        context = {
            "request": self.request,
            "progress": import_progress_many([job.pk]) if job.running else {},
            "problems": problems,
        }
        serializer = (ImportJobDetailOutput if detail else ImportJobOutput)(job, context=context)
        return Response(serializer.data, status=code, headers=headers)

    # --- reads ---------------------------------------------------------------------------

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        context = {
            "request": request,
            "progress": import_progress_many([job.pk for job in page if job.running]),
        }
        return self.get_paginated_response(ImportJobOutput(page, many=True, context=context).data)

    def retrieve(self, request, pk=None):
        job = self.get_object()
        problems = []
        if job.problem_count:
            problems = list(
                selectors.import_problem_list(user=request.user, job=job)[:PROBLEMS_SHOWN]
            )
        return self._job(job, detail=True, problems=problems)

    @extend_schema(
        tags=[TAG],
        summary=_("下载问题清单"),
        description=_(
            "校验发现问题时的问题清单（.xlsx）：每个有问题的行及其问题，问题单元格标红并附"
            "批注，身份证号和电话已脱敏。没有问题清单时回答404。"
        ),
        responses={
            **_file_download(_("问题清单（.xlsx）。")),
            **_errors(e404=_("导入任务不存在、不在您的管辖范围内，或没有问题清单。")),
        },
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        job = self.get_object()
        if not job.report:
            raise Http404
        try:
            stream = job.report.open("rb")
        except OSError:  # the file was purged after its retention period
            raise Http404 from None
        return FileResponse(
            stream,
            as_attachment=True,
            filename=_g("导入问题清单-%s") % job.original_name,
            content_type=XLSX,
        )

    @extend_schema(
        tags=[TAG],
        summary=_("可导入的内容和模板"),
        description=_(
            "调用者的角色可以导入的内容（格式），各自的中文名称、必填列和导入模板的下载地址。"
        ),
        responses={200: LayoutOutput(many=True), **_errors()},
        examples=[_example(str(_("示例")), LAYOUT_EXAMPLE)],
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def layouts(self, request):
        rows = [
            {
                "layout": layout.key,
                "title": header_text(layout.title),
                "required_columns": [
                    header_text(c.header) for c in layout.columns if c.required and c.imported
                ],
                "template_url": reverse(
                    "api:imports-template", kwargs={"layout": layout.key}, request=request
                ),
            }
            for layout in services.import_layouts(request.user)
        ]
        return Response(LayoutOutput(rows, many=True).data)

    @extend_schema(
        tags=[TAG],
        summary=_("下载导入模板"),
        description=_(
            "导入内容的空白模板（.xlsx）：表头（必填列标星）、填写说明、下拉列表；"
            "身份证号和电话列为文本格式。调用者不能导入的内容回答404。"
        ),
        parameters=[
            OpenApiParameter(
                "layout",
                str,
                OpenApiParameter.PATH,
                enum=[*LAYOUTS],
                description=_("导入内容的代码，见可导入的内容。"),
                examples=[OpenApiExample("households", value="households")],
            )
        ],
        responses={
            **_file_download(_("导入模板（.xlsx）。")),
            **_errors(e404=_("没有这种导入内容，或您的角色不能导入它。")),
        },
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"layouts/(?P<layout>[a-z_]{1,32})/template",
        url_name="template",
        pagination_class=None,
    )
    def layout_template(self, request, layout=None):
        found = LAYOUTS.get(layout)
        if found is None or not services.can_import(request.user, found):
            raise Http404
        content, filename = layout_template(found)
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response

    # --- the workflow --------------------------------------------------------------------

    def create(self, request):
        data = UploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = services.import_job_create(
                user=request.user,
                layout=data.validated_data["layout"],
                upload=data.validated_data["file"],
            )
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        location = reverse("api:imports-detail", args=[job.pk], request=request)
        return self._job(job, code=status.HTTP_202_ACCEPTED, headers={"Location": location})

    @extend_schema(
        tags=[TAG],
        summary=_("确认导入"),
        description=_(
            "校验通过（状态“校验通过，待确认”）的任务确认后在后台一次性写入全部数据："
            "写入前再校验一遍，任何问题都使全部回滚。回答202和任务（状态“排队导入”）。"
            "已确认、导入中或已导入的任务再次确认不做任何事，回答200和任务。校验发现问题、"
            "仍在校验、失败或已取消的任务不能确认，回答409和中文原因，不写入任何数据。"
        ),
        request=None,
        responses={
            202: OpenApiResponse(ImportJobOutput, description=_("已确认，导入已排队。")),
            200: OpenApiResponse(
                ImportJobOutput, description=_("此前已确认：不做任何事，返回任务。")
            ),
            **_errors(
                "409",
                e400=_("请求有误。"),
                e409=_(
                    "任务不能确认：校验发现问题（改正文件后重新上传）、仍在校验、失败或已取消。"
                ),
            ),
        },
        examples=[
            _example(str(_("已确认")), CONFIRMED_EXAMPLE, "202"),
            _example(str(_("此前已确认")), CONFIRMED_EXAMPLE, "200"),
        ],
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        job = self.get_object()
        already = job.status in ALREADY_CONFIRMED
        try:
            job = services.import_job_confirm(job=job, user=request.user)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        except ApplicationError as exc:
            return _conflict(exc)
        return self._job(job, code=status.HTTP_200_OK if already else status.HTTP_202_ACCEPTED)

    @extend_schema(
        tags=[TAG],
        summary=_("取消导入"),
        description=_(
            "放弃一个不再导入的任务（排队校验、有错误、待确认或失败的），删除上传的文件；"
            "已取消的再次取消不做任何事。正在导入或已导入的任务不能取消，回答409。"
        ),
        request=None,
        responses={
            200: OpenApiResponse(ImportJobOutput, description=_("已取消，返回任务。")),
            **_errors("409", e400=_("请求有误。"), e409=_("正在导入或已导入的任务不能取消。")),
        },
        examples=[
            _example(
                str(_("已取消")),
                {
                    **JOB_EXAMPLE,
                    "status": "cancelled",
                    "status_display": "已取消",
                    "can_cancel": False,
                    "finished_at": "2026-11-20T10:06:00+08:00",
                },
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        try:
            job = services.import_job_cancel(job=job, user=request.user)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        except ApplicationError as exc:
            return _conflict(exc)
        return self._job(job)


def _conflict(exc: ApplicationError) -> Response:
    """A step the job's state does not allow: 409 with the service's Chinese reason."""
    return Response({"message": exc.message, "extra": exc.extra}, status=status.HTTP_409_CONFLICT)
