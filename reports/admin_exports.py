"""Admin: the "导出 Excel" action on the big lists (households, members, cadres, dispatching
units), the progress page, "my exports".

The action takes the changelist's own filters (its query string) — or the rows ticked on
the page — asks for the layout and format, queues the job and opens its progress page. The
progress page polls the job's status and offers the file when it is ready. Every page here
answers only to the job's requester; any other id is 404 like a missing one.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.admin import ScopedAdminMixin, badge, register_action
from common.errors import ApplicationError, user_message
from households.models import Household, Member
from teams.models import Cadre, DispatchingUnit

from .exports.filters import FILTERSETS, MAX_IDS, PAGE_PARAMETERS
from .exports.layouts import layouts_for
from .exports.selectors import export_job_get
from .exports.services import (
    ExportExpiredError,
    ExportNotReadyError,
    export_job_request,
    may_export_unmasked,
)
from .exports.views import export_job_download_response, export_job_status
from .models import ExportJob


class ExportRequestForm(forms.Form):
    profile = forms.ChoiceField(label=_("导出格式（列）"), widget=forms.RadioSelect)
    format = forms.ChoiceField(
        label=_("文件类型"), choices=ExportJob.Format.choices, initial=ExportJob.Format.XLSX
    )
    year = forms.IntegerField(
        label=_("收入年度"),
        min_value=2013,
        max_value=2100,
        help_text=_("人均纯收入等收入列按此年度计算。"),
    )
    active_only = forms.BooleanField(
        label=_("只导出在册成员（不含已离户的）"), required=False, initial=True
    )
    unmasked = forms.BooleanField(
        label=_("含完整证件号码和电话（默认脱敏）"),
        required=False,
        help_text=_("仅在确有需要时勾选；导出记录留痕备查。"),
    )
    reason = forms.CharField(
        label=_("用途说明"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"size": 60}),
    )

    def __init__(self, *args, entity: str, user, **kwargs):
        super().__init__(*args, **kwargs)
        layouts = layouts_for(entity)
        self.fields["profile"].choices = [
            (layout.key, f"{layout.title}：{layout.description}") for layout in layouts
        ]
        self.fields["profile"].initial = layouts[0].key
        self.fields["year"].initial = timezone.localdate().year
        if entity not in ("household", "member"):
            del self.fields["year"]  # no income columns
        if entity != "member":
            del self.fields["active_only"]
        if not may_export_unmasked(user):
            del self.fields["unmasked"]
            del self.fields["reason"]


def changelist_filters(request) -> dict[str, str]:
    """The changelist's filters from its query string (page and ordering left out)."""
    return {k: v for k, v in request.GET.items() if k not in PAGE_PARAMETERS}


def filter_labels(entity: str, filters: dict[str, str]) -> list[tuple[str, str]]:
    """The changelist's filters as (label, value) for the confirmation page."""
    known = FILTERSETS[entity].base_filters
    labels = []
    for key, value in filters.items():
        spec = known.get(key)
        if spec is None:
            labels.append((key, value))
            continue
        choices = {str(k): str(v) for k, v in spec.extra.get("choices", ())}
        labels.append((str(spec.label), choices.get(value, value)))
    return labels


def make_export_action(entity: str):
    @admin.action(description=_("导出 Excel（按当前筛选条件或所选记录）"), permissions=["view"])
    def export_excel(modeladmin, request, queryset):
        if not request.user.has_perm("reports.add_exportjob"):
            modeladmin.message_user(request, _g("您没有导出数据的权限。"), messages.ERROR)
            return None
        select_across = request.POST.get("select_across") == "1"
        ids = [] if select_across else list(queryset.values_list("pk", flat=True)[: MAX_IDS + 1])
        if not select_across and not ids:
            modeladmin.message_user(request, _g("没有可导出的记录。"), messages.WARNING)
            return None
        form = ExportRequestForm(
            request.POST if "apply" in request.POST else None, entity=entity, user=request.user
        )
        listed_year = request.GET.get("income_year", "")
        if listed_year.isdigit() and "year" in form.fields:
            # The list shows another year's incomes: export that year.
            form.fields["year"].initial = int(listed_year)
        if "apply" in request.POST and form.is_valid():
            data = form.cleaned_data
            filters = changelist_filters(request)
            if data.get("year"):
                filters["year"] = data["year"]
            if ids:
                filters["ids"] = ids
            if data.get("active_only"):
                filters["active"] = True
            try:
                job = export_job_request(
                    user=request.user,
                    profile=data["profile"],
                    filters=filters,
                    format=data["format"],
                    unmasked=bool(data.get("unmasked")),
                    reason=data.get("reason", ""),
                )
            except (ApplicationError, ValidationError, PermissionDenied) as exc:
                message = str(exc) if isinstance(exc, PermissionDenied) else user_message(exc)
                form.add_error(None, message)
            else:
                return HttpResponseRedirect(
                    reverse("admin:reports_exportjob_progress", args=[job.pk])
                )
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": _g("导出 Excel"),
            "form": form,
            "opts": modeladmin.model._meta,
            "action": request.POST.get("action", ""),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": select_across,
            "count": len(ids),
            "filters": filter_labels(entity, changelist_filters(request)),
        }
        return TemplateResponse(request, "admin/reports/export/request.html", context)

    return export_excel


register_action(Household, make_export_action("household"))
register_action(Member, make_export_action("member"))
register_action(Cadre, make_export_action("cadre"))
register_action(DispatchingUnit, make_export_action("unit"))


@admin.register(ExportJob)
class ExportJobAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """我的导出: the user's own export jobs (nobody sees another's)."""

    list_display = (
        "id",
        "profile",
        "format",
        "status_badge",
        "percent_display",
        "row_count",
        "unmasked",
        "created_at",
        "expires_at",
        "links",
    )
    list_filter = ("status", "profile", "format")
    ordering = ("-created_at", "-id")
    list_per_page = 50
    fields = (
        "profile",
        "format",
        "filters",
        "unmasked",
        "reason",
        "status",
        "total",
        "progress",
        "row_count",
        "sheets",
        "file_name",
        "file_size",
        "created_at",
        "started_at",
        "finished_at",
        "expires_at",
        "file_deleted_at",
        "error",
        "links",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # an export is asked for from a list ("导出 Excel")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, obj):
        level = {"succeeded": "ok", "failed": "bad"}.get(obj.status, "warn")
        if obj.status == ExportJob.Status.SUCCEEDED and not obj.is_downloadable:
            return badge(_g("已过期"), "warn")
        return badge(obj.get_status_display(), level)

    @admin.display(description=_("进度"))
    def percent_display(self, obj):
        return f"{obj.percent}%"

    @admin.display(description=_("操作"))
    def links(self, obj):
        progress = reverse("admin:reports_exportjob_progress", args=[obj.pk])
        if obj.is_downloadable:
            return format_html(
                '<a href="{}">{}</a> · <a href="{}">{}</a>',
                reverse("admin:reports_exportjob_download", args=[obj.pk]),
                _g("下载"),
                progress,
                _g("详情"),
            )
        return format_html('<a href="{}">{}</a>', progress, _g("查看进度"))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<str:job_id>/progress/",
                wrap(self.progress_view),
                name="reports_exportjob_progress",
            ),
            path("<str:job_id>/status/", wrap(self.status_view), name="reports_exportjob_status"),
            path(
                "<str:job_id>/download/",
                wrap(self.download_view),
                name="reports_exportjob_download",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request, job_id):
        job = export_job_get(user=request.user, job_id=job_id)
        context = {
            **self.admin_site.each_context(request),
            "title": _g("导出进度"),
            "opts": self.model._meta,
            "job": job,
            "status": export_job_status(user=request.user, job_id=job.pk),
            "status_url": reverse("admin:reports_exportjob_status", args=[job.pk]),
        }
        return TemplateResponse(request, "admin/reports/export/progress.html", context)

    def status_view(self, request, job_id):
        response = JsonResponse(export_job_status(user=request.user, job_id=job_id))
        response["Cache-Control"] = "no-store"
        return response

    def download_view(self, request, job_id):
        try:
            return export_job_download_response(request, job_id)
        except ExportExpiredError as exc:
            return TemplateResponse(
                request,
                "admin/reports/export/gone.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _g("导出文件已过期"),
                    "opts": self.model._meta,
                    "message": exc.message,
                },
                status=410,
            )
        except ExportNotReadyError as exc:
            self.message_user(request, exc.message, messages.WARNING)
            return HttpResponseRedirect(reverse("admin:reports_exportjob_progress", args=[job_id]))
