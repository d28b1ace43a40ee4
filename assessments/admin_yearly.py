"""Admin of the yearly assessment (年度考核): the schemes, the assessments with their entered
scores, the fill job, the actions submit / return / finalize / quota, and the .xlsx results."""

import re
from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.admin import FormActionMixin, ScopedAdminMixin, badge, badges, scoped
from common.errors import ApplicationError, user_message
from common.xlsx import workbook_response
from teams.admin_presence import TeamVillageFilter
from villages.models import Level, Region

from . import services
from .models import (
    ENTERED_INDICATORS,
    Assessment,
    AssessmentEvent,
    AssessmentRun,
    AssessmentScore,
    AssessmentState,
    Indicator,
    SubjectKind,
    YearlyGrade,
    YearlyScheme,
)
from .yearly import number

# --- schemes --------------------------------------------------------------------------------

SPLIT = re.compile(r"[\s,，:：≥>=]+")


def _lines(text: str) -> list[list[str]]:
    return [SPLIT.split(line.strip()) for line in (text or "").splitlines() if line.strip()]


class YearlySchemeForm(forms.ModelForm):
    grades_text = forms.CharField(
        label=_("等次及最低分"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 30}),
        help_text=_("从高到低每行一个等次：名称 最低分，最低等次为0。例如：优秀 90"),
    )
    ceilings_text = forms.CharField(
        label=_("督查缺勤封顶"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 30}),
        help_text=_("每行：无故缺勤次数 最高可评等次。例如：1 称职（缺勤1次即不能评为最高等次）"),
    )

    class Meta:
        model = YearlyScheme
        fields = (
            "region",
            "from_year",
            "name",
            "presence_weight",
            "visits_weight",
            "findings_weight",
            "income_weight",
            "unit_weight",
            "township_weight",
            "survey_weight",
            "minor_deduction",
            "general_deduction",
            "serious_deduction",
            "major_deduction",
            "overdue_deduction",
            "top_quota",
            "quota_rounding",
            "note",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scheme = self.instance
        if scheme.pk and not self.is_bound:
            self.initial["grades_text"] = "\n".join(
                f"{g.name} {number(g.min_score)}" for g in scheme.grades.all()
            )
            names = {g.rank: g.name for g in scheme.grades.all()}
            self.initial["ceilings_text"] = "\n".join(
                f"{c.absences} {names.get(c.grade_rank, c.grade_rank)}"
                for c in scheme.ceilings.all()
            )

    def clean_grades_text(self):
        grades = []
        for parts in _lines(self.cleaned_data["grades_text"]):
            if len(parts) != 2:
                raise ValidationError(_("每行填写一个等次：名称 最低分。"))
            grades.append((parts[0], parts[1]))
        return grades

    def clean_ceilings_text(self):
        ceilings = []
        for parts in _lines(self.cleaned_data["ceilings_text"]):
            if len(parts) != 2 or not parts[0].isdigit():
                raise ValidationError(_("每行填写：无故缺勤次数 最高可评等次。"))
            ceilings.append((int(parts[0]), parts[1]))
        return ceilings

    def clean(self):
        """The service's own checks of the scale, shown on the fields they concern."""
        data = super().clean()
        if "grades_text" in data and "ceilings_text" in data:
            try:
                services.yearly_scale_check(
                    grades=data["grades_text"], ceilings=data["ceilings_text"]
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(f"{field}_text", errors)
        return data


@admin.register(YearlyScheme)
class YearlySchemeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = YearlySchemeForm
    list_display = (
        "region",
        "name",
        "from_year",
        "scale",
        "weights",
        "quota",
    )
    list_select_related = ("region",)
    ordering = ("prefix", "-from_year")
    autocomplete_fields = ("region",)
    fieldsets = (
        (None, {"fields": ("region", "from_year", "name", "note")}),
        (
            _("指标权重"),
            {
                "fields": (
                    "presence_weight",
                    "visits_weight",
                    "findings_weight",
                    "income_weight",
                    "unit_weight",
                    "township_weight",
                    "survey_weight",
                )
            },
        ),
        (
            _("督查问题扣分"),
            {
                "fields": (
                    "minor_deduction",
                    "general_deduction",
                    "serious_deduction",
                    "major_deduction",
                    "overdue_deduction",
                )
            },
        ),
        (
            _("等次、封顶与名额"),
            {"fields": ("grades_text", "ceilings_text", "top_quota", "quota_rounding")},
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("grades")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        prefix = "" if request.user.is_superuser else request.user.scope_prefix
        return allowed and (
            obj is None or (prefix is not None and obj.region.code.startswith(prefix))
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ("region", "from_year") if obj else ()

    @admin.display(description=_("等次"))
    def scale(self, obj):
        return " / ".join(f"{g.name}≥{number(g.min_score)}" for g in obj.grades.all())

    @admin.display(description=_("权重"))
    def weights(self, obj):
        return "，".join(
            f"{Indicator(i).label}{number(obj.weight(i))}"
            for i in Indicator.values
            if obj.weight(i) > 0
        )

    @admin.display(description=_("最高等次名额"))
    def quota(self, obj):
        if obj.top_quota is None:
            return _g("不限")
        return f"{number(obj.top_quota)}%（{obj.get_quota_rounding_display()}）"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        values = {k: data[k] for k in services.SCHEME_FIELDS}
        obj.pk = services.yearly_scheme_set(
            region=data.get("region") or obj.region,
            from_year=data.get("from_year") or obj.from_year,
            name=data["name"],
            grades=data["grades_text"],
            ceilings=data["ceilings_text"],
            **values,
        ).pk


# --- assessments ----------------------------------------------------------------------------


class GradeFilter(admin.SimpleListFilter):
    """The grade names of the scales the user's schemes use (best first)."""

    title = _("考核等次")
    parameter_name = "grade"

    def lookups(self, request, model_admin):
        schemes = YearlyScheme.objects.visible_to(request.user).values("pk")
        names = []
        for name in (
            YearlyGrade.objects.filter(scheme__in=schemes)
            .order_by("rank", "name")
            .values_list("name", flat=True)
        ):
            if name not in names:
                names.append(name)
        return [(n, n) for n in names] + [("-", _("未评定"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "-":
            return queryset.filter(grade="")
        if value:
            return queryset.filter(grade=value)
        return queryset


class AssessmentTownshipFilter(TeamVillageFilter):
    path = "village__township"


class ScoreInline(admin.TabularInline):
    model = AssessmentScore
    extra = 0
    fields = ("indicator", "score", "weight", "source", "basis", "entered_by", "updated_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("assessments.view_assessment")  # part of the assessment

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("entered_by", "assessment__scheme")

    @admin.display(description=_("权重"))
    def weight(self, obj):
        return number(obj.assessment.scheme.weight(obj.indicator))


class StepInline(admin.TabularInline):
    model = AssessmentEvent
    extra = 0
    fields = ("created_at", "action", "old", "new", "actor", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("assessments.view_assessment")  # part of the assessment

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class AssessmentForm(forms.ModelForm):
    """The county's entries on a draft: the three scores and a downward adjustment."""

    unit = forms.DecimalField(
        label=Indicator.UNIT.label,
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
    )
    township = forms.DecimalField(
        label=Indicator.TOWNSHIP.label,
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
    )
    survey = forms.DecimalField(
        label=Indicator.SURVEY.label,
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
    )
    note = forms.CharField(label=_("录入说明"), required=False, max_length=200)
    adjusted = forms.ChoiceField(
        label=_("调整等次"),
        required=False,
        help_text=_("只能低于按总分和封顶得出的等次；留空表示不调整。"),
    )
    reason = forms.CharField(
        label=_("调整原因"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Assessment
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assessment = self.instance
        grades = [g.name for g in assessment.scheme.grades.all()]
        self.fields["adjusted"].choices = [("", "—"), *((n, n) for n in grades)]
        if not self.is_bound:
            scores = dict(assessment.scores.values_list("indicator", "score"))
            self.initial |= {i: scores.get(i) for i in ENTERED_INDICATORS}
            self.initial["adjusted"] = assessment.adjusted_grade
            self.initial["reason"] = assessment.adjust_reason
            self.initial["version"] = assessment.version


ENTRY_FIELDS = ("unit", "township", "survey", "note", "version")
ADJUST_FIELDS = ("adjusted", "reason")


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}))


class OptionalNoteForm(forms.Form):
    note = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class FillForm(forms.Form):
    county = forms.ModelChoiceField(label=_("县"), queryset=Region.objects.none())
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = scoped(Region, user).filter(level=Level.COUNTY)
        self.fields["year"].initial = timezone.localdate().year


RESULT_HEADERS = (
    _("年度"),
    _("县"),
    _("乡镇"),
    _("村"),
    _("工作队"),
)
CADRE_HEADERS = (*RESULT_HEADERS, _("姓名"), _("工作单位"), _("职务"))
TEAM_HEADERS = (*RESULT_HEADERS, _("牵头派出单位"))
GRADE_HEADERS = (
    *(label for _v, label in Indicator.choices),
    _("总分"),
    _("按分数等次"),
    _("无故缺勤次数"),
    _("封顶等次"),
    _("封顶原因"),
    _("调整等次"),
    _("调整原因"),
    _("考核等次"),
    _("状态"),
    _("数据截至"),
)
RESULT_LIMIT = 20000


def _result_row(a: Assessment) -> tuple:
    scores = {s.indicator: s.score for s in a.scores.all()}
    head = (a.year, a.county.name, a.village.township.name, a.village.name, a.team.name)
    if a.kind == SubjectKind.CADRE:
        head += (a.cadre.name, a.cadre.unit.name, a.cadre.position)
    else:
        head += (a.team.lead_unit.name,)
    return (
        *head,
        *(scores.get(i) for i in Indicator.values),
        a.total,
        a.score_grade,
        a.absences,
        a.ceiling_grade,
        a.ceiling_reason,
        a.adjusted_grade,
        a.adjust_reason,
        a.grade,
        a.get_state_display(),
        a.data_until,
    )


@admin.register(Assessment)
class AssessmentAdmin(FormActionMixin, ScopedAdminMixin, admin.ModelAdmin):
    form = AssessmentForm
    list_display = (
        "year",
        "subject",
        "kind",
        "township",
        "team",
        "total",
        "grade_display",
        "state_display",
    )
    list_select_related = ("cadre", "team", "village", "village__township")
    list_filter = ("year", GradeFilter, "state", "kind", AssessmentTownshipFilter)
    search_fields = ("^cadre__name", "^team__name")
    ordering = ("-year", "kind", F("total").desc(nulls_last=True), "id")
    inlines = (ScoreInline, StepInline)
    actions = ("refill", "submit", "return_to_draft", "apply_quota", "finalize", "download")
    list_per_page = 100
    readonly_fields = (
        "subject",
        "kind",
        "county",
        "village",
        "team",
        "scheme",
        "state",
        "data_until",
        "filled_at",
        "total",
        "score_grade",
        "absence_list",
        "ceiling_grade",
        "ceiling_reason",
        "adjusted_grade",
        "adjust_reason",
        "grade",
        "submitted_by",
        "submitted_at",
        "finalized_by",
        "finalized_at",
    )

    def has_add_permission(self, request):
        return False  # filled from the data (the fill page and the refill action)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.state == AssessmentState.DRAFT)

    def has_finalize_permission(self, request):
        return request.user.has_perm("assessments.finalize_assessment")

    def get_fieldsets(self, request, obj=None):
        editable = obj is not None and self.has_change_permission(request, obj)
        return (
            (
                None,
                {"fields": ("subject", "kind", "county", "village", "team", "scheme", "state")},
            ),
            (
                _("县级录入评分"),
                {"fields": ENTRY_FIELDS if editable else ()},
            ),
            (
                _("总分与等次"),
                {
                    "fields": (
                        "total",
                        "score_grade",
                        "absence_list",
                        "ceiling_grade",
                        "ceiling_reason",
                        *(ADJUST_FIELDS if editable else ("adjusted_grade", "adjust_reason")),
                        "grade",
                        "data_until",
                        "filled_at",
                    )
                },
            ),
            (
                _("办理"),
                {"fields": ("submitted_by", "submitted_at", "finalized_by", "finalized_at")},
            ),
        )

    @admin.display(description=_("考核对象"))
    def subject(self, obj):
        return obj.subject_name

    @admin.display(description=_("乡镇"))
    def township(self, obj):
        return obj.village.township.name

    @admin.display(description=_("督查发现无故缺勤"))
    def absence_list(self, obj):
        return "、".join(d.isoformat() for d in obj.absence_days) or "-"

    @admin.display(description=_("考核等次"), ordering="grade_rank")
    def grade_display(self, obj):
        if not obj.grade:
            return "-"
        marks = [badge(obj.grade, "ok") if obj.grade_rank == 1 else obj.grade]
        if obj.ceiling_grade and obj.ceiling_grade != obj.score_grade:
            marks.append(badge(_g("缺勤封顶"), "bad"))
        if obj.adjusted_grade:
            marks.append(badge(_g("已调整"), "warn"))
        return badges(marks)

    @admin.display(description=_("状态"), ordering="state")
    def state_display(self, obj):
        if obj.state == AssessmentState.FINALIZED:
            return badge(obj.get_state_display(), "ok")
        return obj.get_state_display()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        assessment = services.assessment_enter_scores(
            assessment=obj,
            actor=request.user,
            scores={i: data.get(i) for i in ENTERED_INDICATORS},
            note=data.get("note", ""),
            expected_version=data["version"],
        )
        grade, reason = data.get("adjusted") or "", (data.get("reason") or "").strip()
        if grade != assessment.adjusted_grade or (grade and reason != assessment.adjust_reason):
            services.assessment_adjust_grade(
                assessment=assessment, actor=request.user, grade=grade or None, reason=reason
            )

    # --- actions ------------------------------------------------------------------------

    def _each(self, request, queryset, form, title, apply):
        if not self.has_change_permission(request):
            raise PermissionDenied
        return self.run_form_action(
            request, queryset, form, title=title, apply=apply, all_or_nothing=False
        )

    def _bound(self, request, form_class):
        return form_class(request.POST if "apply" in request.POST else None)

    def has_fill_permission(self, request):
        return request.user.has_perm("assessments.add_assessmentrun")

    @admin.action(description=_("按数据重新计算所选考核所在县、年度"), permissions=["fill"])
    def refill(self, request, queryset):
        pairs = set(queryset.values_list("county", "year"))
        counties = Region.objects.in_bulk({c for c, _y in pairs})
        for county_id, year in sorted(pairs):
            try:
                run = services.assessment_fill_request(
                    county=counties[county_id], year=year, actor=request.user
                )
            except (ApplicationError, ValidationError) as exc:
                self.message_user(request, user_message(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _g("已提交%(county)s %(year)d年度的考核计算，完成后刷新本页查看。")
                    % {"county": run.county.name, "year": run.year},
                )

    @admin.action(description=_("提交所选考核"), permissions=["change"])
    def submit(self, request, queryset):
        return self._each(
            request,
            queryset,
            self._bound(request, OptionalNoteForm),
            _g("提交年度考核"),
            lambda a, d: services.assessment_submit(
                assessment=a, actor=request.user, note=d["note"]
            ),
        )

    @admin.action(description=_("退回为草稿"), permissions=["change"])
    def return_to_draft(self, request, queryset):
        return self._each(
            request,
            queryset,
            self._bound(request, NoteForm),
            _g("退回年度考核"),
            lambda a, d: services.assessment_return(
                assessment=a, actor=request.user, note=d["note"]
            ),
        )

    @admin.action(description=_("按名额调整最高等次（草稿）"), permissions=["change"])
    def apply_quota(self, request, queryset):
        """For each county, year and kind among the selection, lower the drafts' top grades
        beyond the quota in order of total."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = self._bound(request, OptionalNoteForm)
        if "apply" not in request.POST or not form.is_valid():
            return self.run_form_action(
                request, queryset, form, title=_g("按名额调整最高等次"), apply=None
            )
        groups = sorted(set(queryset.values_list("county", "year", "kind")))
        counties = Region.objects.in_bulk({c for c, _y, _k in groups})
        for county_id, year, kind in groups:
            try:
                lowered = services.assessment_quota_apply(
                    county=counties[county_id], year=year, kind=kind, actor=request.user
                )
            except (ApplicationError, ValidationError) as exc:
                self.message_user(request, user_message(exc), messages.ERROR)
                continue
            self.message_user(
                request,
                _g("%(county)s %(year)d年度%(kind)s：调整%(n)d个。")
                % {
                    "county": counties[county_id].name,
                    "year": year,
                    "kind": SubjectKind(kind).label,
                    "n": len(lowered),
                },
            )
        return None

    @admin.action(description=_("定格所选考核"), permissions=["finalize"])
    def finalize(self, request, queryset):
        """All the selected or none: the quota of the top grade is checked across the
        county's year, and a refusal names how many are allowed and how many were asked."""
        form = self._bound(request, OptionalNoteForm)
        if "apply" not in request.POST or not form.is_valid():
            return self.run_form_action(
                request, queryset, form, title=_g("定格年度考核"), apply=None
            )
        try:
            rows = services.assessment_finalize(
                assessments=list(queryset), actor=request.user, note=form.cleaned_data["note"]
            )
        except (ApplicationError, ValidationError) as exc:
            self.message_user(request, user_message(exc), messages.ERROR)
            return None
        self.message_user(
            request, _g("已定格 %d 个年度考核，相关年度数据已锁定。") % len(rows), messages.SUCCESS
        )
        return None

    @admin.action(description=_("下载考核结果（Excel）"))
    def download(self, request, queryset):
        """The selected assessments (select all for the filtered list): cadres and teams on
        two sheets, every indicator with the total, the ceiling, the adjustment and the grade."""
        rows = (
            queryset.select_related("county", "village__township", "team__lead_unit", "cadre__unit")
            .prefetch_related("scores")
            .order_by("year", "village__code", "kind", "id")[:RESULT_LIMIT]
        )
        sheets: dict[str, list[tuple]] = defaultdict(list)
        for a in rows:
            sheets[a.kind].append(_result_row(a))
        today = timezone.localdate()
        note = _g("年度考核结果（%s 导出）") % today.isoformat()
        return workbook_response(
            f"年度考核结果_{today:%Y%m%d}.xlsx",
            [
                (
                    _g("干部"),
                    [str(h) for h in (*CADRE_HEADERS, *GRADE_HEADERS)],
                    sheets[SubjectKind.CADRE],
                    note,
                ),
                (
                    _g("工作队"),
                    [str(h) for h in (*TEAM_HEADERS, *GRADE_HEADERS)],
                    sheets[SubjectKind.TEAM],
                    note,
                ),
            ],
        )

    # --- the fill page ------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view(self.fill_view)
        return [path("fill/", view, name="assessments_assessment_fill"), *super().get_urls()]

    def fill_view(self, request):
        """Queue the filling of a county's yearly assessments from the data as a job, and
        show the recent jobs."""
        if not self.has_fill_permission(request):
            raise PermissionDenied
        form = FillForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                run = services.assessment_fill_request(
                    county=form.cleaned_data["county"],
                    year=form.cleaned_data["year"],
                    actor=request.user,
                )
            except (ApplicationError, ValidationError) as exc:
                form.add_error(None, user_message(exc))
            else:
                self.message_user(
                    request,
                    _g("已提交%(county)s %(year)d年度的考核计算，完成后刷新本页查看。")
                    % {"county": run.county.name, "year": run.year},
                )
                return HttpResponseRedirect(request.path)
        runs = AssessmentRun.objects.visible_to(request.user).select_related("county")[:20]
        context = {
            **self.admin_site.each_context(request),
            "title": _g("按数据计算年度考核"),
            "opts": self.model._meta,
            "form": form,
            "runs": runs,
        }
        return TemplateResponse(request, "admin/assessments/assessment_fill.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = (extra_context or {}) | {"can_fill": self.has_fill_permission(request)}
        return super().changelist_view(request, extra_context)
