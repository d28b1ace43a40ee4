"""Read endpoints of households and everything about them for the provincial pull
(common.api): households, members, monthly incomes, monitoring, measures, pairings, visits."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.serializers import MaskedField, SyncSerializer
from common.api.viewsets import SyncViewSet

from . import selectors
from .filters import (
    HouseholdFilterSet,
    IncomeFilterSet,
    MeasureFilterSet,
    MemberFilterSet,
    MonitoringFilterSet,
    PairingFilterSet,
    VisitFilterSet,
)
from .models import Household, IncomeRecord, Measure, Member, Monitoring, Pairing, VisitLog

TIMES = ["created_at", "updated_at"]
CREATED = "2025-03-01T09:00:00+08:00"
UPDATED = "2026-01-05T16:20:11+08:00"


class HouseholdSerializer(SyncSerializer):
    village_code = serializers.CharField(source="village.code", label=_("村区划代码"))
    phone = MaskedField("phone", label=_("户联系电话"))

    class Meta:
        model = Household
        fields = [
            "id",
            "village",
            "village_code",
            "code",
            "head_name",
            "phone",
            "household_type",
            "standard",
            "status",
            "main_cause",
            "other_causes",
            "year_identified",
            "year_lifted",
            "card_colour",
            "food_clothing_secure",
            "education_secure",
            "medical_secure",
            "housing_grade",
            "safe_water",
            "relocated",
            "relocation_year",
            *TIMES,
        ]


class HouseholdViewSet(SyncViewSet):
    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilterSet
    summary = _("帮扶户")
    description = _(
        "建档立卡户和监测户：户编号、户主、户联系电话（默认脱敏）、贫困户属性、识别标准、户状态、"
        "主要和其他致贫原因、识别和脱贫年份、帮扶卡颜色、两不愁三保障和饮水安全、住房安全等级、"
        "易地扶贫搬迁。成员、收入、监测、措施、结对和走访各有其资源，按 household 关联。"
    )
    example = {
        "id": 120345,
        "village": 3,
        "village_code": "140121100201",
        "code": "1401211002010001",
        "head_name": "王秀英",
        "phone": "139****5678",
        "household_type": "general",
        "standard": "national",
        "status": "lifted",
        "main_cause": "illness",
        "other_causes": ["skills"],
        "year_identified": 2016,
        "year_lifted": 2019,
        "card_colour": "blue",
        "food_clothing_secure": True,
        "education_secure": True,
        "medical_secure": True,
        "housing_grade": "B",
        "safe_water": True,
        "relocated": False,
        "relocation_year": None,
        "created_at": CREATED,
        "updated_at": UPDATED,
    }

    def get_queryset(self):
        return selectors.household_list(user=self.request.user, with_risk=False)


class MemberSerializer(SyncSerializer):
    id_number = MaskedField("id_number", label=_("身份证号"))
    phone = MaskedField("phone", label=_("联系电话"))

    class Meta:
        model = Member
        fields = [
            "id",
            "household",
            "name",
            "id_number",
            "phone",
            "relation",
            "sex",
            "birth_date",
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
            "left_on",
            "left_reason",
            *TIMES,
        ]


class MemberViewSet(SyncViewSet):
    serializer_class = MemberSerializer
    filterset_class = MemberFilterSet
    summary = _("家庭成员")
    description = _(
        "户内成员：姓名、身份证号和联系电话（默认脱敏）、与户主关系、性别、出生日期、民族、"
        "文化程度、在校生状况、健康状况、残疾等级、劳动能力、务工月数、参保情况、入户和离户。"
    )
    example = {
        "id": 410233,
        "household": 120345,
        "name": "王秀英",
        "id_number": "140***********002X",
        "phone": "",
        "relation": "head",
        "sex": "F",
        "birth_date": "1968-02-11",
        "ethnicity": "01",
        "education": "primary",
        "school_status": "none",
        "health": "chronic",
        "disability_grade": "",
        "labour": "ordinary",
        "migrant_months": 0,
        "medical_insured": True,
        "serious_illness_insured": True,
        "pension_insured": True,
        "joined_on": "2016-01-01",
        "left_on": None,
        "left_reason": "",
        "created_at": CREATED,
        "updated_at": UPDATED,
    }

    def get_queryset(self):
        return selectors.member_list(user=self.request.user)


class IncomeSerializer(SyncSerializer):
    class Meta:
        model = IncomeRecord
        fields = [
            "id",
            "household",
            "month",
            "wage",
            "business",
            "property_income",
            "transfer",
            "production_cost",
            *TIMES,
        ]


class IncomeViewSet(SyncViewSet):
    serializer_class = IncomeSerializer
    filterset_class = IncomeFilterSet
    summary = _("月收入登记")
    description = _(
        "每户每月的收入登记（元）：工资性、生产经营性、财产性、转移性收入和生产经营费用。"
        "month 为该月第一天。年度人均纯收入由这些记录和成员推算。"
    )
    example = {
        "id": 880123,
        "household": 120345,
        "month": "2026-02-01",
        "wage": "1800.00",
        "business": "300.00",
        "property_income": "0.00",
        "transfer": "260.00",
        "production_cost": "120.00",
        "created_at": "2026-02-25T17:40:00+08:00",
        "updated_at": "2026-02-25T17:40:00+08:00",
    }

    def get_queryset(self):
        return selectors.income_list(user=self.request.user)


class MonitoringSerializer(SyncSerializer):
    class Meta:
        model = Monitoring
        fields = [
            "id",
            "household",
            "category",
            "risk_types",
            "discovery",
            "identified_on",
            "eliminated_on",
            "status",
            *TIMES,
        ]


class MonitoringViewSet(SyncViewSet):
    serializer_class = MonitoringSerializer
    filterset_class = MonitoringFilterSet
    summary = _("防返贫监测")
    description = _(
        "监测对象：类别（脱贫不稳定户、边缘易致贫户、突发严重困难户）、风险类型、发现方式、"
        "风险识别时间、风险消除时间、状态（监测中、风险已消除）。"
    )
    example = {
        "id": 4410,
        "household": 120345,
        "category": "unstable",
        "risk_types": ["illness", "income_drop"],
        "discovery": "visit",
        "identified_on": "2026-01-10",
        "eliminated_on": None,
        "status": "monitoring",
        "created_at": "2026-01-10T11:00:00+08:00",
        "updated_at": "2026-01-10T11:00:00+08:00",
    }

    def get_queryset(self):
        return selectors.monitoring_list(user=self.request.user)


class MeasureSerializer(SyncSerializer):
    class Meta:
        model = Measure
        fields = ["id", "household", "kind", "start", "end", "owner", "note", *TIMES]


class MeasureViewSet(SyncViewSet):
    serializer_class = MeasureSerializer
    filterset_class = MeasureFilterSet
    summary = _("帮扶措施")
    description = _(
        "为户落实的帮扶措施（一户一策）：类型（产业、就业、健康、教育、住房、搬迁、社会保障等）、"
        "起止日期、责任单位或责任人、内容。"
    )
    example = {
        "id": 7712,
        "household": 120345,
        "kind": "health",
        "start": "2026-02-01",
        "end": None,
        "owner": "县卫生健康局",
        "note": "慢性病签约服务",
        "created_at": "2026-02-01T09:30:00+08:00",
        "updated_at": "2026-02-01T09:30:00+08:00",
    }

    def get_queryset(self):
        return selectors.measure_list(user=self.request.user)


class PairingSerializer(SyncSerializer):
    class Meta:
        model = Pairing
        fields = ["id", "household", "cadre", "start", "end", "reason", "end_reason", *TIMES]


class PairingViewSet(SyncViewSet):
    serializer_class = PairingSerializer
    filterset_class = PairingFilterSet
    summary = _("结对帮扶")
    description = _(
        "户与帮扶责任人（干部）的结对：起止日期、结对原因和调整原因。每户同一时间只有一名"
        "在岗的帮扶责任人（end 为空）。"
    )
    example = {
        "id": 6601,
        "household": 120345,
        "cadre": 101,
        "start": "2025-03-01",
        "end": None,
        "reason": "驻村工作队分户包干",
        "end_reason": "",
        "created_at": CREATED,
        "updated_at": CREATED,
    }

    def get_queryset(self):
        return selectors.pairing_list(user=self.request.user)


class VisitSerializer(SyncSerializer):
    has_photo = serializers.BooleanField(label=_("有照片"), help_text=_("照片本身不在接口中提供。"))

    class Meta:
        model = VisitLog
        fields = [
            "id",
            "household",
            "cadre",
            "team",
            "visited_on",
            "kind",
            "seen",
            "problems",
            "requests",
            "follow_up",
            "has_photo",
            "latitude",
            "longitude",
            *TIMES,
        ]


class VisitViewSet(SyncViewSet):
    serializer_class = VisitSerializer
    filterset_class = VisitFilterSet
    summary = _("走访记录")
    description = _(
        "入户走访和电话走访：走访人、工作队、日期、方式、走访情况、发现问题、群众诉求、跟进措施、"
        "是否有照片、位置。"
    )
    example = {
        "id": 990011,
        "household": 120345,
        "cadre": 101,
        "team": 7,
        "visited_on": "2026-03-02",
        "kind": "in_person",
        "seen": "家中老人慢性病用药正常，小麦长势良好",
        "problems": "",
        "requests": "希望参加养殖技术培训",
        "follow_up": "报乡镇农技站",
        "has_photo": True,
        "latitude": "37.607100",
        "longitude": "112.357400",
        "created_at": "2026-03-02T15:20:00+08:00",
        "updated_at": "2026-03-02T15:20:00+08:00",
    }

    def get_queryset(self):
        return selectors.visit_list(user=self.request.user)
