"""Admin pages of Excel imports: upload → dry-run report → confirm → commit, with progress.

Every page and file is scoped: another region's job answers exactly like a missing one.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.admin import ScopedAdminMixin, badge
from common.errors import ApplicationError, user_message

from .imports import selectors, services
from .imports.layouts import LAYOUTS
from .imports.progress import import_progress, progress_display
from .imports.workbooks import layout_template
from .models import ImportJob, ImportJobStatus

PROBLEMS_SHOWN = 500
STATUS_LEVEL = {
    ImportJobStatus.INVALID: "bad",
    ImportJobStatus.FAILED: "bad",
    ImportJobStatus.DONE: "ok",
    ImportJobStatus.READY: "ok",
}


class UploadForm(forms.Form):
    layout = forms.ChoiceField(label=_("导入内容"))
    file = forms.FileField(
        label=_("Excel 文件（.xlsx）"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def __init__(self, *args, layouts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["layout"].choices = [(layout.key, layout.title) for layout in layouts]


@admin.register(ImportJob)
class ImportJobAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "layout",
        "original_name",
        "status_badge",
        "rows",
        "problem_count",
        "counts_display",
        "requested_by",
    )
    list_select_related = ("requested_by",)
    list_filter = ("status", "layout")
    search_fields = ("original_name",)
    ordering = ("-created_at", "-id")
    list_per_page = 50
    change_list_template = "admin/reports/import/change_list.html"
    actions = None

    def get_queryset(self, request):
        return selectors.import_job_list(user=request.user).order_by(*self.ordering)

    def has_add_permission(self, request):
        return False  # an import starts with an upload (upload_view), not a form

    def has_change_permission(self, request, obj=None):
        return False  # a job changes through its workflow only

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("状态"), ordering="status")
    def status_badge(self, obj):
        level = STATUS_LEVEL.get(obj.status)
        return badge(obj.get_status_display(), level) if level else obj.get_status_display()

    @admin.display(description=_("新增 / 更新 / 未变"))
    def counts_display(self, obj):
        return (
            " ; ".join(
                f"{n.get('created', 0)} / {n.get('updated', 0)} / {n.get('unchanged', 0)}"
                for n in (obj.counts or {}).values()
            )
            or "-"
        )

    # --- pages -------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="reports_importjob_upload"),
            path(
                "template/<str:layout>/",
                view(self.template_view),
                name="reports_importjob_template",
            ),
            path("<int:pk>/report/", view(self.report_view), name="reports_importjob_report"),
            path("<int:pk>/confirm/", view(self.confirm_view), name="reports_importjob_confirm"),
            path("<int:pk>/cancel/", view(self.cancel_view), name="reports_importjob_cancel"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        layouts = services.import_layouts(request.user)
        extra_context = {**(extra_context or {}), "layouts": layouts}
        return super().changelist_view(request, extra_context)

    def _job(self, request, pk) -> ImportJob:
        try:
            return selectors.import_job_get(user=request.user, pk=int(pk))
        except (ImportJob.DoesNotExist, ValueError, TypeError):
            raise Http404(_g("未找到。")) from None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The job: its progress, what the dry run found, and the next step."""
        job = self.get_object(request, object_id)
        if job is None or not self.has_view_permission(request, job):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        layout = LAYOUTS[job.layout]
        problems = list(
            selectors.import_problem_list(user=request.user, job=job)[: PROBLEMS_SHOWN + 1]
        )
        earlier = (
            selectors.import_job_list(user=request.user)
            .filter(sha256=job.sha256, status=ImportJobStatus.DONE)
            .exclude(pk=job.pk)
            .first()
        )
        context = {
            **self.admin_site.each_context(request),
            "title": str(job),
            "subtitle": None,
            "opts": self.opts,
            "job": job,
            "layout": layout,
            "progress": progress_display(job, import_progress(job.pk)) if job.running else None,
            "problems": problems[:PROBLEMS_SHOWN],
            "more_problems": max(job.problem_count - PROBLEMS_SHOWN, 0),
            "counts": _counts(job),
            "earlier": earlier,
            "can_confirm": job.status == ImportJobStatus.READY
            and services.can_import(request.user, layout),
            "can_cancel": job.status
            in (
                ImportJobStatus.PENDING,
                ImportJobStatus.INVALID,
                ImportJobStatus.READY,
                ImportJobStatus.FAILED,
            )
            and services.can_import(request.user, layout),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/reports/import/job.html", context)

    def upload_view(self, request):
        layouts = services.import_layouts(request.user)
        if not layouts or not self.has_view_permission(request):
            raise PermissionDenied
        form = UploadForm(layouts=layouts, initial={"layout": request.GET.get("layout")})
        if request.method == "POST":
            length = int(request.META.get("CONTENT_LENGTH") or 0)
            if length > settings.ZHUCUN_IMPORT_MAX_BYTES + 2**20:
                # Refused before the body is read: no temporary copy of a huge upload.
                form.add_error(
                    None,
                    _g("文件过大，单个文件不能超过 %d MB，请分成几个文件导入。")
                    % (settings.ZHUCUN_IMPORT_MAX_BYTES // 2**20),
                )
            else:
                form = UploadForm(request.POST, request.FILES, layouts=layouts)
                if form.is_valid():
                    try:
                        job = services.import_job_create(
                            user=request.user,
                            layout=form.cleaned_data["layout"],
                            upload=form.cleaned_data["file"],
                        )
                    except (ApplicationError, ValidationError, PermissionDenied) as exc:
                        form.add_error("file", user_message(exc))
                    else:
                        self.message_user(request, _g("已上传，正在校验每一行，请稍候。"))
                        return HttpResponseRedirect(
                            reverse("admin:reports_importjob_change", args=[job.pk])
                        )
        context = {
            **self.admin_site.each_context(request),
            "title": _g("Excel 导入：上传文件"),
            "opts": self.opts,
            "form": form,
            "layouts": layouts,
            "max_mb": settings.ZHUCUN_IMPORT_MAX_BYTES // 2**20,
        }
        return TemplateResponse(request, "admin/reports/import/upload.html", context)

    def template_view(self, request, layout):
        found = LAYOUTS.get(layout)
        if found is None or not services.can_import(request.user, found):
            raise Http404(_g("未找到。"))
        content, filename = layout_template(found)
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response

    def report_view(self, request, pk):
        job = self._job(request, pk)
        if not job.report:
            raise Http404(_g("未找到。"))
        return FileResponse(
            job.report.open("rb"),
            as_attachment=True,
            filename=_g("导入问题清单-%s") % job.original_name,
        )

    def confirm_view(self, request, pk):
        job = self._job(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:reports_importjob_change", args=[job.pk]))
        try:
            services.import_job_confirm(job=job, user=request.user)
        except (ApplicationError, PermissionDenied) as exc:
            self.message_user(request, user_message(exc), messages.ERROR)
        else:
            self.message_user(request, _g("已确认，正在导入。"))
        return HttpResponseRedirect(reverse("admin:reports_importjob_change", args=[job.pk]))

    def cancel_view(self, request, pk):
        job = self._job(request, pk)
        if request.method == "POST":
            try:
                services.import_job_cancel(job=job, user=request.user)
            except (ApplicationError, PermissionDenied) as exc:
                self.message_user(request, user_message(exc), messages.ERROR)
            else:
                self.message_user(request, _g("已取消，上传的文件已删除。"))
        return HttpResponseRedirect(reverse("admin:reports_importjob_change", args=[job.pk]))


def _counts(job: ImportJob) -> list[tuple[str, dict]]:
    labels = {
        "households": _g("户"),
        "members": _g("家庭成员"),
        "cadres": _g("干部"),
        "units": _g("派出单位"),
    }
    return [(labels.get(kind, kind), values) for kind, values in (job.counts or {}).items()]
