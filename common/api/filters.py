"""FilterSets of the synced resources: `region` and `updated_since` everywhere, then the
fields a province filters on. Every filter validates its value before it reaches SQL (ids in
the bigint range, dates in a sane range, codes of digits), so bad input is a 400 in Chinese,
never a database error; ids are not checked against the database, so a filter never tells an
out-of-scope id from a missing one."""

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from django_filters.utils import label_for_filter

from villages.models import PREFIX_LENGTH

MAX_ID = 2**63 - 1
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2200, 12, 31)


def region_prefix(value: str) -> str:
    """The significant prefix of a region code: '140121' stays, '140121000000' (the county's
    full code) becomes '140121'. Raises ValidationError for anything but 2-12 digits."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or not 2 <= len(value) <= 12:
        raise forms.ValidationError(_g("区划代码应为2到12位数字，如 14 或 140121。"))
    if len(value) == 12:
        for size in sorted(PREFIX_LENGTH.values())[:-1]:
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


class IdFilter(django_filters.NumberFilter):
    """A foreign key by id, validated as a positive bigint and never looked up."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class SafeDateField(forms.DateField):
    def clean(self, value):
        value = super().clean(value)
        if value is not None and not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(_g("日期超出范围（1900—2200年）。"))
        return value


class DateFilter(django_filters.DateFilter):
    field_class = SafeDateField


class SafeDateTimeField(forms.DateTimeField):
    """ISO 8601; a time without offset is Beijing time; years 1900—2200 only."""

    input_formats = [*forms.DateTimeField.input_formats]

    def to_python(self, value):
        try:
            result = super().to_python(value)
        except (OverflowError, ValueError):
            raise forms.ValidationError(
                _g("请输入有效的时间，如 2026-01-01T00:00:00+08:00。")
            ) from None
        return result

    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return value
        try:
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            if not EARLIEST <= value.astimezone(dt.UTC).date() <= LATEST:
                raise ValueError
        except (OverflowError, ValueError):
            raise forms.ValidationError(_g("时间超出范围（1900—2200年）。")) from None
        return value


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
            "只返回此时间及以后修改过的记录（ISO 8601，不带时区按北京时间），如 "
            "2026-01-01T00:00:00+08:00。增量同步请保存并使用 next 游标：游标不会漏取在途事务"
            "稍后提交的修改，按时间筛选则可能漏取。"
        ),
    )
