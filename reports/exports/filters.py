"""Which rows an export holds: the filters of the household, member, cadre and dispatching
unit changelists.

The parameter names are the admin changelist's own (`status__code__exact`, `risk`, `q` …), so
that the "导出 Excel" action hands the list's query string over as it is, and an API client
sends the same names. Every value is validated when the export is requested (a bad value is a
Chinese error and no job); the job applies the stored filters to rows that start from the
requester's `visible_to()`, so an id of another county selects nothing.

A full ID number or phone typed into the search box is never stored: the request turns it
into its keyed hash (`id_hash`, `phone_hash`), which is what the filters match.
"""

import re
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common.crypto import keyed_hash
from common.people import is_valid_id_number, normalize_id_number, normalize_phone, validate_phone
from households.codes import (
    CardColour,
    Cause,
    Education,
    Health,
    HouseholdType,
    Labour,
    MonitoringCategory,
    Relation,
    SchoolStatus,
)
from households.models import Household, Member, Monitoring, ReportBand
from teams.admin import CadreWarningFilter
from teams.models import (
    Assignment,
    Cadre,
    DispatchingUnit,
    Gender,
    PoliticalStatus,
    UnitKind,
    UnitLevel,
)

# Changelist parameters that say how the page looks, not which rows it holds.
PAGE_PARAMETERS = frozenset({"o", "p", "all", "e", "_popup", "_to_field", "_changelist_filters"})
MAX_IDS = 10_000
_HASH = re.compile(r"^[0-9a-f]{64}$")


def protect_search(filters: dict[str, Any]) -> dict[str, Any]:
    """Replace a full ID number or phone in `q` by its keyed hash (never stored in clear)."""
    term = str(filters.get("q") or "").strip()
    if not term:
        return filters
    if is_valid_id_number(term):
        rest = {k: v for k, v in filters.items() if k != "q"}
        return {**rest, "id_hash": keyed_hash(normalize_id_number(term))}
    try:
        phone = validate_phone(normalize_phone(term))
    except ValidationError:
        return filters
    rest = {k: v for k, v in filters.items() if k != "q"}
    return {**rest, "phone_hash": keyed_hash(phone)}


class IdsField(forms.Field):
    """A list of row ids (the rows ticked on a changelist page)."""

    def to_python(self, value):
        if value in (None, "", []):
            return []
        items = value.split(",") if isinstance(value, str) else value
        try:
            ids = sorted({int(v) for v in items})
        except (TypeError, ValueError):
            raise ValidationError(_g("所选记录的编号不正确。"), code="ids") from None
        if len(ids) > MAX_IDS:
            raise ValidationError(
                _g("一次最多勾选%(n)d条记录导出；更多请用筛选条件。") % {"n": MAX_IDS}, code="ids"
            )
        return ids


class IdsFilter(django_filters.Filter):
    field_class = IdsField

    def filter(self, qs, value):
        return qs.filter(pk__in=value) if value else qs


class HashFilter(django_filters.CharFilter):
    """A keyed hash (64 hex digits) of an ID number or phone."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [RegexValidator(_HASH, message=_("查询值不正确。"))])
        super().__init__(*args, **kwargs)


class ExportFilterSet(django_filters.FilterSet):
    """The filters shared by every export; `user` is the requester (for scoped choices)."""

    ids = IdsFilter(label=_("所选记录"))
    year = django_filters.NumberFilter(
        label=_("收入年度"), method="noop", min_value=2013, max_value=2100
    )
    # The household list's own name for the same choice (its 收入年度 filter).
    income_year = django_filters.NumberFilter(
        label=_("收入年度"), method="noop", min_value=2013, max_value=2100
    )

    def __init__(self, data=None, queryset=None, *, user, **kwargs):
        self.user = user
        super().__init__(data, queryset, **kwargs)

    def noop(self, queryset, name, value):
        return queryset  # read by the layouts (which year's incomes), not a row filter

    def year_of_incomes(self) -> int:
        """The year of the income columns and the income filters (default: this year)."""
        if not self.form.is_valid():
            return timezone.localdate().year
        year = self.form.cleaned_data.get("year") or self.form.cleaned_data.get("income_year")
        return int(year) if year else timezone.localdate().year

    @classmethod
    def parameter_names(cls) -> set[str]:
        return set(cls.base_filters)


def _search_words(term: str) -> list[str]:
    return [w for w in term.split() if w][:5]


class HouseholdExportFilter(ExportFilterSet):
    county = django_filters.NumberFilter(field_name="village__township__parent_id", label=_("县"))
    township = django_filters.NumberFilter(field_name="village__township_id", label=_("乡镇"))
    village = django_filters.NumberFilter(field_name="village_id", label=_("村"))
    status__code__exact = django_filters.CharFilter(field_name="status__code", label=_("状态"))
    household_type__exact = django_filters.ChoiceFilter(
        field_name="household_type", choices=HouseholdType.choices, label=_("贫困户属性")
    )
    main_cause__exact = django_filters.ChoiceFilter(
        field_name="main_cause", choices=Cause.choices, label=_("主要致贫原因")
    )
    card_colour__exact = django_filters.ChoiceFilter(
        field_name="card_colour", choices=CardColour.choices, label=_("帮扶卡")
    )
    monitoring = django_filters.ChoiceFilter(
        choices=[("any", _("监测中（全部）")), *MonitoringCategory.choices],
        method="filter_monitoring",
        label=_("监测对象类别"),
    )
    risk = django_filters.ChoiceFilter(
        choices=[
            ("under_line", _("收入低于监测线")),
            ("fell", _("收入低于上年")),
            ("monitored_without_measure", _("监测户无帮扶措施")),
            ("no_cadre", _("无帮扶责任人")),
            ("missing_last_month", _("上月收入未登记")),
        ],
        method="filter_risk",
        label=_("风险"),
    )
    # An amount of a report band (numeric(10, 2)): a larger one is refused, not a failed job.
    band = django_filters.NumberFilter(
        method="filter_band", label=_("收入报告档"), min_value=1, max_value=99_999_999
    )
    q = django_filters.CharFilter(method="filter_search", label=_("搜索"), max_length=64)
    id_hash = HashFilter(method="filter_id_hash", label=_("身份证号"))
    phone_hash = HashFilter(method="filter_phone_hash", label=_("电话"))

    class Meta:
        model = Household
        fields: list[str] = []

    def filter_monitoring(self, queryset, name, value):
        open_ = Monitoring.objects.filter(
            household=OuterRef("pk"), status=Monitoring.Status.MONITORING
        )
        if value != "any":
            open_ = open_.filter(category=value)
        return queryset.filter(Exists(open_))

    def filter_risk(self, queryset, name, value):
        year = self.year_of_incomes()
        return queryset.with_risk(year=year, only=(value,)).filter(**{value: True})

    def filter_band(self, queryset, name, value):
        """Households under a report band of their own region (the admin's BandFilter)."""
        amount = int(value)
        prefixes = list(
            ReportBand.objects.visible_to(self.user)
            .filter(amount=amount)
            .values_list("prefix", flat=True)
        )
        if not prefixes:
            return queryset.none()
        in_regions = Q()
        for prefix in prefixes:
            in_regions |= Q(village__code__startswith=prefix)
        return (
            queryset.filter(in_regions)
            .with_risk(year=self.year_of_incomes(), only=("per_capita",))
            .filter(per_capita__lt=amount)
        )

    def filter_search(self, queryset, name, value):
        """The admin's household search: digits and letters as the start of a 户编号, anything
        else as the start of the head's name (one index range each)."""
        term = value.strip()
        if not term:
            return queryset
        if term.isascii() and term.replace("_", "").isalnum():
            return queryset.filter(code__startswith=term)
        return queryset.filter(head_name__startswith=term)

    def filter_id_hash(self, queryset, name, value):
        return queryset.filter(
            Exists(Member.objects.filter(household=OuterRef("pk"), id_hash=value))
        )

    def filter_phone_hash(self, queryset, name, value):
        return queryset.filter(phone_hash=value)


class MemberExportFilter(ExportFilterSet):
    county = django_filters.NumberFilter(
        field_name="household__village__township__parent_id", label=_("县")
    )
    township = django_filters.NumberFilter(
        field_name="household__village__township_id", label=_("乡镇")
    )
    village = django_filters.NumberFilter(field_name="household__village_id", label=_("村"))
    household = django_filters.NumberFilter(field_name="household_id", label=_("户"))
    relation__exact = django_filters.ChoiceFilter(
        field_name="relation", choices=Relation.choices, label=_("与户主关系")
    )
    labour__exact = django_filters.ChoiceFilter(
        field_name="labour", choices=Labour.choices, label=_("劳动能力")
    )
    health__exact = django_filters.ChoiceFilter(
        field_name="health", choices=Health.choices, label=_("健康状况")
    )
    education__exact = django_filters.ChoiceFilter(
        field_name="education", choices=Education.choices, label=_("文化程度")
    )
    school_status__exact = django_filters.ChoiceFilter(
        field_name="school_status", choices=SchoolStatus.choices, label=_("在校生状况")
    )
    active = django_filters.BooleanFilter(
        field_name="left_on", lookup_expr="isnull", label=_("仅在册成员")
    )
    q = django_filters.CharFilter(method="filter_search", label=_("搜索"), max_length=64)
    id_hash = HashFilter(field_name="id_hash", label=_("身份证号"))
    phone_hash = HashFilter(field_name="phone_hash", label=_("电话"))

    class Meta:
        model = Member
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        """The admin's member search (`^name`, `=household__code`): each word is the start of
        the name or the whole 户编号."""
        for word in _search_words(value):
            queryset = queryset.filter(Q(name__istartswith=word) | Q(household__code__iexact=word))
        return queryset


class CadreExportFilter(ExportFilterSet):
    unit__level__exact = django_filters.ChoiceFilter(
        field_name="unit__level", choices=UnitLevel.choices, label=_("单位层级")
    )
    political_status__exact = django_filters.ChoiceFilter(
        field_name="political_status", choices=PoliticalStatus.choices, label=_("政治面貌")
    )
    gender__exact = django_filters.ChoiceFilter(
        field_name="gender", choices=Gender.choices, label=_("性别")
    )
    unit__id__exact = django_filters.NumberFilter(field_name="unit_id", label=_("工作单位"))
    warning = django_filters.ChoiceFilter(
        choices=[(key, label) for key, (label, _q) in CadreWarningFilter.options.items()],
        method="filter_warning",
        label=_("预警"),
    )
    q = django_filters.CharFilter(method="filter_search", label=_("搜索"), max_length=64)
    id_hash = HashFilter(field_name="id_hash", label=_("身份证号"))
    phone_hash = HashFilter(field_name="phone_hash", label=_("手机号"))

    class Meta:
        model = Cadre
        fields: list[str] = []

    def filter_warning(self, queryset, name, value):
        """The cadre list's 预警 filter, on the same derived warnings."""
        return queryset.with_warnings().filter(**CadreWarningFilter.options[value][1])

    def filter_search(self, queryset, name, value):
        """The admin's cadre search: each word in the name, the unit's name or the name of a
        village the cadre serves or served in."""
        for word in _search_words(value):
            served = Assignment.objects.filter(
                cadre=OuterRef("pk"), team__village__name__icontains=word
            )
            queryset = queryset.filter(
                Q(name__icontains=word) | Q(unit__name__icontains=word) | Exists(served)
            )
        return queryset


class UnitExportFilter(ExportFilterSet):
    level__exact = django_filters.ChoiceFilter(
        field_name="level", choices=UnitLevel.choices, label=_("单位层级")
    )
    kind__exact = django_filters.ChoiceFilter(
        field_name="kind", choices=UnitKind.choices, label=_("单位类型")
    )
    q = django_filters.CharFilter(method="filter_search", label=_("搜索"), max_length=64)

    class Meta:
        model = DispatchingUnit
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        """The admin's unit search: each word in the name or the principal leader's name."""
        for word in _search_words(value):
            queryset = queryset.filter(
                Q(name__icontains=word) | Q(principal_leader__icontains=word)
            )
        return queryset


FILTERSETS: dict[str, type[ExportFilterSet]] = {
    "household": HouseholdExportFilter,
    "member": MemberExportFilter,
    "cadre": CadreExportFilter,
    "unit": UnitExportFilter,
}


def clean_filters(entity: str, data: dict[str, Any], *, user: Any) -> dict[str, Any]:
    """The canonical filters of a request (validated; empty values dropped), or a
    ValidationError in Chinese naming the parameter."""
    filterset_class = FILTERSETS[entity]
    data = {k: v for k, v in data.items() if k not in PAGE_PARAMETERS}
    if "id_hash" in filterset_class.base_filters:  # lists searched by ID number or phone
        data = protect_search(data)
    unknown = sorted(set(data) - filterset_class.parameter_names())
    if unknown:
        raise ValidationError(
            _g("导出不支持这些筛选条件：%(names)s") % {"names": "、".join(unknown)},
            code="unknown_filter",
        )
    canonical: dict[str, Any] = {}
    for key, value in data.items():
        if value in (None, "", []):
            continue
        if key == "ids":
            canonical[key] = IdsField().clean(value)
        elif isinstance(value, bool):
            canonical[key] = value
        else:
            canonical[key] = str(value)
    filterset = filterset_class(
        _form_data(canonical), queryset=filterset_class._meta.model.objects.none(), user=user
    )
    if not filterset.is_valid():
        errors = {
            str(filterset.filters[name].label or name): [str(m) for m in messages]
            for name, messages in filterset.errors.items()
        }
        first = next(iter(errors.items()))
        raise ValidationError(
            _g("筛选条件有误：%(field)s：%(message)s")
            % {"field": first[0], "message": first[1][0]},
            code="bad_filter",
        )
    return canonical


def apply_filters(entity: str, queryset: QuerySet, filters: dict[str, Any], *, user: Any):
    """The rows of `queryset` that the stored filters select, and the income year."""
    filterset = FILTERSETS[entity](_form_data(filters), queryset=queryset, user=user)
    if not filterset.is_valid():  # stored filters were valid when requested
        raise ValidationError(_g("导出的筛选条件已失效，请重新导出。"), code="bad_filter")
    return filterset.qs, filterset.year_of_incomes()


def _form_data(filters: dict[str, Any]) -> dict[str, Any]:
    data = dict(filters)
    if isinstance(data.get("ids"), list):
        data["ids"] = ",".join(str(i) for i in data["ids"])
    for key, value in data.items():
        if isinstance(value, bool):
            data[key] = "true" if value else "false"
    return data
