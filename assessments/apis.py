"""Read endpoints of oversight for the provincial pull (common.api): inspections, the
problem ledger, monthly rankings, escalations and the finalized yearly assessments."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.serializers import SyncSerializer
from common.api.viewsets import SyncViewSet

from . import selectors
from .filters import (
    AssessmentFilterSet,
    EscalationFilterSet,
    FindingFilterSet,
    InspectionFilterSet,
    RankingFilterSet,
)
from .models import Assessment, AssessmentScore, Escalation, Finding, Inspection, MonthlyRanking

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


class AssessmentScoreSerializer(serializers.ModelSerializer):
    """One indicator's score of a yearly assessment and where it came from (nested in the
    assessment's row: built by the database, see selectors.assessment_finalized_list)."""

    class Meta:
        model = AssessmentScore
        fields = ["indicator", "score", "source", "basis"]
        read_only_fields = fields


class AssessmentSerializer(SyncSerializer):
    scores = serializers.ListField(
        child=AssessmentScoreSerializer(),
        source="score_rows",
        label=_("各项指标得分"),
        help_text=_(
            "每项指标0到100分；source 为 data（按系统数据计算，basis 为计算依据）或 entered"
            "（县级录入）；score 为空表示该指标不适用（如无结对户）。"
        ),
    )

    class Meta:
        model = Assessment
        fields = [
            "id",
            "county",
            "year",
            "kind",
            "cadre",
            "team",
            "village",
            "scheme",
            "state",
            "scores",
            "total",
            "score_grade",
            "absence_days",
            "ceiling_grade",
            "ceiling_reason",
            "adjusted_grade",
            "adjust_reason",
            "grade",
            "grade_rank",
            "data_until",
            "submitted_at",
            "finalized_at",
            *TIMES,
        ]


class AssessmentViewSet(SyncViewSet):
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilterSet
    summary = _("年度考核")
    description = _(
        "驻村干部和工作队的年度考核结果：年度、考核对象（干部或工作队及其当年最后所在的工作队和村）、"
        "各项指标得分及来源、总分、按分数的等次、督查发现无故缺勤的日期及由此封顶的等次、"
        "县里下调等次及原因、最终等次（grade；grade_rank 为1是最高等次，等次名称以各县考核方案"
        "为准）。\n\n"
        "只提供已定格（finalized）的考核：草稿由系统按数据计算、可反复重算和修改，也可能被删除；"
        "已提交的考核还可能退回修改；只有定格的考核才是县里的正式结论，定格后不再改变，也不会"
        "被删除，因此镜像中的考核结果不会需要撤回。考核定格时出现在增量同步中。"
        "删除记录中可能出现从未提供过的考核 ID（被删除的草稿），忽略即可。"
    )
    example = {
        "id": 930,
        "county": 3,
        "year": 2026,
        "kind": "cadre",
        "cadre": 101,
        "team": 7,
        "village": 3,
        "scheme": 4,
        "state": "finalized",
        "scores": [
            {
                "indicator": "presence",
                "score": "92.50",
                "source": "data",
                "basis": "周达标40/44，月达标11/12，年度达标1/1。",
            },
            {"indicator": "unit", "score": "88.00", "source": "entered", "basis": "王科长录入。"},
        ],
        "total": "86.35",
        "score_grade": "称职",
        "absence_days": ["2026-05-12"],
        "ceiling_grade": "称职",
        "ceiling_reason": "督查发现无故缺勤1次（2026-05-12），按方案达到1次最高评为“称职”。",
        "adjusted_grade": "",
        "adjust_reason": "",
        "grade": "称职",
        "grade_rank": 2,
        "data_until": "2026-12-31",
        "submitted_at": "2027-01-10T09:30:00+08:00",
        "finalized_at": "2027-01-15T16:00:00+08:00",
        "created_at": "2026-12-01T02:00:00+08:00",
        "updated_at": "2027-01-15T16:00:00+08:00",
    }

    def get_queryset(self):
        return selectors.assessment_finalized_list(user=self.request.user)
