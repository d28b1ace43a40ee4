"""FilterSets of the synced resources: `region` and `updated_since` everywhere, then the
fields a province filters on. Every filter validates its value before it reaches SQL (ids in
the bigint range, codes of digits, times that fit the database), so bad input is a 400 in
Chinese, never a database error; the schema states the same limits. Ids are not checked
against the database, so a filter never tells an out-of-scope id from a missing one."""

import datetime as dt
import re

import django_filters
from django import forms
from django.db import models
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import label_for_filter
from rest_framework.exceptions import ValidationError

MAX_ID = 2**63 - 1
# Significant digits of a 12-digit region code above the village: province, city, county,
# township (DESIGN.md section 3; villages.models keeps the same table for its own rules).
REGION_LEVEL_DIGITS = (2, 4, 6, 9)
# Timestamps stored in PostgreSQL stay within Python's range once moved to UTC.
EARLIEST = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 12, 30, tzinfo=dt.UTC)


def region_prefix(value: str) -> str:
    """The significant prefix of a region code: '140121' stays, '140121000000' (the county's
    full code) becomes '140121'. Raises ValidationError for anything but 2-12 digits."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or not 2 <= len(value) <= 12:
        raise forms.ValidationError(_g("区划代码应为2到12位数字，如 14 或 140121。"))
    if len(value) == 12:
        for size in REGION_LEVEL_DIGITS:
            if set(value[size:]) == {"0"}:
                return value[:size]
    return value


class RegionField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        return region_prefix(value) if value else value


class RegionFilter(django_filters.CharFilter):
    """Rows under a region: the same code-prefix rule as the scope (`scope_q`)."""

    field_class = RegionField

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(qs.scope_q(value))


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (a year, a count): 2016.5 is an error, not a filter matching nothing."""

    field_class = forms.IntegerField


class IdFilter(django_filters.NumberFilter):
    """A foreign key by id, validated as a positive bigint and never looked up."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StrictDateField(forms.DateField):
    input_formats = ["%Y-%m-%d"]  # ISO 8601 (the schema's "date"), nothing locale-dependent


class DateFilter(django_filters.DateFilter):
    field_class = StrictDateField


class StrictBooleanField(forms.Field):
    """true or false (1 or 0); anything else is an error, never "no filter"."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(_g("应为 true 或 false。")) from None


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


class SafeDateTimeField(forms.Field):
    """An RFC 3339 time with its offset (the schema's "date-time"), e.g.
    2026-01-01T00:00:00+08:00. A leap second counts as the next second; a time too far out to
    move to UTC (year 1, year 9999) is the earliest or the latest time, which is what it means
    for "since"."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        match = _RFC3339.match(str(value).strip())
        if not match:
            raise forms.ValidationError(_g("请输入带时区的时间，如 2026-01-01T00:00:00+08:00。"))
        day, hour, minute, second, fraction, offset = match.groups()
        leap = second == "60"
        text = f"{day}T{hour}:{minute}:{'59' if leap else second}{fraction or ''}"
        text += "+00:00" if offset in "Zz" else offset
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise forms.ValidationError(_g("时间不存在，请核对。")) from None
        try:
            value = value.astimezone(dt.UTC) + dt.timedelta(seconds=1 if leap else 0)
        except OverflowError:
            return EARLIEST if value.year < 2000 else LATEST
        return max(EARLIEST, min(value, LATEST))


class DateTimeFilter(django_filters.DateTimeFilter):
    field_class = SafeDateTimeField


def id_filter(field_name: str, label) -> IdFilter:
    return IdFilter(field_name=field_name, label=label)


def date_range(field_name: str, label_from, label_to) -> tuple[DateFilter, DateFilter]:
    return (
        DateFilter(field_name=field_name, lookup_expr="gte", label=label_from),
        DateFilter(field_name=field_name, lookup_expr="lte", label=label_to),
    )


class SyncFilterSet(django_filters.FilterSet):
    """Filters every synced resource has. Filters made from `Meta.fields` are labelled with
    their model field's (Chinese) name, so that the schema documents each of them."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
        models.DateField: {"filter_class": DateFilter},
        **{
            field: {"filter_class": IntegerFilter}
            for field in (
                models.IntegerField,
                models.SmallIntegerField,
                models.BigIntegerField,
                models.PositiveIntegerField,
                models.PositiveSmallIntegerField,
                models.PositiveBigIntegerField,
            )
        },
    }

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        for f in filters.values():
            if f._label is None and cls._meta.model is not None:
                f.label = label_for_filter(cls._meta.model, f.field_name, f.lookup_expr)
        return filters

    region = RegionFilter(
        label=_("区划代码前缀"),
        help_text=_(
            "只返回该区划之内的数据（与权限范围的规则相同）：2位为省，4位为市，6位为县，"
            "9位为乡镇，12位为村；也可给出12位完整代码，如 140121000000 视为 140121。"
        ),
    )
    updated_since = DateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label=_("更新时间不早于"),
        help_text=_(
            "只返回此时间及以后修改过的记录（RFC 3339，须带时区），如 "
            "2026-01-01T00:00:00+08:00。增量同步请保存并使用 next 游标：游标不会漏取在途事务"
            "稍后提交的修改，按时间筛选则可能漏取。"
        ),
    )


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter reads an empty parameter as "no filter"; here a filter given without a
    value is an error (400), like any other value its type does not allow."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            empty = {
                name: [_g("不能为空。")]
                for name in filterset.filters
                if name in request.query_params
                and any(v == "" for v in request.query_params.getlist(name))
            }
            if empty:
                raise ValidationError(empty)
        return filterset
