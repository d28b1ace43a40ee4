"""Serializers of synced resources: a ModelSerializer is the contract, a compiled plan does
the work.

`SyncSerializer` subclasses are ordinary ModelSerializers: drf-spectacular documents them
and the tests compare against them. Serving a page through DRF field objects costs tens of
microseconds per field for hundreds of thousands of rows, so `SyncSerializer.plan()` compiles
the same fields once into a `RowPlan`: the columns to ask `.values_list()` for and a
converter per field that gives exactly what the field's `to_representation` would (dates in
ISO 8601, datetimes in the current time zone, decimals as strings, masks). Field kinds the
plan does not know are refused when the plan is built, never guessed; a
SerializerMethodField (which might query per row) is refused too.

Rows nested in a row (a circular's entries, an assessment's scores) are a `ListField` whose
child is a serializer: the selector builds them as JSON in the page query (an annotation),
in the child's representation, and the plan serves them as they come (see `_check_nested`).
"""

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.settings import api_settings

from common.people import mask_id_number, mask_phone

MASKS: dict[str, Callable[[str], str]] = {"id_number": mask_id_number, "phone": mask_phone}


class MaskedField(serializers.CharField):
    """An ID number or a phone: masked (`110***********002X`, `138****5678`) unless the
    request reveals personal data (`context["reveal"]`, granted and logged by the view)."""

    def __init__(self, kind: str, **kwargs: Any):
        if kind not in MASKS:
            raise ValueError(f"unknown mask {kind}")
        self.kind = kind
        kwargs.setdefault("read_only", True)
        kwargs.setdefault(
            "help_text",
            _("默认脱敏显示；具有查看权限的账号在请求中声明理由（reveal、reason）后返回完整值。"),
        )
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> str:
        if self.context.get("reveal"):
            return value
        return MASKS[self.kind](value)


class _Datetime:
    """DRF's ISO 8601 in the current time zone; the zone is looked up once per page (the
    lookup costs more than the conversion)."""

    def __init__(self):
        self.zone = None

    def __call__(self, value: dt.datetime) -> str:
        text = value.astimezone(self.zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


class RowPlan:
    """Columns for `.values_list()` and the converter of each, in the serializer's order."""

    def __init__(self, fields: Sequence[tuple[str, str, Callable | None, str | None]]):
        self.keys = tuple(key for key, _column, _conv, _mask in fields)
        self.columns = tuple(column for _key, column, _conv, _mask in fields)
        self._masked = [
            (i, key, MASKS[mask] if mask else conv)
            for i, (key, _col, conv, mask) in enumerate(fields)
            if conv or mask
        ]
        self._revealed = [
            (i, key, conv) for i, (key, _col, conv, _mask) in enumerate(fields) if conv
        ]

    def rows(self, tuples: Iterable[Sequence[Any]], *, reveal: bool = False) -> list[dict]:
        """Serialize value tuples (in `columns` order; extra trailing values are ignored)."""
        keys = self.keys
        converters = self._revealed if reveal else self._masked
        zone = timezone.get_current_timezone()
        for _i, _key, convert in converters:
            if isinstance(convert, _Datetime):
                convert.zone = zone
        out = []
        append = out.append
        for row in tuples:
            item = dict(zip(keys, row, strict=False))
            for i, key, convert in converters:
                value = row[i]
                if value is not None:
                    item[key] = convert(value)
            append(item)
        return out


def _dates(values: list[dt.date]) -> list[str]:
    return [value.isoformat() for value in values]


# Fields a nested row may have: the database builds the row as JSON in their representation
# (numbers, text, true/false, decimals cast to text, JSON as stored).
NESTED_FIELDS = (
    serializers.PrimaryKeyRelatedField,
    serializers.BooleanField,
    serializers.IntegerField,
    serializers.DecimalField,
    serializers.CharField,
    serializers.ChoiceField,
    serializers.JSONField,
)


def _check_nested(child: serializers.Serializer) -> None:
    """A list of rows nested in a resource's row (a circular's entries) is built by the
    database as JSON in the page query and served as it comes: no per-row query, and no
    conversion. So the nested fields must be of kinds whose JSON is their representation:
    no masked personal data (it would escape the mask), no times (the database's time zone
    is not the answer's), no lists or objects of their own."""
    for key, field in child.fields.items():
        if isinstance(field, MaskedField | serializers.SerializerMethodField) or not isinstance(
            field, NESTED_FIELDS
        ):
            raise TypeError(f"{type(child).__name__}.{key}: {type(field).__name__} is not nested")
        if isinstance(field, serializers.DecimalField) and not getattr(
            field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING
        ):
            raise TypeError("decimals are served as strings")


def _converter(field: serializers.Field) -> tuple[Callable | None, str | None]:
    """(converter or None for "as is", mask kind) of one DRF field."""
    if isinstance(field, MaskedField):
        return None, field.kind
    if isinstance(field, serializers.SerializerMethodField):
        raise TypeError("SerializerMethodField is not allowed in a synced resource")
    if isinstance(field, serializers.DateTimeField):
        if getattr(field, "format", None) not in (None, serializers.empty, "iso-8601"):
            raise TypeError("only ISO 8601 datetimes are served")
        return _Datetime(), None
    if isinstance(field, serializers.DateField):
        return dt.date.isoformat, None
    if isinstance(field, serializers.DecimalField):
        if not getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING):
            raise TypeError("decimals are served as strings")
        return str, None
    if isinstance(field, serializers.BigIntegerField) and getattr(
        field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING
    ):
        return str, None
    if isinstance(field, serializers.UUIDField):
        return str, None
    if isinstance(field, serializers.ListField):
        child = field.child
        if isinstance(child, serializers.Serializer):
            _check_nested(child)
            return None, None
        if isinstance(child, serializers.DateField):
            return _dates, None
        if not isinstance(
            child, serializers.CharField | serializers.ChoiceField | serializers.IntegerField
        ):
            raise TypeError(f"list of {type(child).__name__} is not supported")
        return None, None
    if isinstance(
        field,
        serializers.PrimaryKeyRelatedField
        | serializers.BooleanField
        | serializers.IntegerField
        | serializers.FloatField
        | serializers.CharField
        | serializers.ChoiceField
        | serializers.ReadOnlyField,
    ):
        return None, None
    raise TypeError(f"{type(field).__name__} is not supported in a synced resource")


class SyncSerializer(serializers.ModelSerializer):
    """The read contract of a synced table. Every field is read-only; `source` may follow
    foreign keys (`village.code`) or name a queryset annotation."""

    _plans: ClassVar[dict[type, RowPlan]] = {}

    @classmethod
    def plan(cls) -> RowPlan:
        plan = SyncSerializer._plans.get(cls)
        if plan is None:
            fields = []
            for key, field in cls().fields.items():
                converter = _converter(field)
                if field.source == "*":
                    raise TypeError(f"{cls.__name__}.{key}: source='*' is not supported")
                fields.append((key, field.source.replace(".", "__"), *converter))
            plan = SyncSerializer._plans[cls] = RowPlan(fields)
        return plan

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields
