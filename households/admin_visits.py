"""Admin of visits: the visit log, and visit coverage per village and township (.xlsx)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.admin import ScopedAdminMixin
from common.xlsx import workbook_response
from teams.admin_presence import ReportForm, TeamVillageFilter

from .models import VisitLog
from .selectors import visit_coverage


class VisitTownshipFilter(TeamVillageFilter):
    path = "household__village__township"


@admin.register(VisitLog)
class VisitLogAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("visited_on", "household", "head", "cadre", "kind", "has_photo")
    list_select_related = ("household", "cadre")
    list_filter = ("kind", "visited_on", VisitTownshipFilter)
    search_fields = ("=household__code", "^household__head_name", "^cadre__name")
    date_hierarchy = "visited_on"
    ordering = ("-visited_on", "-id")
    list_per_page = 50
    fields = (
        "household",
        "cadre",
        "team",
        "visited_on",
        "kind",
        "seen",
        "problems",
        "requests",
        "follow_up",
        "photo_link",
        "latitude",
        "longitude",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("户主"))
    def head(self, obj):
        return obj.household.head_name

    @admin.display(description=_("照片"), boolean=True)
    def has_photo(self, obj):
        return bool(obj.photo)

    @admin.display(description=_("照片"))
    def photo_link(self, obj):
        if not obj.photo:
            return "-"
        return format_html('<a href="../photo/">{}</a>', _g("查看照片"))

    def has_add_permission(self, request):
        return False  # visits are recorded by the teams in the workbench

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "coverage/",
                self.admin_site.admin_view(self.coverage_view),
                name="households_visitlog_coverage",
            ),
            path(
                "<int:pk>/photo/",
                self.admin_site.admin_view(self.photo_view),
                name="households_visitlog_photo",
            ),
            *super().get_urls(),
        ]

    def photo_view(self, request, pk: int):
        """The photo, through the same scope as the visit (a 404 otherwise)."""
        visit = self.get_queryset(request).filter(pk=pk).first()
        if visit is None or not visit.photo or not self.has_view_permission(request, visit):
            raise Http404
        response = FileResponse(visit.photo.open("rb"))
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def coverage_view(self, request):
        """Per village: households, visited this month, and each serving cadre's 遍访 this
        year; townships sum their villages. Downloadable as .xlsx."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ReportForm(request.GET or None, user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": _g("走访覆盖情况"),
            "opts": self.model._meta,
            "form": form,
            "rows": None,
        }
        form.fields["start"].required = form.fields["end"].required = False
        if form.is_valid():
            _start, end, prefix = form.period()
            today = min(end, timezone.localdate())
            rows = visit_coverage(user=request.user, today=today, prefix=prefix)
            villages, townships = _coverage_rows(rows)
            if request.GET.get("format") == "xlsx":
                note = _g("走访覆盖情况（截至 %s）") % today.isoformat()
                return workbook_response(
                    f"走访覆盖情况_{today:%Y%m%d}.xlsx",
                    [
                        (_g("村"), [str(h) for h in VILLAGE_HEADERS], villages, note),
                        (_g("乡镇"), [str(h) for h in TOWNSHIP_HEADERS], townships, note),
                    ],
                )
            context |= {
                "rows": villages,
                "townships": townships,
                "headers": VILLAGE_HEADERS,
                "township_headers": TOWNSHIP_HEADERS,
                "today": today,
            }
        return TemplateResponse(request, "admin/households/coverage.html", context)


VILLAGE_HEADERS = (
    _("乡镇"),
    _("村"),
    _("应走访户数"),
    _("本月已走访"),
    _("本月覆盖率"),
    _("在岗队员"),
    _("完成遍访人数"),
    _("各队员本年走访户数"),
)
TOWNSHIP_HEADERS = (_("乡镇"), _("村数"), _("应走访户数"), _("本月已走访"), _("本月覆盖率"))


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _coverage_rows(rows: list[dict]) -> tuple[list[tuple], list[tuple]]:
    villages, townships = [], {}
    for row in rows:
        village = row["village"]
        villages.append(
            (
                village.township.name,
                village.name,
                row["targets"],
                row["visited"],
                _share(row["visited"], row["targets"]),
                len(row["members"]),
                row["complete"],
                "；".join(
                    f"{name}（{role}）{n}/{row['targets']}" for name, role, n in row["members"]
                ),
            )
        )
        t = townships.setdefault(village.township_id, [village.township.name, 0, 0, 0])
        t[1] += 1
        t[2] += row["targets"]
        t[3] += row["visited"]
    return villages, [(n, c, tg, v, _share(v, tg)) for n, c, tg, v in townships.values()]
