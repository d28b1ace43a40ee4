"""Admin of presence: rules, attendance (and absences found by inspections), leave approval,
the work diary, and the compliance report with its .xlsx download."""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.admin import CappedChoicesFilter, FormActionMixin, ScopedAdminMixin, scoped
from common.xlsx import workbook_response
from villages.models import Level, Region

from . import presence
from .compliance import PERIOD_LABELS, presence_compliance
from .models import (
    AbsenceKind,
    Assignment,
    Attendance,
    DiaryEntry,
    LeaveRequest,
    PresenceRule,
)

# Above this many assignments a report must be narrowed to a county or township first.
REPORT_LIMIT = 3000


def _owns(user, region: Region) -> bool:
    prefix = "" if user.is_superuser else user.scope_prefix
    return prefix is not None and region.code.startswith(prefix)


class PresenceRuleForm(forms.ModelForm):
    counted_kinds = forms.MultipleChoiceField(
        label=_("视同在村的外出"),
        choices=AbsenceKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = PresenceRule
        fields = (
            "region",
            "effective_from",
            "name",
            "days_per_week",
            "nights_per_week",
            "days_per_month",
            "days_per_year",
            "counted_kinds",
            "township_leave_days",
            "note",
        )


@admin.register(PresenceRule)
class PresenceRuleAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = PresenceRuleForm
    list_display = (
        "region",
        "name",
        "effective_from",
        "days_per_week",
        "nights_per_week",
        "days_per_month",
        "days_per_year",
        "township_leave_days",
    )
    list_select_related = ("region",)
    ordering = ("prefix", "-effective_from")
    autocomplete_fields = ("region",)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or _owns(request.user, obj.region))

    def get_readonly_fields(self, request, obj=None):
        return ("region", "effective_from") if obj else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        values = {k: data[k] for k in presence.RULE_FIELDS}
        obj.pk = presence.presence_rule_set(
            region=data.get("region") or obj.region,
            effective_from=data.get("effective_from") or obj.effective_from,
            **values,
        ).pk


class AbsenceForm(forms.ModelForm):
    """An absence found by an inspection: the day is absent whatever the check-in said."""

    class Meta:
        model = Attendance
        fields = ("cadre", "day", "note")
        labels = {"note": _("督查发现情况")}

    def _post_clean(self):
        # The service validates and fills the rest (team, status, source); the model's own
        # full_clean would ask for those here.
        from django.forms.models import construct_instance

        self.instance = construct_instance(self, self.instance, self._meta.fields)


class TeamVillageFilter(CappedChoicesFilter):
    title = _("乡镇")
    parameter_name = "township"
    path = "team__village__township"

    def choices_queryset(self, request):
        return scoped(Region, request.user).filter(level=Level.TOWNSHIP).order_by("code")


@admin.register(Attendance)
class AttendanceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("day", "cadre", "team", "status", "source", "overnight", "checked_in_at")
    list_select_related = ("cadre", "team")
    list_filter = ("status", "source", "overnight", "day", TeamVillageFilter)
    search_fields = ("^cadre__name", "^team__name")
    date_hierarchy = "day"
    ordering = ("-day", "cadre__name")
    autocomplete_fields = ("cadre",)
    list_per_page = 50

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AbsenceForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("cadre", "day", "note")
        return (
            "cadre",
            "team",
            "day",
            "status",
            "source",
            "overnight",
            "checked_in_at",
            "latitude",
            "longitude",
            "note",
            "recorded_by",
        )

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj else ()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = presence.attendance_record_absence(
            cadre=data["cadre"], day=data["day"], actor=request.user, note=data["note"]
        ).pk

    def get_urls(self):
        view = self.admin_site.admin_view(self.compliance_view)
        return [
            path("compliance/", view, name="teams_attendance_compliance"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = (extra_context or {}) | {"report_url": "compliance/"}
        return super().changelist_view(request, extra_context)

    def compliance_view(self, request):
        """Presence compliance per cadre and team for a chosen period, with the days that
        break the rule; downloadable as .xlsx."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ReportForm(request.GET or None, user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": _g("驻村在岗情况"),
            "opts": self.model._meta,
            "form": form,
        }
        if form.is_valid():
            start, end, region = form.period()
            assignments = (
                Assignment.objects.visible_to(request.user)
                .filter(team__village__code__startswith=region, start__lte=end)
                .exclude(ended_on__lt=start)
                .select_related("cadre", "team", "team__village")
                .order_by("team__village__code", "-is_leader", "cadre__name")
            )
            if assignments.count() > REPORT_LIMIT:
                messages.warning(request, _g("范围太大，请先选择县或乡镇。"))
            else:
                results = presence_compliance(assignments=assignments, start=start, end=end)
                teams = _team_rows(results)
                if request.GET.get("format") == "xlsx":
                    return _compliance_xlsx(results, teams, start, end)
                context |= {
                    "rows": _cadre_rows(results),
                    "headers": CADRE_HEADERS,
                    "team_headers": TEAM_HEADERS,
                    "teams": [
                        (t["team"].name, t["members"], t["ok"], t["failed"], t["absent"])
                        for t in teams
                    ],
                    "start": start,
                    "end": end,
                }
        return TemplateResponse(request, "admin/teams/compliance.html", context)


def _team_rows(results):
    teams: dict[int, dict] = {}
    for r in results:
        row = teams.setdefault(
            r.team.pk, {"team": r.team, "members": 0, "ok": 0, "failed": 0, "absent": 0}
        )
        row["members"] += 1
        row["ok"] += r.ok is True
        row["failed"] += r.ok is False
        row["absent"] += r.count("absent")
    return list(teams.values())


def _cadre_rows(results) -> list[tuple]:
    status = {True: _g("达标"), False: _g("未达标"), None: _g("进行中")}
    return [
        (
            r.team.village.name,
            r.team.name,
            r.cadre.name,
            r.assignment.role_label,
            r.count("present"),
            r.count("counted"),
            r.count("excused"),
            r.count("absent"),
            r.count("missing"),
            "、".join(f"{PERIOD_LABELS[p.kind]}{p.label}" for p in r.failed),
            "、".join(f"{d:%m-%d}" for d in r.breaking_days),
            status[r.ok],
        )
        for r in results
    ]


CADRE_HEADERS = (
    _("村"),
    _("工作队"),
    _("姓名"),
    _("职务"),
    _("在村天数"),
    _("公务视同在村"),
    _("请假天数"),
    _("督查缺勤"),
    _("无记录"),
    _("未达标周期"),
    _("违规日期"),
    _("结论"),
)
TEAM_HEADERS = (_("工作队"), _("人数"), _("达标"), _("未达标"), _("督查缺勤天数"))


def _compliance_xlsx(results, teams, start, end):
    note = _g("驻村在岗情况 %(start)s 至 %(end)s") % {"start": start, "end": end}
    cadre_rows = _cadre_rows(results)
    team_rows = [(t["team"].name, t["members"], t["ok"], t["failed"], t["absent"]) for t in teams]
    return workbook_response(
        f"驻村在岗情况_{start:%Y%m%d}_{end:%Y%m%d}.xlsx",
        [
            (_g("干部"), [str(h) for h in CADRE_HEADERS], cadre_rows, note),
            (_g("工作队"), [str(h) for h in TEAM_HEADERS], team_rows, note),
        ],
    )


class ReportForm(forms.Form):
    """A period (default: last month) and, above a county, the county or township."""

    start = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    region = forms.ModelChoiceField(label=_("范围"), queryset=Region.objects.none(), required=False)

    def __init__(self, data=None, *, user):
        today = timezone.localdate()
        first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        last = today.replace(day=1) - dt.timedelta(days=1)
        if data is not None and "start" not in data:
            data = data.copy()
            data.setdefault("start", first.isoformat())
            data.setdefault("end", last.isoformat())
        super().__init__(data or {"start": first.isoformat(), "end": last.isoformat()})
        self.user = user
        self.fields["region"].queryset = (
            scoped(Region, user).filter(level__in=[Level.COUNTY, Level.TOWNSHIP]).order_by("code")
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("结束日期不能早于开始日期。"))
            if (end - start).days > 366:
                raise forms.ValidationError(_("一次最多统计一年。"))
        return data

    def period(self) -> tuple[dt.date, dt.date, str]:
        data = self.cleaned_data
        region = data.get("region")
        return data["start"], data["end"], region.prefix if region else ""


class DecideForm(forms.Form):
    note = forms.CharField(label=_("审批意见"), max_length=200, required=False)


@admin.register(LeaveRequest)
class LeaveRequestAdmin(FormActionMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "cadre",
        "team",
        "kind",
        "start",
        "end",
        "days",
        "status",
        "approver_level",
        "decided_by",
    )
    list_select_related = ("cadre", "team", "decided_by")
    list_filter = ("status", "kind", "approver_level", "start", TeamVillageFilter)
    search_fields = ("^cadre__name", "^team__name")
    ordering = ("-start", "-id")
    actions = ("approve", "reject")
    readonly_fields = (
        "cadre",
        "team",
        "kind",
        "start",
        "end",
        "days",
        "reason",
        "destination",
        "status",
        "approver_level",
        "requested_by",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # a cadre asks in the workbench

    def has_delete_permission(self, request, obj=None):
        return False

    def _decide(self, request, queryset, approve: bool):
        if not self.has_change_permission(request):
            raise PermissionDenied
        return self.run_form_action(
            request,
            queryset,
            DecideForm(request.POST if "apply" in request.POST else None),
            title=_g("批准") if approve else _g("不批准"),
            apply=lambda leave, data: presence.leave_request_decide(
                leave=leave, actor=request.user, approve=approve, note=data["note"]
            ),
            all_or_nothing=False,
        )

    @admin.action(description=_("批准所选申请"))
    def approve(self, request, queryset):
        return self._decide(request, queryset, True)

    @admin.action(description=_("不批准所选申请（须填写意见）"))
    def reject(self, request, queryset):
        return self._decide(request, queryset, False)


@admin.register(DiaryEntry)
class DiaryEntryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("day", "cadre", "team", "short_work")
    list_select_related = ("cadre", "team")
    list_filter = ("day", TeamVillageFilter)
    search_fields = ("^cadre__name", "^team__name")
    date_hierarchy = "day"
    ordering = ("-day", "cadre__name")
    fields = ("cadre", "team", "day", "work_done", "problems", "next_plan")
    readonly_fields = fields

    @admin.display(description=_("工作内容"))
    def short_work(self, obj):
        return obj.work_done[:40]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
