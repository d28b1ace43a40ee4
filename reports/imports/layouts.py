"""The columns of every import layout and of the exports that round-trip with it, in one place.

A layout is what a workbook's sheet looks like: its columns in order, each with the header
written in templates and exports, the other headers accepted on import, the kind of value,
and the field it fills. Headers of the system's own layout are the model fields' names; the
national list's layout uses the columns of 已脱贫人口名单 (domain.md section 3).

The export profiles member_system, member_national, cadres and units are made from these
columns (`reports.exports.layouts`): `source` is where an export reads a column's value (a
field path from the exported row — a Member, a Cadre, a DispatchingUnit — or a join the
export layout adds), so an export writes exactly the headers and labels the import reads,
and export → edit → import round-trips. Columns with `key` "" are written by exports (and
templates, unless `template` is False) and never imported.

Kinds of cell: text, name (a person's name: spaces between Chinese characters dropped),
code (one of a code list: the label, the code itself or a synonym), codes (several, separated
by 、 , ; or spaces), bool (是/否), date, year, int, id_number, phone, region_code (12 digits),
key (a code like 户编号, never a number Excel may round), status (a household status by its
name: statuses are data), role (队长/第一书记/队员), danger (危房户 是/否 against the housing
grade), unit (a dispatching unit by name). Columns that are only exported may also be
number (an amount) or datetime.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from households.codes import (
    Cause,
    DisabilityGrade,
    EthnicityChoices,
    HouseholdType,
    HousingGrade,
    MonitoringCategory,
    Relation,
    SchoolStatus,
)
from households.models import Household, Member, Monitoring
from teams.models import Cadre, DispatchingUnit

HOUSEHOLD, MEMBER, ROW = "household", "member", "row"


@dataclass(frozen=True, eq=False)
class Column:
    key: str  # the field it fills on import; "" for a column only written by exports
    header: Any  # a lazy translation: the header written in templates and exports
    kind: str = "text"
    level: str = ROW  # households layouts: a household's column or a member's
    required: bool = False  # the import refuses a file without this column
    choices: tuple[tuple[str, Any], ...] = ()
    synonyms: dict[str, str] = field(default_factory=dict)  # other cell texts for a code
    aliases: tuple[Any, ...] = ()  # other headers accepted on import
    source: str = ""  # export: the field path of the value from the exported row
    special: str = ""  # export: "row_number" (序号), "data_date" (数据日期), "blank" (not kept)
    template: bool = True  # written in the downloadable template
    width: int = 12
    note: Any = ""  # shown as the header cell's comment in templates

    @property
    def imported(self) -> bool:
        return bool(self.key)

    def labels(self) -> list[str]:
        return [str(label) for _value, label in self.choices]


@dataclass(frozen=True, eq=False)
class Layout:
    key: str
    entity: str  # households | cadres | units
    title: Any
    sheet: Any
    columns: tuple[Column, ...]
    notes: tuple[Any, ...] = ()
    # For a household layout: the status a new household gets when the file has no status.
    default_status: str = ""

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


def _choices(cls: type[models.TextChoices] | list) -> tuple[tuple[str, Any], ...]:
    return tuple(cls.choices if hasattr(cls, "choices") else cls)


def _field(model: type[models.Model], name: str, **kwargs: Any) -> Column:
    """A column derived from a model field: its verbose name as header, its choices; an
    export reads it from the field of the same name (unless `source` says otherwise)."""
    f = model._meta.get_field(name)
    kind = kwargs.pop("kind", None)
    if kind is None:
        internal = f.get_internal_type()
        kind = {
            "BooleanField": "bool",
            "DateField": "date",
            "DateTimeField": "datetime",
            "PositiveSmallIntegerField": "int",
            "ArrayField": "codes",
        }.get(internal, "code" if f.choices else "text")
    choices = kwargs.pop("choices", None)
    if choices is None:
        base = getattr(f, "base_field", None)
        choices = tuple((base or f).choices or ())
    kwargs.setdefault("header", f.verbose_name)
    kwargs.setdefault("source", name)
    kwargs.setdefault("key", name)
    return Column(kind=kind, choices=tuple(choices), **kwargs)


def _shown(model: type[models.Model], name: str, **kwargs: Any) -> Column:
    """A model field that exports write beside the imported columns, for reading only: it is
    derived (性别 and 出生日期 from the ID number, 户主姓名 from the members), kept by the
    system, or changed by a workflow of its own. Never imported, not in the templates."""
    return _field(model, name, key="", template=False, **kwargs)


YES_NO = "是/否"
ETHNICITY_SYNONYMS = {name.removesuffix("族"): code for code, name in EthnicityChoices}
RELATION_SYNONYMS = {
    "本人": Relation.HEAD,
    "户主本人": Relation.HEAD,
    "妻": Relation.SPOUSE,
    "夫": Relation.SPOUSE,
    "妻子": Relation.SPOUSE,
    "丈夫": Relation.SPOUSE,
    "子": Relation.SON,
    "儿子": Relation.SON,
    "长子": Relation.SON,
    "次子": Relation.SON,
    "女": Relation.DAUGHTER,
    "女儿": Relation.DAUGHTER,
    "长女": Relation.DAUGHTER,
    "次女": Relation.DAUGHTER,
    "儿媳": Relation.DAUGHTER_IN_LAW,
    "女婿": Relation.SON_IN_LAW,
    "之孙子": Relation.GRANDCHILD,
    "之孙女": Relation.GRANDCHILD,
    "孙子": Relation.GRANDCHILD,
    "孙女": Relation.GRANDCHILD,
    "之外孙子女": Relation.GRANDCHILD,
    "之父": Relation.PARENT,
    "之母": Relation.PARENT,
    "父亲": Relation.PARENT,
    "母亲": Relation.PARENT,
    "之公婆": Relation.PARENT,
    "之岳父母": Relation.PARENT,
    "之祖父": Relation.GRANDPARENT,
    "之祖母": Relation.GRANDPARENT,
    "之兄弟": Relation.SIBLING,
    "之姐妹": Relation.SIBLING,
    "之兄弟姐妹": Relation.SIBLING,
}
HOUSEHOLD_TYPE_SYNONYMS = {
    "一般户": HouseholdType.GENERAL,
    "一般农户": HouseholdType.GENERAL,
    "低保": HouseholdType.DIBAO,
    "五保": HouseholdType.WUBAO,
    "特困户": HouseholdType.WUBAO,
    "特困供养户": HouseholdType.WUBAO,
    "特困供养贫困户": HouseholdType.WUBAO,
    "分散供养特困户": HouseholdType.WUBAO,
}
HOUSING_SYNONYMS = {grade.value: grade.value for grade in HousingGrade} | {
    f"{grade.value}级": grade.value for grade in HousingGrade
}
SCHOOL_SYNONYMS = {
    "": SchoolStatus.NONE,
    "非在校": SchoolStatus.NONE,
    "学前": SchoolStatus.PRESCHOOL,
}
CAUSE_SYNONYMS = {"其他": Cause.OTHER}
DISABILITY_SYNONYMS = {f"{n}级": n for n in "1234"} | {"无残疾": ""}


def _member(name: str, **kwargs: Any) -> Column:
    return _field(Member, name, level=MEMBER, **kwargs)


def _household(name: str, **kwargs: Any) -> Column:
    kwargs.setdefault("source", f"household__{name}")
    return _field(Household, name, level=HOUSEHOLD, **kwargs)


# 风险是否消除: the latest monitoring's status (exports; never imported).
RISK_ELIMINATED = ((Monitoring.Status.MONITORING, _("否")), (Monitoring.Status.ELIMINATED, _("是")))
# 危房户: housing graded C or D (两不愁三保障: A/B safe, C/D must be renovated).
DANGEROUS_GRADES, SAFE_GRADES = ("C", "D"), ("A", "B")
DANGEROUS_HOUSE = tuple(
    (grade, _("是") if grade in DANGEROUS_GRADES else _("否")) for grade in HousingGrade.values
)

ID_NOTE = _("18位身份证号；请保持“文本”格式，不要让 Excel 存成数字。")
PHONE_NOTE = _("手机号11位；固定电话带区号，如 0351-1234567。")
EMPTY_RULES = _(
    "空白单元格：可以为空的项（帮扶卡、残疾等级、脱贫年份等）表示“无”；其他项表示保持系统中的值不变"
    "（新建时用默认值）；身份证号和电话为空时不修改。"
)
LEFT_NOTE = _(
    "已离户成员的行（填有离户日期）与系统中的离户记录一致时保持不变；离户、重新入户请在系统中办理。"
)

HOUSEHOLDS_SYSTEM = Layout(
    key="households",
    entity="households",
    title=_("帮扶户及家庭成员（系统格式）"),
    sheet=_("帮扶户成员"),
    columns=(
        Column(
            "village_code",
            _("行政村代码"),
            kind="region_code",
            level=HOUSEHOLD,
            required=True,
            aliases=(_("村区划代码"),),
            source="household__village__code",
            note=_("12位统计用区划代码。"),
            width=14,
        ),
        Column("", _("县"), source="household__village__township__parent__name", template=False),
        Column("", _("乡镇"), source="household__village__township__name"),
        Column("", _("行政村"), source="household__village__name"),
        _household("code", kind="key", required=True, width=20),
        _shown(Household, "head_name", source="household__head_name", width=10),
        Column(
            "status",
            _("户状态"),
            kind="status",
            level=HOUSEHOLD,
            required=True,
            source="household__status__name",
            width=10,
        ),
        _household("household_type"),
        _household("standard"),
        _household("main_cause", required=True, synonyms=CAUSE_SYNONYMS),
        _household("other_causes", synonyms=CAUSE_SYNONYMS),
        _household("year_identified", kind="year", required=True, width=10),
        _household("year_lifted", kind="year", width=10),
        _household("card_colour", width=8),
        _household("food_clothing_secure"),
        _household("education_secure"),
        _household("medical_secure"),
        _household("housing_grade", synonyms=HOUSING_SYNONYMS),
        _household("safe_water"),
        _household("relocated"),
        _household("relocation_year", kind="year", width=10),
        _household("phone", kind="phone", note=PHONE_NOTE, width=16),
        _member("name", kind="name", required=True, width=10),
        _member(
            "id_number",
            kind="id_number",
            required=True,
            aliases=(_("身份证号码"), _("证件号码"), _("公民身份号码")),
            note=ID_NOTE,
            width=22,
        ),
        _shown(Member, "sex", width=6),
        _shown(Member, "birth_date"),
        _member("relation", required=True, synonyms=RELATION_SYNONYMS, width=10),
        _member("phone", kind="phone", aliases=(_("人联系电话"),), note=PHONE_NOTE, width=16),
        _member(
            "ethnicity",
            choices=_choices(EthnicityChoices),
            synonyms=ETHNICITY_SYNONYMS,
            width=8,
        ),
        _member("education"),
        _member("school_status", synonyms=SCHOOL_SYNONYMS),
        _member("health"),
        _member(
            "disability_grade",
            choices=_choices(DisabilityGrade),
            synonyms=DISABILITY_SYNONYMS,
            width=8,
        ),
        _member("labour", aliases=(_("劳动技能"),), width=16),
        _member("migrant_months", width=10),
        _member("medical_insured"),
        _member("serious_illness_insured", aliases=(_("是否参加大病保险"),)),
        _member("pension_insured"),
        _member("joined_on", required=True, aliases=(_("人员识别时间"),)),
        # Read, never written: a row with a 离户日期 is a former member's (see LEFT_NOTE).
        _member("left_on", template=False, note=LEFT_NOTE),
        _shown(Member, "left_reason"),
        _shown(Member, "updated_at", width=20),
    ),
    notes=(
        _(
            "每行一名家庭成员；同一户的成员填写相同的户编号，户的各项在这些行中应一致（可只在一行填写）。"
        ),
        _(
            "按户编号更新已有的户，按身份证号更新已有的成员；系统中有而文件中没有的成员不会被删除（离户请在系统中办理）。"
        ),
        EMPTY_RULES,
        _("标 * 的列必须有；代码列请从下拉列表中选择。"),
        _(
            "“家庭成员名单（系统格式）”不脱敏导出的文件可修改后按原样导入；"
            "县、户主姓名、性别、出生日期、离户原因、更新时间各列仅供核对，不导入。"
        ),
        LEFT_NOTE,
    ),
)

NATIONAL_DANGER_NOTE = _(
    "危房户：是 = 住房安全等级 C/D，否 = A/B；系统中已有的具体等级在同类内保持不变。"
)

HOUSEHOLDS_NATIONAL = Layout(
    key="households_national",
    entity="households",
    title=_("帮扶户及家庭成员（全国系统已脱贫人口名单格式）"),
    sheet=_("已脱贫人口名单"),
    default_status="lifted",
    columns=(
        Column("", _("序号"), kind="int", special="row_number", width=8),
        Column("", _("数据日期"), kind="date", special="data_date"),
        Column(
            "county_name",
            _("县(市、区、旗)"),
            level=HOUSEHOLD,
            source="household__village__township__parent__name",
        ),
        Column(
            "township_name",
            _("乡(镇)"),
            level=HOUSEHOLD,
            required=True,
            source="household__village__township__name",
        ),
        Column(
            "village_name",
            _("行政村"),
            level=HOUSEHOLD,
            required=True,
            source="household__village__name",
        ),
        # Not recorded in the system: kept for the national list's shape, left empty.
        Column("", _("自然村"), special="blank", template=False),
        _household("code", kind="key", required=True, width=20),
        # The national system's own person number; the system knows a person by the ID number.
        Column("", _("人编号"), special="blank", template=False),
        _member("name", kind="name", header=_("姓名"), required=True, width=10),
        _member(
            "id_number",
            kind="id_number",
            header=_("证件号码"),
            required=True,
            aliases=(_("身份证号"), _("身份证号码")),
            note=ID_NOTE,
            width=22,
        ),
        Column("", _("人数"), kind="int", source="x_members", width=8),
        _member("relation", required=True, synonyms=RELATION_SYNONYMS, width=10),
        _member(
            "ethnicity",
            choices=_choices(EthnicityChoices),
            synonyms=ETHNICITY_SYNONYMS,
            width=8,
        ),
        _member("education"),
        _member("school_status", synonyms=SCHOOL_SYNONYMS),
        _member("health"),
        _member("labour", header=_("劳动技能"), aliases=(_("劳动能力"),), width=16),
        _member("migrant_months", width=10),
        _member(
            "serious_illness_insured",
            header=_("是否参加大病保险"),
            aliases=(_("参加大病保险"),),
        ),
        _household(
            "main_cause",
            header=_("致贫原因1"),
            aliases=(_("主要致贫原因"),),
            required=True,
            synonyms=CAUSE_SYNONYMS,
        ),
        _household(
            "housing_grade", header=_("危房户"), kind="danger", note=NATIONAL_DANGER_NOTE, width=8
        ),
        _household(
            "safe_water",
            header=_("是否解决安全饮用水"),
            aliases=(_("饮水安全有保障"),),
        ),
        Column("", _("人均纯收入"), kind="number", source="x_year__per_capita"),
        _household("phone", kind="phone", header=_("户联系电话"), width=16),
        _member("phone", kind="phone", header=_("人联系电话"), width=16),
        _household(
            "year_identified",
            kind="year",
            header=_("首次识别时间"),
            required=True,
            width=12,
        ),
        _member("joined_on", header=_("人员识别时间")),
        _household("household_type", header=_("户类型"), synonyms=HOUSEHOLD_TYPE_SYNONYMS),
        Column(
            "",
            _("易返贫致贫户(监测对象)类型"),
            kind="code",
            choices=_choices(MonitoringCategory),
            source="x_monitoring__category",
            width=16,
        ),
        Column(
            "",
            _("风险是否消除"),
            kind="code",
            choices=RISK_ELIMINATED,
            source="x_monitoring__status",
            width=10,
        ),
        Column("", _("风险识别时间"), kind="date", source="x_monitoring__identified_on"),
        Column("", _("风险消除时间"), kind="date", source="x_monitoring__eliminated_on"),
    ),
    notes=(
        _("全国防返贫监测信息系统“已脱贫人口名单”的列；每行一名家庭成员。"),
        _("行政村按“县、乡(镇)、行政村”名称在您的管辖范围内查找。新建档户的户状态为“已脱贫”。"),
        _("人员识别时间为空的新成员，以首次识别时间为入户日期。"),
        NATIONAL_DANGER_NOTE,
        _(
            "序号、数据日期、自然村、人编号、人数、人均纯收入和监测对象各列仅供核对，不导入：收入由月度登记计算，监测对象按识别程序在系统中办理。"
        ),
        _("“人口名单（国家系统格式）”只含在册成员且不脱敏导出的文件可修改后按原样导入。"),
        EMPTY_RULES,
    ),
)

ROLE_CHOICES = (
    ("leader_secretary", _("队长兼第一书记")),
    ("leader", _("队长")),
    ("secretary", _("第一书记")),
    ("member", _("队员")),
)
ROLE_SYNONYMS = {"第一书记兼队长": "leader_secretary", "工作队长": "leader", "工作队员": "member"}

CADRES = Layout(
    key="cadres",
    entity="cadres",
    title=_("干部及驻村任职"),
    sheet=_("干部"),
    columns=(
        _field(Cadre, "name", kind="name", required=True, width=10),
        _field(
            Cadre,
            "id_number",
            kind="id_number",
            required=True,
            aliases=(_("身份证号码"), _("证件号码")),
            note=ID_NOTE,
            width=22,
        ),
        _field(Cadre, "phone", kind="phone", aliases=(_("联系电话"),), width=16),
        _field(Cadre, "political_status"),
        Column("unit", _("工作单位"), kind="unit", required=True, source="unit__name", width=24),
        Column(
            "unit_region",
            _("工作单位所属区划代码"),
            kind="region_code",
            source="unit__region__code",
            note=_("同名单位在不同区划时用于区分，可不填。"),
            width=14,
        ),
        _field(Cadre, "position"),
        _field(Cadre, "rank"),
        Column(
            "region",
            _("管理区划代码"),
            kind="region_code",
            required=True,
            source="region__code",
            note=_("负责管理该干部档案的区划（通常为县）的12位代码。"),
            width=14,
        ),
        # The active posting (one at most): joined by the export layout as x_posting.
        Column(
            "village_code",
            _("驻村代码"),
            kind="region_code",
            source="x_posting__team__village__code",
            note=_("在岗驻村的行政村代码；不驻村的干部留空。"),
            width=14,
        ),
        Column("", _("驻村"), source="x_posting__team__village__name"),
        Column(
            "role",
            _("任职身份"),
            kind="role",
            choices=ROLE_CHOICES,
            synonyms=ROLE_SYNONYMS,
            source="x_role",
        ),
        Column("start", _("到岗日期"), kind="date", source="x_posting__start"),
        Column("planned_end", _("计划期满"), kind="date", source="x_posting__planned_end"),
    ),
    notes=(
        _("每行一名干部。按身份证号更新已有的干部。"),
        _(
            "填写驻村代码、任职身份、到岗日期和计划期满的，为其安排到该村在岗工作队；已在该村在岗的保持不变。轮换、召回、离岗请在系统中办理。"
        ),
        _("工作单位须已登记（可先导入派出单位）。"),
        _("“干部及驻村任职”不脱敏导出的文件可修改后按原样导入。"),
        EMPTY_RULES,
    ),
)

UNITS = Layout(
    key="units",
    entity="units",
    title=_("派出单位"),
    sheet=_("派出单位"),
    columns=(
        _field(DispatchingUnit, "name", required=True, width=28),
        _field(DispatchingUnit, "level", required=True),
        _field(DispatchingUnit, "kind", required=True),
        Column(
            "region",
            _("所属区划代码"),
            kind="region_code",
            required=True,
            source="region__code",
            note=_("12位统计用区划代码。"),
            width=14,
        ),
        Column("", _("所属区划"), source="region__name"),
        _field(DispatchingUnit, "principal_leader"),
        _field(DispatchingUnit, "contact_name"),
        _field(DispatchingUnit, "contact_phone", kind="phone", note=PHONE_NOTE, width=16),
    ),
    notes=(
        _("每行一个单位；按“所属区划 + 单位名称”更新已有的单位。"),
        _("“派出单位”不脱敏导出的文件可修改后按原样导入。"),
        EMPTY_RULES,
    ),
)

LAYOUTS: dict[str, Layout] = {
    layout.key: layout for layout in (HOUSEHOLDS_SYSTEM, HOUSEHOLDS_NATIONAL, CADRES, UNITS)
}
LAYOUT_CHOICES = [(layout.key, layout.title) for layout in LAYOUTS.values()]

# Kinds whose columns are written as text cells (never numbers Excel may round).
TEXT_KINDS = frozenset({"id_number", "phone", "region_code", "key"})


def header_text(value: Any) -> str:
    return str(value) if isinstance(value, Promise | str) else str(value or "")


def choice_labels(column: Column) -> dict[str, str]:
    """{code: label} of a code column."""
    return {value: str(label) for value, label in column.choices}
