"""Read endpoints of oversight for the provincial pull (common.api): inspections, the
problem ledger, monthly rankings and escalations."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.serializers import SyncSerializer
from common.api.viewsets import SyncViewSet

from . import selectors
from .filters import EscalationFilterSet, FindingFilterSet, InspectionFilterSet, RankingFilterSet
from .models import Escalation, Finding, Inspection, MonthlyRanking

TIMES = ["created_at", "updated_at"]


class InspectionSerializer(SyncSerializer):
    villages = serializers.ListField(
        child=serializers.IntegerField(), source="village_ids", label=_("检查村ID")
    )

    class Meta:
        model = Inspection
        fields = ["id", "region", "kind", "on", "title", "inspectors", "villages", "note", *TIMES]


class InspectionViewSet(SyncViewSet):
    serializer_class = InspectionSerializer
    filterset_class = InspectionFilterSet
    summary = _("督查检查")
    description = _(
        "明查、暗访和交叉检查：组织区划、检查日期、名称、检查人员、检查的村。"
        "检查发现的问题见 findings。检查村变动时，该检查会重新出现在增量同步中。"
    )
    example = {
        "id": 88,
        "region": 3,
        "kind": "unannounced",
        "on": "2026-03-02",
        "title": "驻村工作暗访",
        "inspectors": "县驻村办督查组",
        "villages": [3, 4],
        "note": "",
        "created_at": "2026-03-02T18:00:00+08:00",
        "updated_at": "2026-03-02T18:00:00+08:00",
    }

    def get_queryset(self):
        return selectors.inspection_list(user=self.request.user)


class FindingSerializer(SyncSerializer):
    class Meta:
        model = Finding
        fields = [
            "id",
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
            "status",
            "measures",
            "evidence",
            "rectified_on",
            "verified_on",
            "closed_on",
            "reopened",
            *TIMES,
        ]


class FindingViewSet(SyncViewSet):
    serializer_class = FindingSerializer
    filterset_class = FindingFilterSet
    summary = _("问题台账")
    description = _(
        "督查发现的问题及其整改：问题对象（工作队、干部、派出单位、村或农户）、类别、严重程度、"
        "描述、整改时限、状态（待整改→整改中→已整改→已验证→已关闭）、整改措施与佐证、"
        "整改、验证和销号日期、回头看重新整改的次数。"
    )
    example = {
        "id": 301,
        "inspection": 88,
        "village": 3,
        "subject": "team",
        "team": 7,
        "cadre": None,
        "unit": None,
        "household": None,
        "category": "records",
        "severity": "general",
        "description": "走访台账记录不全",
        "absence_day": None,
        "deadline": "2026-03-17",
        "status": "rectifying",
        "measures": "补齐二月走访记录",
        "evidence": "",
        "rectified_on": None,
        "verified_on": None,
        "closed_on": None,
        "reopened": 0,
        "created_at": "2026-03-02T18:05:00+08:00",
        "updated_at": "2026-03-04T09:10:00+08:00",
    }

    def get_queryset(self):
        return selectors.finding_list(user=self.request.user)


class RankingSerializer(SyncSerializer):
    class Meta:
        model = MonthlyRanking
        fields = [
            "id",
            "county",
            "period",
            "team",
            "scheme",
            "members",
            "presence_rate",
            "visit_rate",
            "bianfang_rate",
            "income_rate",
            "open_findings",
            "overdue_findings",
            "serious_findings",
            "score",
            "rank",
            "of",
            "black_listed",
            *TIMES,
        ]


class RankingViewSet(SyncViewSet):
    serializer_class = RankingSerializer
    filterset_class = RankingFilterSet
    summary = _("月度排名")
    description = _(
        "各县工作队的月度排名及其每项指标：在岗达标率、本月走访覆盖率、遍访进度、收入登记完成率"
        "（0到1）、未整改、超期和当月严重问题数、得分、县内名次和参评队数、是否列入黑榜。"
        "重新计算某月排名会删除旧记录并生成新记录（旧记录出现在删除记录中）。"
    )
    example = {
        "id": 1204,
        "county": 3,
        "period": "2026-02-01",
        "team": 7,
        "scheme": 2,
        "members": 3,
        "presence_rate": "0.9500",
        "visit_rate": "0.8800",
        "bianfang_rate": "0.6100",
        "income_rate": "1.0000",
        "open_findings": 1,
        "overdue_findings": 0,
        "serious_findings": 0,
        "score": "86.40",
        "rank": 12,
        "of": 98,
        "black_listed": False,
        "created_at": "2026-03-01T03:00:12+08:00",
        "updated_at": "2026-03-01T03:00:12+08:00",
    }

    def get_queryset(self):
        return selectors.ranking_list(user=self.request.user)


class EscalationSerializer(SyncSerializer):
    class Meta:
        model = Escalation
        fields = [
            "id",
            "county",
            "period",
            "step",
            "team",
            "leader",
            "unit",
            "streak",
            "basis",
            "status",
            "confirmed_at",
            "carried_out_on",
            "note",
            *TIMES,
        ]


class EscalationViewSet(SyncViewSet):
    serializer_class = EscalationSerializer
    filterset_class = EscalationFilterSet
    summary = _("问责升级")
    description = _(
        "由月度排名后三名和黑榜推出的问责措施：约谈、诫勉谈话、组织处理，以及派出单位累计三次"
        "被点名后约谈其主要负责人；连续或累计次数、依据、状态（待确认、已确认、已落实）。"
    )
    example = {
        "id": 45,
        "county": 3,
        "period": "2026-02-01",
        "step": "admonish",
        "team": 7,
        "leader": 101,
        "unit": None,
        "streak": 2,
        "basis": "2026年1月、2月连续排名后三名",
        "status": "confirmed",
        "confirmed_at": "2026-03-03T10:00:00+08:00",
        "carried_out_on": None,
        "note": "",
        "created_at": "2026-03-01T03:00:15+08:00",
        "updated_at": "2026-03-03T10:00:00+08:00",
    }

    def get_queryset(self):
        return selectors.escalation_list(user=self.request.user)
