"""Export profiles: the household and member lists in the system's own layout and in the
national list's layout (已脱贫人口名单 / 监测对象, domain.md section 3), and the roster of
cadres (with their postings) and dispatching units.

Every column is data: its header, where its value comes from (`source`: a field path or a
relation the layout joins in SQL), its cell kind, and how a stored code becomes what is
shown (`choices`, `yes_no`, `many`). ID numbers and phones are marked `personal`: masked
unless the export is allowed full values.

The profiles that are read back by an import — member_system, member_national, cadres and
units — are not defined here: their columns are the import layouts' (`reports.imports.layouts`,
`imports=` below names the layout), turned into export columns by `from_import()`. So they
write the headers, labels and code values the import reads, and an export with full values,
edited, imports back (README, "Excel imports"). A masked export cannot: the import refuses
its masked ID numbers and phones row by row. The household lists (one row per household,
with incomes, monitoring and the serving cadre) are for reading and reporting only.

The rows are read as `.values_list()` tuples from one SQL statement per export: the head of a
household, its serving cadre, its latest monitoring, its incomes and a cadre's active
posting are LEFT JOINs (`FilteredRelation`), the member count a correlated count; nothing is
queried per row.

Columns the system does not record are kept in the national layout (so that the file has the
national list's shape) and left empty: 自然村 and 人编号 (the national system's own person
number; the system knows a person by the ID number).
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from common import crypto
from common.people import mask_id_number, mask_phone
from households.codes import (
    CardColour,
    Cause,
    HouseholdType,
    HousingGrade,
    IdentificationStandard,
    MonitoringCategory,
    Relation,
)
from households.models import Member, Monitoring
from reports.imports import layouts as imports
from reports.imports.layouts import DANGEROUS_HOUSE, RISK_ELIMINATED
from teams.models import AssignmentStatus

from .xlsx import CellKind, SheetColumn

TEXT, NUMBER, DATE, DATETIME = CellKind.TEXT, CellKind.NUMBER, CellKind.DATE, CellKind.DATETIME


@dataclass(frozen=True)
class Column:
    key: str
    title: str | Promise
    source: str = ""  # a field path of the row query; "" for a value made per row
    kind: CellKind = TEXT
    choices: Sequence[tuple[str, Any]] | None = None
    many: bool = False  # a list of codes, shown as their labels joined by "、"
    yes_no: bool = False  # a boolean shown as 是 / 否
    personal: str = ""  # "id_number" or "phone": masked unless full values are allowed
    special: str = ""  # "row_number" (序号), "data_date" (数据日期), "blank" (not recorded)
    width: float = 12

    def sheet_column(self) -> SheetColumn:
        return SheetColumn(title=str(self.title), kind=self.kind, width=self.width)


@dataclass(frozen=True)
class Layout:
    key: str
    title: str | Promise
    entity: str  # "household", "member", "cadre" or "unit": which rows, which filters
    columns: tuple[Column, ...]
    relations: Callable[[int], dict[str, Any]]  # the joins and annotations, for an income year
    order_by: tuple[Any, ...]
    sheet_title: str | Promise = ""
    description: str | Promise = ""
    imports: str = ""  # the import layout that reads this export back ("" for none)
    personal_columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "personal_columns", tuple(c.key for c in self.columns if c.personal)
        )

    @property
    def sources(self) -> list[str]:
        return [c.source for c in self.columns if c.source]

    def query(self, year: int) -> tuple[dict[str, Any], list[str]]:
        """The annotations and the `.values_list()` names that read this layout's sources.

        Personal values are read as their stored ciphertext and decrypted by the row builder
        (`row_builder`), which decrypts a value repeated on consecutive rows once — a
        household's phone on each of its members' rows."""
        annotations = dict(self.relations(year))
        names = []
        for column in self.columns:
            if not column.source:
                continue
            if column.personal:
                name = f"x_stored_{column.key}"
                annotations[name] = ExpressionWrapper(
                    F(column.source), output_field=models.TextField()
                )
                names.append(name)
            else:
                names.append(column.source)
        return annotations, names


# --- the joins ---------------------------------------------------------------------------


def _latest_monitoring(household_ref: str) -> Subquery:
    """The household's monitoring that the lists show: the open one, else the latest."""
    return Subquery(
        Monitoring.objects.filter(household=OuterRef(household_ref))
        .order_by(
            Case(When(status=Monitoring.Status.MONITORING, then=0), default=1),
            "-identified_on",
            "-id",
        )
        .values("id")[:1]
    )


def _member_count(household_ref: str) -> Coalesce:
    """人数: the members still in the household (a correlated count, 0 when none)."""
    members = (
        Member.objects.filter(household=OuterRef(household_ref), left_on__isnull=True)
        .order_by()
        .annotate(_g=models.Value(1))
        .values("_g")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(members, output_field=models.IntegerField()), 0)


def household_relations(year: int) -> dict[str, Any]:
    return {
        "x_head": FilteredRelation(
            "members", condition=Q(members__relation=Relation.HEAD, members__left_on__isnull=True)
        ),
        "x_pairing": FilteredRelation("pairings", condition=Q(pairings__end__isnull=True)),
        "x_monitoring": FilteredRelation(
            "monitorings", condition=Q(monitorings__id=_latest_monitoring("pk"))
        ),
        "x_year": FilteredRelation("years", condition=Q(years__year=year)),
        "x_last_year": FilteredRelation("years", condition=Q(years__year=year - 1)),
        "x_members": _member_count("pk"),
    }


def cadre_relations(year: int) -> dict[str, Any]:
    """A cadre's active posting (at most one: assignment_one_active_per_cadre) and the role
    held there, as the import names it (队长兼第一书记, 队长, 第一书记, 队员)."""
    posting = "x_posting__"
    return {
        "x_posting": FilteredRelation(
            "assignments", condition=Q(assignments__status=AssignmentStatus.ACTIVE)
        ),
        "x_role": Case(
            When(**{f"{posting}id__isnull": True}, then=Value("")),
            When(
                **{f"{posting}is_leader": True, f"{posting}is_first_secretary": True},
                then=Value("leader_secretary"),
            ),
            When(**{f"{posting}is_leader": True}, then=Value("leader")),
            When(**{f"{posting}is_first_secretary": True}, then=Value("secretary")),
            default=Value("member"),
            output_field=models.CharField(),
        ),
    }


def member_relations(year: int) -> dict[str, Any]:
    return {
        "x_monitoring": FilteredRelation(
            "household__monitorings",
            condition=Q(household__monitorings__id=_latest_monitoring("household_id")),
        ),
        "x_year": FilteredRelation("household__years", condition=Q(household__years__year=year)),
        "x_members": _member_count("household_id"),
    }


# --- the columns -------------------------------------------------------------------------


def _place(prefix: str) -> tuple[Column, ...]:
    return (
        Column("county", _("县"), f"{prefix}village__township__parent__name", width=12),
        Column("township", _("乡镇"), f"{prefix}village__township__name", width=12),
        Column("village", _("村"), f"{prefix}village__name", width=12),
    )


def _national_place(prefix: str) -> tuple[Column, ...]:
    return (
        Column("row_number", _("序号"), kind=NUMBER, special="row_number", width=8),
        Column("data_date", _("数据日期"), kind=DATE, special="data_date", width=12),
        Column("county", _("县(市、区、旗)"), f"{prefix}village__township__parent__name"),
        Column("township", _("乡(镇)"), f"{prefix}village__township__name"),
        Column("village", _("行政村"), f"{prefix}village__name"),
        Column("natural_village", _("自然村"), special="blank"),
    )


def _monitoring_columns(national: bool) -> tuple[Column, ...]:
    return (
        Column(
            "monitoring_category",
            _("易返贫致贫户(监测对象)类型") if national else _("监测对象类别"),
            "x_monitoring__category",
            choices=MonitoringCategory.choices,
            width=16,
        ),
        Column(
            "risk_eliminated",
            _("风险是否消除"),
            "x_monitoring__status",
            choices=RISK_ELIMINATED,
            width=10,
        ),
        Column("risk_identified_on", _("风险识别时间"), "x_monitoring__identified_on", DATE),
        Column("risk_eliminated_on", _("风险消除时间"), "x_monitoring__eliminated_on", DATE),
    )


HOUSEHOLD_SYSTEM = Layout(
    key="household_system",
    title=_("帮扶户名单（系统格式）"),
    sheet_title=_("帮扶户"),
    description=_(
        "每户一行，含收入、监测和帮扶责任人，供查看和报送；不能导入（导入需每人一行："
        "请导出“家庭成员名单（系统格式）”）。"
    ),
    entity="household",
    columns=(
        Column("household_code", _("户编号"), "code", width=18),
        *_place(""),
        Column("village_code", _("行政村代码"), "village__code", width=14),
        Column("head_name", _("户主姓名"), "head_name", width=10),
        Column(
            "head_id_number", _("户主身份证号"), "x_head__id_number", personal="id_number", width=20
        ),
        Column("phone", _("户联系电话"), "phone", personal="phone", width=14),
        Column("household_type", _("贫困户属性"), "household_type", choices=HouseholdType.choices),
        Column("standard", _("识别标准"), "standard", choices=IdentificationStandard.choices),
        Column("status", _("户状态"), "status__name", width=10),
        Column("main_cause", _("主要致贫原因"), "main_cause", choices=Cause.choices),
        Column("other_causes", _("其他致贫原因"), "other_causes", choices=Cause.choices, many=True),
        Column("year_identified", _("识别年份"), "year_identified", NUMBER, width=10),
        Column("year_lifted", _("脱贫年份"), "year_lifted", NUMBER, width=10),
        Column("card_colour", _("帮扶卡"), "card_colour", choices=CardColour.choices, width=8),
        Column("food_clothing_secure", _("不愁吃、不愁穿"), "food_clothing_secure", yes_no=True),
        Column("education_secure", _("义务教育有保障"), "education_secure", yes_no=True),
        Column("medical_secure", _("基本医疗有保障"), "medical_secure", yes_no=True),
        Column("housing_grade", _("住房安全等级"), "housing_grade", choices=HousingGrade.choices),
        Column("safe_water", _("饮水安全有保障"), "safe_water", yes_no=True),
        Column("relocated", _("易地扶贫搬迁户"), "relocated", yes_no=True),
        Column("relocation_year", _("搬迁年份"), "relocation_year", NUMBER, width=10),
        Column("members", _("家庭人口"), "x_members", NUMBER, width=10),
        Column("per_capita", _("人均纯收入（元，年化）"), "x_year__per_capita", NUMBER, width=14),
        Column(
            "per_capita_last_year",
            _("上年人均纯收入（元）"),
            "x_last_year__per_capita",
            NUMBER,
            width=14,
        ),
        *_monitoring_columns(national=False),
        Column("cadre", _("帮扶责任人"), "x_pairing__cadre__name", width=10),
        Column("updated_at", _("更新时间"), "updated_at", DATETIME, width=20),
    ),
    relations=household_relations,
    order_by=("code",),
)

HOUSEHOLD_NATIONAL = Layout(
    key="household_national",
    title=_("帮扶户名单（国家系统格式）"),
    sheet_title=_("户名单"),
    description=_("按全国防返贫监测信息系统名单的列（已脱贫户、监测对象）。"),
    entity="household",
    columns=(
        *_national_place(""),
        Column("household_code", _("户编号"), "code", width=18),
        Column("head_name", _("户主姓名"), "head_name", width=10),
        Column(
            "head_id_number", _("证件号码"), "x_head__id_number", personal="id_number", width=20
        ),
        Column("members", _("人数"), "x_members", NUMBER, width=8),
        Column("main_cause", _("致贫原因1"), "main_cause", choices=Cause.choices),
        Column("dangerous_house", _("危房户"), "housing_grade", choices=DANGEROUS_HOUSE, width=8),
        Column("safe_water", _("是否解决安全饮用水"), "safe_water", yes_no=True),
        Column("per_capita", _("人均纯收入"), "x_year__per_capita", NUMBER, width=12),
        Column("phone", _("户联系电话"), "phone", personal="phone", width=14),
        Column("year_identified", _("首次识别时间"), "year_identified", NUMBER, width=12),
        Column("household_type", _("户类型"), "household_type", choices=HouseholdType.choices),
        *_monitoring_columns(national=True),
    ),
    relations=household_relations,
    order_by=("code",),
)

_HEAD_FIRST = Case(When(relation=Relation.HEAD, then=0), default=1)


def from_import(layout: imports.Layout) -> tuple[Column, ...]:
    """The export columns of an import layout: the same headers, in the same order, with
    codes written as the labels the import reads back (是/否 for yes/no, 危房户 from the
    housing grade), ID numbers and phones personal (masked unless full values are allowed)."""
    return tuple(_exported(column, n) for n, column in enumerate(layout.columns))


def _exported(column: imports.Column, n: int) -> Column:
    kind = {
        "date": DATE,
        "datetime": DATETIME,
        "year": NUMBER,
        "int": NUMBER,
        "number": NUMBER,
    }.get(column.kind, TEXT)
    key = column.source.replace("__", "_") or f"{column.special}_{n}"
    options: dict[str, Any] = {}
    if column.kind in ("code", "codes", "role"):
        options = {"choices": column.choices, "many": column.kind == "codes"}
    elif column.kind == "danger":
        options = {"choices": DANGEROUS_HOUSE}
    elif column.kind == "bool":
        options = {"yes_no": True}
    elif column.kind in ("id_number", "phone"):
        options = {"personal": column.kind}
    if column.special == "row_number":
        kind = NUMBER
    elif column.special == "data_date":
        kind = DATE
    return Column(
        key,
        column.header,
        column.source,
        kind,
        special=column.special,
        width=column.width,
        **options,
    )


_MEMBER_ORDER = ("household__code", _HEAD_FIRST, "birth_date", "id")

MEMBER_SYSTEM = Layout(
    key="member_system",
    title=_("家庭成员名单（系统格式）"),
    sheet_title=_("家庭成员"),
    description=_(
        "每人一行，含户的各项；不脱敏导出的文件修改后可按原样导回"
        "（导入“帮扶户及家庭成员（系统格式）”）。"
    ),
    entity="member",
    columns=from_import(imports.HOUSEHOLDS_SYSTEM),
    relations=lambda year: {},
    order_by=_MEMBER_ORDER,
    imports=imports.HOUSEHOLDS_SYSTEM.key,
)

MEMBER_NATIONAL = Layout(
    key="member_national",
    title=_("人口名单（国家系统格式）"),
    sheet_title=_("人口名单"),
    description=_(
        "按“已脱贫人口名单”的列：户编号、人编号、姓名、证件号码……风险消除时间；只含在册成员且不脱敏"
        "导出的文件修改后可按原样导回（导入“帮扶户及家庭成员（全国系统已脱贫人口名单格式）”）。"
    ),
    entity="member",
    columns=from_import(imports.HOUSEHOLDS_NATIONAL),
    relations=member_relations,
    order_by=_MEMBER_ORDER,
    imports=imports.HOUSEHOLDS_NATIONAL.key,
)

CADRES = Layout(
    key="cadres",
    title=_("干部及驻村任职"),
    sheet_title=_("干部"),
    description=_(
        "每名干部一行，含在岗驻村任职；不脱敏导出的文件修改后可按原样导回（导入“干部及驻村任职”）。"
    ),
    entity="cadre",
    columns=from_import(imports.CADRES),
    relations=cadre_relations,
    order_by=("name", "id"),
    imports=imports.CADRES.key,
)

UNITS = Layout(
    key="units",
    title=_("派出单位"),
    sheet_title=_("派出单位"),
    description=_("每个单位一行；不脱敏导出的文件修改后可按原样导回（导入“派出单位”）。"),
    entity="unit",
    columns=from_import(imports.UNITS),
    relations=lambda year: {},
    order_by=("region__code", "name", "id"),
    imports=imports.UNITS.key,
)

LAYOUTS: dict[str, Layout] = {
    layout.key: layout
    for layout in (
        HOUSEHOLD_SYSTEM,
        HOUSEHOLD_NATIONAL,
        MEMBER_SYSTEM,
        MEMBER_NATIONAL,
        CADRES,
        UNITS,
    )
}
PROFILE_CHOICES = [(key, layout.title) for key, layout in LAYOUTS.items()]


def layouts_for(entity: str) -> list[Layout]:
    return [layout for layout in LAYOUTS.values() if layout.entity == entity]


# --- rows --------------------------------------------------------------------------------


def row_builder(
    layout: Layout, *, unmasked: bool, data_date: dt.date
) -> Callable[[Sequence[Any]], list[Any]]:
    """A function from a row of `layout.sources` values to the cells of the sheet row.

    Labels are looked up in the language active now (the catalogue's Chinese). Text cells
    never hold None (an empty text is ""), which keeps the writer on its fast path.
    """
    yes, no = _g("是"), _g("否")
    counter = iter(range(1, 2**63))
    steps: list[Callable[[Sequence[Any]], Any]] = []
    position = 0
    for column in layout.columns:
        if column.special == "row_number":
            steps.append(lambda raw: next(counter))
            continue
        if column.special == "data_date":
            steps.append(lambda raw: data_date)
            continue
        if column.special == "blank":
            steps.append(lambda raw: "")
            continue
        steps.append(_cell_step(column, position, unmasked=unmasked, yes=yes, no=no))
        position += 1

    def build(raw: Sequence[Any]) -> list[Any]:
        return [step(raw) for step in steps]

    return build


def _cell_step(column: Column, i: int, *, unmasked: bool, yes: str, no: str):
    if column.personal:
        mask = mask_id_number if column.personal == "id_number" else mask_phone
        last = ["", ""]  # the last stored value and what it shows

        def personal(raw):
            stored = raw[i]
            if not stored:
                return ""
            if stored != last[0]:
                value = crypto.decrypt(stored)
                last[0], last[1] = stored, value if unmasked else mask(value)
            return last[1]

        return personal
    if column.yes_no:
        return lambda raw: "" if raw[i] is None else (yes if raw[i] else no)
    if column.choices is not None:
        labels = {value: str(label) for value, label in column.choices}
        if column.many:
            return lambda raw: "、".join(labels.get(v, v) for v in raw[i] or ())
        return lambda raw: labels.get(raw[i], raw[i] or "")
    if column.kind == TEXT:
        return lambda raw: "" if raw[i] is None else raw[i]
    return lambda raw: raw[i]
