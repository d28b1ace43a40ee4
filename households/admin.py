"""Admin for county and township staff: the household registry with its risk flags."""

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.admin import (
    CappedChoicesFilter,
    FormActionMixin,
    ScopedAdminMixin,
    badge,
    badges,
    scoped,
)
from common.forms import ProtectedFieldsMixin
from common.people import is_valid_id_number, validate_phone
from teams.admin import CountyFilter, TownshipFilter
from teams.models import Cadre
from villages.models import Region, Village

from . import selectors, services
from .codes import Cause, MonitoringCategory, RiskType
from .models import (
    Household,
    HouseholdStatus,
    HouseholdStatusChange,
    IncomeLine,
    IncomeRecord,
    Measure,
    Member,
    Monitoring,
    Pairing,
    ReportBand,
)


def income_year(request) -> int | None:
    """The income year chosen in the household list; None for this year."""
    value = request.GET.get(IncomeYearFilter.parameter_name, "")
    if value.isdigit() and 2013 <= int(value) <= timezone.localdate().year:
        return int(value)
    return None


class IncomeYearFilter(admin.SimpleListFilter):
    """Which year's incomes the risk flags, the report bands and the per-capita column use:
    this year unless another is chosen (a dashboard link carries the year of its month)."""

    title = _("收入年度")
    parameter_name = "income_year"
    shown = 3  # this year and the two before it, plus a year chosen in the address

    def lookups(self, request, model_admin):
        this = timezone.localdate().year
        years = {this - n for n in range(1, self.shown)}
        chosen = income_year(request)
        if chosen and chosen != this:
            years.add(chosen)
        return [(str(y), str(y)) for y in sorted(years, reverse=True)]

    def choices(self, changelist):
        this = timezone.localdate().year
        yield {
            "selected": self.value() in (None, "", str(this)),
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("本年（%(year)d）") % {"year": this},
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        return queryset  # read by the risk and band filters and by the changelist


class RiskFilter(admin.SimpleListFilter):
    title = _("风险")
    parameter_name = "risk"

    def lookups(self, request, model_admin):
        return [
            ("under_line", _("收入低于监测线")),
            ("fell", _("收入低于上年")),
            ("monitored_without_measure", _("监测户无帮扶措施")),
            ("no_cadre", _("无帮扶责任人")),
            ("missing_last_month", _("上月收入未登记")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value in dict(self.lookups(request, None)):
            year = income_year(request)
            return queryset.with_risk(year=year, only=(value,)).filter(**{value: True})
        return queryset


class BandFilter(admin.SimpleListFilter):
    """Households under a report band of their own region (bands are data, per region)."""

    title = _("收入报告档")
    parameter_name = "band"

    def lookups(self, request, model_admin):
        amounts = sorted({b.amount for b in scoped(ReportBand, request.user)}, reverse=True)
        return [(f"{a:.0f}", _g("低于%(amount)s元") % {"amount": f"{a:,.0f}"}) for a in amounts]

    def queryset(self, request, queryset):
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        prefixes = list(
            scoped(ReportBand, request.user)
            .filter(amount=int(value))
            .values_list("prefix", flat=True)
        )
        if not prefixes:
            return queryset.none()
        in_regions = Q()
        for prefix in prefixes:
            in_regions |= Q(village__code__startswith=prefix)
        return (
            queryset.filter(in_regions)
            .with_risk(year=income_year(request), only=("per_capita",))
            .filter(per_capita__lt=int(value))
        )


class MonitoringCategoryFilter(admin.SimpleListFilter):
    title = _("监测对象类别")
    parameter_name = "monitoring"

    def lookups(self, request, model_admin):
        return [("any", _("监测中（全部）")), *MonitoringCategory.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "any":
            return queryset.with_risk(only=("is_monitored",)).filter(is_monitored=True)
        if value in MonitoringCategory.values:
            return queryset.filter(
                monitorings__status=Monitoring.Status.MONITORING, monitorings__category=value
            )
        return queryset


class HouseholdTownshipFilter(TownshipFilter):
    path = "village__township"


class VillageFilter(CappedChoicesFilter):
    """Villages of the chosen township, or of the user's scope when it holds only a few."""

    title = _("村")
    parameter_name = "village"
    path = "village"
    choice_model = Village
    max_choices = 60

    def choices_queryset(self, request):
        villages = scoped(Village, request.user).order_by("code")
        township = request.GET.get("township", "")
        if township.isdigit():
            villages = villages.filter(township_id=int(township))
        return villages


class HouseholdCountyFilter(CountyFilter):
    path = "village__township__parent"


class ReadOnlyInline(ScopedAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MemberInline(ReadOnlyInline):
    model = Member
    fields = (
        "name",
        "relation",
        "sex",
        "birth_date",
        "id_masked",
        "labour",
        "health",
        "joined_on",
        "left_on",
    )
    readonly_fields = fields

    @admin.display(description=_("身份证号"))
    def id_masked(self, obj):
        return obj.id_number_masked


class IncomeInline(ReadOnlyInline):
    model = IncomeRecord
    fields = ("month", "wage", "business", "property_income", "transfer", "production_cost")
    readonly_fields = fields
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-month")


class MonitoringInline(ReadOnlyInline):
    model = Monitoring
    fields = ("category", "discovery", "identified_on", "eliminated_on", "status")
    readonly_fields = fields


class MeasureInline(ReadOnlyInline):
    model = Measure
    fields = ("kind", "start", "end", "owner", "note")
    readonly_fields = fields


class PairingInline(ReadOnlyInline):
    model = Pairing
    fields = ("cadre", "start", "end", "reason", "end_reason")
    readonly_fields = fields


class StatusChangeInline(admin.TabularInline):
    model = HouseholdStatusChange
    fields = ("changed_on", "old", "new", "reason", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(household__in=scoped(Household, request.user))
            .select_related("old", "new", "actor")
        )


class HouseholdForm(ProtectedFieldsMixin, forms.ModelForm):
    phone = forms.CharField(label=_("户联系电话"), required=False, max_length=32)
    protected_fields = {"phone": "phone"}
    other_causes = forms.MultipleChoiceField(
        label=_("其他致贫原因（最多2项）"),
        choices=Cause.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_other_causes(self):
        causes = list(self.cleaned_data["other_causes"])
        if len(causes) > 2:
            raise ValidationError(_g("其他致贫原因最多选2项。"))
        return causes

    class Meta:
        model = Household
        fields = (
            "village",
            "code",
            "status",
            *(f for f in services.HOUSEHOLD_FIELDS if f != "phone"),
        )


class AssignCadreForm(forms.Form):
    cadre = forms.ModelChoiceField(label=_("帮扶责任人"), queryset=Cadre.objects.none())
    start = forms.DateField(label=_("开始日期"), initial=timezone.localdate)
    reason = forms.CharField(label=_("原因"), required=False)
    replace = forms.BooleanField(label=_("替换现有帮扶责任人"), required=False)


def _is_phone(term: str) -> bool:
    try:
        validate_phone(term)
    except ValidationError:
        return False
    return True


class HouseholdChangeList(ChangeList):
    """The page's risk flags come in one extra query for the rows shown, not for all rows."""

    def get_results(self, request):
        super().get_results(request)
        flags = selectors.household_flags(
            ids=[h.pk for h in self.result_list], year=income_year(request)
        )
        for household in self.result_list:
            for name, value in flags.get(household.pk, {}).items():
                setattr(household, name, value)


@admin.register(Household)
class HouseholdAdmin(FormActionMixin, ScopedAdminMixin, admin.ModelAdmin):
    form = HouseholdForm
    list_display = (
        "code",
        "head_name",
        "village",
        "township",
        "household_type",
        "status",
        "card_colour",
        "per_capita_display",
        "risks",
    )
    list_select_related = ("village", "village__township", "status")
    list_filter = (
        HouseholdCountyFilter,
        HouseholdTownshipFilter,
        VillageFilter,
        "status",
        "household_type",
        MonitoringCategoryFilter,
        "main_cause",
        "card_colour",
        IncomeYearFilter,
        RiskFilter,
        BandFilter,
    )
    # Searched by prefix on an index (see get_search_results): 户编号 or head name.
    search_fields = ("head_name", "code")
    protected_search = {"id_number": "members__id_hash", "phone": "phone_hash"}
    ordering = ("code",)
    autocomplete_fields = ("village",)
    inlines = (
        MemberInline,
        PairingInline,
        MonitoringInline,
        MeasureInline,
        IncomeInline,
        StatusChangeInline,
    )
    actions = ("assign_cadre", "change_status")
    readonly_fields = ("head_name",)
    list_per_page = 50

    def get_queryset(self, request):
        qs = selectors.household_list(user=request.user, with_risk=False)
        return qs.order_by(*self.get_ordering(request))

    def get_changelist(self, request, **kwargs):
        return HouseholdChangeList

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()  # read-only lists of an existing household

    def get_search_results(self, request, queryset, search_term):
        """A full ID number or phone by keyed hash; digits as a 户编号 prefix; anything else as
        the start of the head's name. Each is one index range, never a scan of every row."""
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        if is_valid_id_number(term) or _is_phone(term):
            return super().get_search_results(request, queryset, term)
        if term.isascii() and term.replace("_", "").isalnum():
            return queryset.filter(code__startswith=term), False
        return queryset.filter(head_name__startswith=term), False

    def get_readonly_fields(self, request, obj=None):
        return ("village", "code", "status", "head_name") if obj else ("head_name",)

    @admin.display(description=_("乡镇"))
    def township(self, obj):
        return obj.village.township.name

    @admin.display(description=_("人均纯收入（年化）"))
    def per_capita_display(self, obj):
        return "-" if obj.per_capita is None else f"{obj.per_capita:,.0f}"

    @admin.display(description=_("风险"))
    def risks(self, obj):
        out = []
        if obj.under_line:
            out.append(badge(_g("低于监测线"), "bad"))
        if obj.fell:
            out.append(badge(_g("收入下降")))
        if obj.monitored_without_measure:
            out.append(badge(_g("监测户无措施"), "bad"))
        if obj.no_cadre:
            out.append(badge(_g("无责任人")))
        if obj.missing_last_month:
            out.append(badge(_g("上月未登记")))
        return badges(out)

    def save_model(self, request, obj, form, change):
        data = dict(form.cleaned_data)
        fields = {k: data[k] for k in services.HOUSEHOLD_FIELDS if k in data}
        if change:
            if not fields.get("phone"):
                fields.pop("phone", None)
            services.household_update(household=Household.objects.get(pk=obj.pk), **fields)
        else:
            obj.pk = services.household_create(
                village=data["village"],
                code=data["code"],
                status=data["status"].pk,
                actor=request.user,
                **{k: v for k, v in fields.items() if k not in ("main_cause", "year_identified")},
                main_cause=data["main_cause"],
                year_identified=data["year_identified"],
            ).pk

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("指定帮扶责任人"), permissions=["change"])
    def assign_cadre(self, request, queryset):
        form = AssignCadreForm(request.POST if "apply" in request.POST else None)
        form.fields["cadre"].queryset = scoped(Cadre, request.user)
        return self.run_form_action(
            request,
            queryset.select_related("village"),
            form,
            title=_g("指定帮扶责任人"),
            apply=lambda household, data: services.pairing_assign(
                household=household,
                cadre=data["cadre"],
                start=data["start"],
                reason=data["reason"],
                replace=data["replace"],
                actor=request.user,
            ),
        )

    @admin.action(description=_("变更户状态（脱贫、返贫、注销……）"), permissions=["change"])
    def change_status(self, request, queryset):
        form = StatusForm(request.POST if "apply" in request.POST else None)
        return self.run_form_action(
            request,
            queryset,
            form,
            title=_g("变更户状态"),
            apply=lambda household, data: services.household_change_status(
                household=household,
                status=data["status"].pk,
                changed_on=data["changed_on"],
                reason=data["reason"],
                actor=request.user,
            ),
        )


class StatusForm(forms.Form):
    status = forms.ModelChoiceField(label=_("新状态"), queryset=HouseholdStatus.objects.all())
    changed_on = forms.DateField(label=_("变更日期"), initial=timezone.localdate)
    reason = forms.CharField(label=_("原因"), widget=forms.Textarea(attrs={"rows": 2}))


class LeaveForm(forms.Form):
    left_on = forms.DateField(label=_("离户日期"), initial=timezone.localdate)
    reason = forms.CharField(label=_("离户原因（迁出、死亡、分户……）"))


class MemberForm(ProtectedFieldsMixin, forms.ModelForm):
    id_number = forms.CharField(label=_("身份证号"), required=False, max_length=32)
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=32)
    protected_fields = {"id_number": "id_number", "phone": "phone"}

    class Meta:
        model = Member
        fields = (
            "household",
            "name",
            "relation",
            "ethnicity",
            "education",
            "school_status",
            "health",
            "disability_grade",
            "labour",
            "migrant_months",
            "medical_insured",
            "serious_illness_insured",
            "pension_insured",
            "joined_on",
        )

    def _post_clean(self):
        pass  # model checks run in the service, which holds the protected values


@admin.register(Member)
class MemberAdmin(FormActionMixin, ScopedAdminMixin, admin.ModelAdmin):
    form = MemberForm
    list_display = (
        "name",
        "household",
        "relation",
        "sex",
        "birth_date",
        "id_masked",
        "labour",
        "health",
        "left_on",
    )
    list_select_related = ("household",)
    list_filter = ("relation", "labour", "health", "education", "school_status")
    search_fields = ("^name", "=household__code")
    protected_search = {"id_number": "id_hash", "phone": "phone_hash"}
    ordering = ("household__code", "id")
    autocomplete_fields = ("household",)
    list_per_page = 50
    actions = ("leave",)

    def get_readonly_fields(self, request, obj=None):
        return ("household", "sex", "birth_date") if obj else ("sex", "birth_date")

    @admin.action(description=_("离户"), permissions=["change"])
    def leave(self, request, queryset):
        form = LeaveForm(request.POST if "apply" in request.POST else None)
        return self.run_form_action(
            request,
            queryset.select_related("household"),
            form,
            title=_g("离户"),
            apply=lambda member, data: services.member_leave(
                member=member, left_on=data["left_on"], reason=data["reason"]
            ),
        )

    @admin.display(description=_("身份证号"))
    def id_masked(self, obj):
        return obj.id_number_masked

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {k: data[k] for k in services.MEMBER_FIELDS if k in data}
        if change:
            for key in ("phone",):
                if not fields.get(key):
                    fields.pop(key, None)
            if data.get("id_number"):
                fields["id_number"] = data["id_number"]
            services.member_update(member=Member.objects.get(pk=obj.pk), **fields)
        else:
            obj.pk = services.member_add(
                household=data["household"],
                id_number=data["id_number"],
                **dict(fields.items()),
            ).pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IncomeRecord)
class IncomeRecordAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "household",
        "month",
        "wage",
        "business",
        "property_income",
        "transfer",
        "production_cost",
        "net_display",
    )
    list_select_related = ("household",)
    list_filter = ("month",)
    search_fields = ("=household__code", "^household__head_name")
    ordering = ("-month", "household__code")
    autocomplete_fields = ("household",)
    fields = (
        "household",
        "month",
        "wage",
        "business",
        "property_income",
        "transfer",
        "production_cost",
    )
    list_per_page = 50

    @admin.display(description=_("纯收入"))
    def net_display(self, obj):
        return f"{obj.net:,.2f}"

    def get_readonly_fields(self, request, obj=None):
        return ("household", "month") if obj else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.income_record_save(
            household=data.get("household") or obj.household,
            month=data.get("month") or obj.month,
            **{k: data[k] for k in services.INCOME_FIELDS},
        ).pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IncomeLine)
class IncomeLineAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("year", "region", "amount", "note")
    list_select_related = ("region",)
    list_filter = ("year",)
    ordering = ("-year", "prefix")
    autocomplete_fields = ("region",)
    fields = ("year", "region", "amount", "note")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or _owns(request.user, obj.region))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.income_line_set(
            year=data["year"], region=data["region"], amount=data["amount"], note=data["note"]
        ).pk


@admin.register(ReportBand)
class ReportBandAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("region", "amount")
    list_select_related = ("region",)
    ordering = ("prefix", "-amount")
    autocomplete_fields = ("region",)
    fields = ("region", "amount")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or _owns(request.user, obj.region))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.report_band_create(region=data["region"], amount=data["amount"]).pk


def _owns(user, region: Region) -> bool:
    """Lines and bands of higher regions are shown for reference but belong to that region."""
    prefix = user.scope_prefix if not user.is_superuser else ""
    return prefix is not None and region.code.startswith(prefix)


class MonitoringActionForm(forms.Form):
    on = forms.DateField(label=_("日期"), initial=timezone.localdate)
    reason = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MonitoringForm(forms.ModelForm):
    risk_types = forms.MultipleChoiceField(
        label=_("风险类型"), choices=RiskType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Monitoring
        fields = ("household", "category", "risk_types", "discovery", "identified_on")


@admin.register(Monitoring)
class MonitoringAdmin(FormActionMixin, ScopedAdminMixin, admin.ModelAdmin):
    form = MonitoringForm
    list_display = (
        "household",
        "category",
        "discovery",
        "identified_on",
        "eliminated_on",
        "status",
    )
    list_select_related = ("household",)
    list_filter = ("category", "status", "discovery")
    search_fields = ("=household__code", "^household__head_name")
    ordering = ("-identified_on", "id")
    autocomplete_fields = ("household",)
    fields = ("household", "category", "risk_types", "discovery", "identified_on")
    actions = ("eliminate", "rollback")

    def get_readonly_fields(self, request, obj=None):
        return (*self.fields, "eliminated_on", "status") if obj else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.monitoring_identify(
            household=data["household"],
            category=data["category"],
            risk_types=data["risk_types"],
            discovery=data["discovery"],
            identified_on=data["identified_on"],
            actor=request.user,
        ).pk

    def has_delete_permission(self, request, obj=None):
        return False

    def _apply(self, request, queryset, title, fn):
        form = MonitoringActionForm(request.POST if "apply" in request.POST else None)
        return self.run_form_action(
            request,
            queryset.select_related("household"),
            form,
            title=title,
            apply=fn,
            all_or_nothing=False,
        )

    @admin.action(description=_("标注风险消除（逐项核验条件）"), permissions=["change"])
    def eliminate(self, request, queryset):
        return self._apply(
            request,
            queryset,
            _g("风险消除"),
            lambda m, d: services.monitoring_eliminate(
                monitoring=m, eliminated_on=d["on"], actor=request.user, note=d["reason"]
            ),
        )

    @admin.action(description=_("回退（风险消除有误）"), permissions=["change"])
    def rollback(self, request, queryset):
        return self._apply(
            request,
            queryset,
            _g("回退"),
            lambda m, d: services.monitoring_rollback(
                monitoring=m, on=d["on"], reason=d["reason"], actor=request.user
            ),
        )


@admin.register(Measure)
class MeasureAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("household", "kind", "start", "end", "owner")
    list_select_related = ("household",)
    list_filter = ("kind",)
    search_fields = ("=household__code", "^household__head_name")
    ordering = ("-start", "id")
    autocomplete_fields = ("household",)
    fields = ("household", "kind", "start", "end", "owner", "note")

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.measure_add(**{k: data[k] for k in self.fields}).pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Pairing)
class PairingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("household", "cadre", "start", "end", "reason")
    list_select_related = ("household", "cadre")
    list_filter = ("end",)
    search_fields = ("=household__code", "^household__head_name", "^cadre__name")
    ordering = ("-start", "id")
    autocomplete_fields = ("household", "cadre")
    fields = ("household", "cadre", "start", "reason")

    def get_readonly_fields(self, request, obj=None):
        return (*self.fields, "end", "end_reason") if obj else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = services.pairing_assign(
            household=data["household"],
            cadre=data["cadre"],
            start=data["start"],
            reason=data["reason"],
            actor=request.user,
        ).pk

    def has_delete_permission(self, request, obj=None):
        return False


from . import admin_visits  # noqa: E402, F401 - registers the visit admins
