"""Admin of inspections and the problem / rectification ledger (问题台账 / 整改台账)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.admin import FormActionMixin, ScopedAdminMixin, badge, scoped
from common.errors import ApplicationError, user_message
from common.xlsx import workbook_response
from teams.admin import CountyFilter
from teams.admin_presence import TeamVillageFilter
from villages.models import Level, Region

from . import services
from .models import (
    OPEN_STATUSES,
    Escalation,
    Finding,
    FindingEvent,
    IndicatorScheme,
    Inspection,
    MonthlyRanking,
    RankingRun,
    Severity,
)


class InspectionForm(forms.ModelForm):
    class Meta:
        model = Inspection
        fields = ("region", "kind", "on", "title", "inspectors", "villages", "note")


@admin.register(Inspection)
class InspectionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = InspectionForm
    list_display = ("on", "title", "kind", "region", "inspectors")
    list_select_related = ("region",)
    list_filter = ("kind", "on")
    search_fields = ("title", "inspectors")
    date_hierarchy = "on"
    ordering = ("-on", "-id")
    autocomplete_fields = ("region", "villages")

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.inspection_create(
            region=data["region"],
            kind=data["kind"],
            on=data["on"],
            title=data["title"],
            inspectors=data["inspectors"],
            villages=data["villages"],
            note=data["note"],
            actor=request.user,
        ).pk

    def save_related(self, request, form, formsets, change):
        pass  # the service set the villages


class OverdueFilter(admin.SimpleListFilter):
    title = _("是否超期")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("已超期")), ("no", _("未超期"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        overdue = {"status__in": OPEN_STATUSES, "deadline__lt": today}
        if self.value() == "yes":
            return queryset.filter(**overdue)
        if self.value() == "no":
            return queryset.exclude(**overdue)
        return queryset


class FindingTownshipFilter(TeamVillageFilter):
    path = "village__township"


class FindingCountyFilter(CountyFilter):
    path = "village__township__parent"


class EventInline(admin.TabularInline):
    model = FindingEvent
    extra = 0
    fields = ("created_at", "old", "new", "actor", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class FindingForm(forms.ModelForm):
    class Meta:
        model = Finding
        fields = (
            "inspection",
            "village",
            "subject",
            "team",
            "cadre",
            "unit",
            "household",
            "category",
            "severity",
            "description",
            "absence_day",
            "deadline",
        )

    def _post_clean(self):
        # finding_create validates (and fills the team from the cadre); nothing half-built
        # is checked here.
        from django.forms.models import construct_instance

        self.instance = construct_instance(self, self.instance, self._meta.fields)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}))


class MeasuresForm(forms.Form):
    measures = forms.CharField(label=_("整改措施"), widget=forms.Textarea(attrs={"rows": 3}))


class EvidenceForm(forms.Form):
    evidence = forms.CharField(label=_("整改情况及佐证"), widget=forms.Textarea(attrs={"rows": 3}))


class VerifyForm(forms.Form):
    note = forms.CharField(label=_("验证意见"), required=False)


class ReopenForm(NoteForm):
    deadline = forms.DateField(
        label=_("新的整改时限"), widget=forms.DateInput(attrs={"type": "date"})
    )


LEDGER_HEADERS = (
    _("检查日期"),
    _("检查名称"),
    _("方式"),
    _("乡镇"),
    _("村"),
    _("问题对象"),
    _("问题类别"),
    _("严重程度"),
    _("问题描述"),
    _("整改时限"),
    _("状态"),
    _("是否超期"),
    _("整改措施"),
    _("整改情况及佐证"),
    _("整改人"),
    _("整改完成日期"),
    _("验证人"),
    _("验证日期"),
    _("销号日期"),
    _("回头看次数"),
)

# The most findings one download holds: a bigger selection is refused with a message asking
# to narrow the filters (a county's ledger of a year is far below it).
LEDGER_LIMIT = 5000


@admin.register(Finding)
class FindingAdmin(FormActionMixin, ScopedAdminMixin, admin.ModelAdmin):
    form = FindingForm
    list_display = (
        "deadline",
        "village",
        "subject_display",
        "short_description",
        "category",
        "severity_badge",
        "status",
        "overdue_badge",
    )
    list_select_related = (
        "village",
        "village__township",
        "team",
        "cadre",
        "unit",
        "household",
        "inspection",
    )
    list_filter = (
        "status",
        OverdueFilter,
        "severity",
        "category",
        "inspection__kind",
        "deadline",
        FindingCountyFilter,
        FindingTownshipFilter,
    )
    search_fields = ("description", "^village__name", "^cadre__name", "^team__name")
    ordering = ("deadline", "id")
    autocomplete_fields = ("inspection", "village", "team", "cadre", "unit", "household")
    inlines = (EventInline,)
    actions = (
        "start",
        "rectify",
        "verify_pass",
        "verify_fail",
        "close",
        "reopen",
        "download_ledger",
    )
    list_per_page = 50

    def get_fields(self, request, obj=None):
        if obj is None:
            return FindingForm.Meta.fields
        return (
            *FindingForm.Meta.fields,
            "status",
            "measures",
            "evidence",
            "rectified_by",
            "rectified_on",
            "verified_by",
            "verified_on",
            "closed_on",
            "reopened",
        )

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("问题对象"))
    def subject_display(self, obj):
        return obj.subject_label

    @admin.display(description=_("问题描述"))
    def short_description(self, obj):
        return obj.description[:40]

    @admin.display(description=_("严重程度"), ordering="severity")
    def severity_badge(self, obj):
        serious = obj.severity in (Severity.SERIOUS, Severity.MAJOR)
        return badge(obj.get_severity_display(), "bad" if serious else "warn")

    @admin.display(description=_("超期"))
    def overdue_badge(self, obj):
        return badge(_g("已超期"), "bad") if obj.is_overdue else ""

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.finding_create(
            inspection=data["inspection"],
            village=data["village"],
            subject=data["subject"],
            team=data.get("team"),
            cadre=data.get("cadre"),
            unit=data.get("unit"),
            household=data.get("household"),
            category=data["category"],
            severity=data["severity"],
            description=data["description"],
            absence_day=data.get("absence_day"),
            deadline=data["deadline"],
            actor=request.user,
        ).pk

    def _step(self, request, queryset, form_class, title, apply):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = form_class(request.POST if "apply" in request.POST else None)
        return self.run_form_action(
            request, queryset, form, title=title, apply=apply, all_or_nothing=False
        )

    @admin.action(description=_("开始整改（填写整改措施）"))
    def start(self, request, queryset):
        return self._step(
            request,
            queryset,
            MeasuresForm,
            _g("开始整改"),
            lambda f, d: services.finding_start(
                finding=f, actor=request.user, measures=d["measures"]
            ),
        )

    @admin.action(description=_("报整改完成（填写佐证）"))
    def rectify(self, request, queryset):
        return self._step(
            request,
            queryset,
            EvidenceForm,
            _g("报整改完成"),
            lambda f, d: services.finding_rectify(
                finding=f, actor=request.user, evidence=d["evidence"]
            ),
        )

    @admin.action(description=_("验证通过"))
    def verify_pass(self, request, queryset):
        return self._step(
            request,
            queryset,
            VerifyForm,
            _g("验证通过"),
            lambda f, d: services.finding_verify(
                finding=f, actor=request.user, passed=True, note=d["note"]
            ),
        )

    @admin.action(description=_("验证不通过（退回整改）"))
    def verify_fail(self, request, queryset):
        return self._step(
            request,
            queryset,
            NoteForm,
            _g("验证不通过"),
            lambda f, d: services.finding_verify(
                finding=f, actor=request.user, passed=False, note=d["note"]
            ),
        )

    @admin.action(description=_("销号"))
    def close(self, request, queryset):
        return self._step(
            request,
            queryset,
            VerifyForm,
            _g("销号"),
            lambda f, d: services.finding_close(finding=f, actor=request.user, note=d["note"]),
        )

    @admin.action(description=_("回头看：重新整改"))
    def reopen(self, request, queryset):
        return self._step(
            request,
            queryset,
            ReopenForm,
            _g("回头看重新整改"),
            lambda f, d: services.finding_reopen(
                finding=f, actor=request.user, note=d["note"], deadline=d["deadline"]
            ),
        )

    @admin.action(description=_("下载问题台账（Excel）"))
    def download_ledger(self, request, queryset):
        """The selected findings (select all for the filtered list) as a formatted ledger:
        all of them, or none with a message when they are more than LEDGER_LIMIT."""
        findings = list(
            queryset.select_related(
                "inspection",
                "village",
                "village__township",
                "team",
                "cadre",
                "unit",
                "household",
                "rectified_by",
                "verified_by",
            )[: LEDGER_LIMIT + 1]
        )
        if len(findings) > LEDGER_LIMIT:
            self.message_user(
                request,
                _g(
                    "所选问题共%(count)d条，超过一次下载的上限%(limit)d条，未生成台账。"
                    "请按乡镇、状态、整改时限等条件缩小筛选范围后分批下载。"
                )
                % {"count": queryset.count(), "limit": LEDGER_LIMIT},
                messages.ERROR,
            )
            return None
        rows = []
        for f in findings:
            rows.append(
                (
                    f.inspection.on,
                    f.inspection.title,
                    f.inspection.get_kind_display(),
                    f.village.township.name,
                    f.village.name,
                    f.subject_label,
                    f.get_category_display(),
                    f.get_severity_display(),
                    f.description,
                    f.deadline,
                    f.get_status_display(),
                    _g("是") if f.is_overdue else _g("否"),
                    f.measures,
                    f.evidence,
                    str(f.rectified_by or ""),
                    f.rectified_on,
                    str(f.verified_by or ""),
                    f.verified_on,
                    f.closed_on,
                    f.reopened,
                )
            )
        today = timezone.localdate()
        return workbook_response(
            f"问题整改台账_{today:%Y%m%d}.xlsx",
            [
                (
                    _g("问题整改台账"),
                    [str(h) for h in LEDGER_HEADERS],
                    rows,
                    _g("问题整改台账（%s 导出）") % today.isoformat(),
                )
            ],
        )


# --- monthly ranking ------------------------------------------------------------------------


@admin.register(IndicatorScheme)
class IndicatorSchemeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "region",
        "name",
        "effective_from",
        "presence_weight",
        "visit_weight",
        "bianfang_weight",
        "income_weight",
        "open_penalty",
        "overdue_penalty",
        "serious_penalty",
    )
    list_select_related = ("region",)
    ordering = ("prefix", "-effective_from")
    autocomplete_fields = ("region",)
    fields = ("region", "effective_from", *list_display[3:], "name")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        prefix = "" if request.user.is_superuser else request.user.scope_prefix
        return allowed and (
            obj is None or (prefix is not None and obj.region.code.startswith(prefix))
        )

    def get_readonly_fields(self, request, obj=None):
        return ("region", "effective_from") if obj else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.scheme_set(
            region=data.get("region") or obj.region,
            effective_from=data.get("effective_from") or obj.effective_from,
            **{k: data[k] for k in self.fields[2:]},
        ).pk


class RankingRequestForm(forms.Form):
    county = forms.ModelChoiceField(label=_("县"), queryset=Region.objects.none())
    period = forms.DateField(
        label=_("月份（任一天）"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = scoped(Region, user).filter(level=Level.COUNTY)


class RankingCountyFilter(CountyFilter):
    path = "county"


class RankingTownshipFilter(TeamVillageFilter):
    path = "team__village__township"


@admin.register(MonthlyRanking)
class MonthlyRankingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "period",
        "county",
        "rank_display",
        "team",
        "score",
        "presence_rate",
        "visit_rate",
        "bianfang_rate",
        "income_rate",
        "open_findings",
        "overdue_findings",
        "serious_findings",
    )
    list_select_related = ("county", "team")
    list_filter = ("period", RankingCountyFilter, RankingTownshipFilter)
    search_fields = ("^team__name",)
    ordering = ("-period", "county__code", "rank")
    list_per_page = 100

    @admin.display(description=_("排名"), ordering="rank")
    def rank_display(self, obj):
        text = f"{obj.rank}/{obj.of}"
        return badge(text, "bad") if obj.bottom else text

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.compute_view)
        return [path("compute/", view, name="assessments_ranking_compute"), *super().get_urls()]

    def has_compute_permission(self, request) -> bool:
        return request.user.has_perm("assessments.add_rankingrun")

    def changelist_view(self, request, extra_context=None):
        # The changelist's "计算月度排名" button leads to the on-demand computation.
        extra_context = (extra_context or {}) | {
            "can_compute": self.has_compute_permission(request)
        }
        return super().changelist_view(request, extra_context)

    def compute_view(self, request):
        """Queue a county's ranking of a month as a job and show the recent jobs."""
        if not self.has_compute_permission(request):
            raise PermissionDenied
        form = RankingRequestForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                run = services.ranking_request(
                    county=form.cleaned_data["county"],
                    period=form.cleaned_data["period"],
                    actor=request.user,
                )
            except (ApplicationError, ValidationError) as exc:
                form.add_error(None, user_message(exc))
            else:
                self.message_user(
                    request,
                    _g("已提交%(county)s %(period)s 的排名计算，完成后刷新本页查看。")
                    % {"county": run.county.name, "period": f"{run.period:%Y-%m}"},
                )
                return HttpResponseRedirect(request.path)
        runs = RankingRun.objects.visible_to(request.user).select_related("county")[:20]
        context = {
            **self.admin_site.each_context(request),
            "title": _g("计算月度排名"),
            "opts": self.model._meta,
            "form": form,
            "runs": runs,
        }
        return TemplateResponse(request, "admin/assessments/ranking_compute.html", context)


class DoneForm(forms.Form):
    carried_out_on = forms.DateField(
        label=_("落实日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("落实情况"), widget=forms.Textarea(attrs={"rows": 3}))


class ConfirmForm(forms.Form):
    pass


@admin.register(Escalation)
class EscalationAdmin(FormActionMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "period",
        "county",
        "team",
        "leader",
        "unit",
        "step",
        "streak",
        "status",
        "carried_out_on",
    )
    list_select_related = ("county", "team", "leader", "unit")
    list_filter = ("step", "status", "period")
    search_fields = ("^team__name", "^unit__name", "^leader__name")
    ordering = ("-period", "county__code", "step")
    actions = ("confirm", "done")
    fields = (
        "county",
        "period",
        "team",
        "leader",
        "unit",
        "step",
        "streak",
        "basis",
        "status",
        "confirmed_by",
        "confirmed_at",
        "carried_out_on",
        "note",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # derived from the rankings

    def has_delete_permission(self, request, obj=None):
        return False

    def _run(self, request, queryset, form_class, title, apply):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = form_class(request.POST if "apply" in request.POST else None)
        return self.run_form_action(
            request, queryset, form, title=title, apply=apply, all_or_nothing=False
        )

    @admin.action(description=_("确认所选问责措施"))
    def confirm(self, request, queryset):
        return self._run(
            request,
            queryset,
            ConfirmForm,
            _g("确认问责措施"),
            lambda e, d: services.escalation_confirm(escalation=e, actor=request.user),
        )

    @admin.action(description=_("登记落实情况"))
    def done(self, request, queryset):
        return self._run(
            request,
            queryset,
            DoneForm,
            _g("登记落实情况"),
            lambda e, d: services.escalation_done(
                escalation=e,
                actor=request.user,
                carried_out_on=d["carried_out_on"],
                note=d["note"],
            ),
        )


from . import admin_yearly  # noqa: E402, F401 - registers the yearly assessment admins
