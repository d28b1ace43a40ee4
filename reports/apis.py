"""Read endpoint of the red/black-list circulars for the provincial pull (common.api)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.serializers import SyncSerializer
from common.api.viewsets import SyncViewSet

from . import selectors
from .filters import CircularFilterSet
from .models import Circular, CircularEntry

TIMES = ["created_at", "updated_at"]


class CircularEntrySerializer(serializers.ModelSerializer):
    """One team on a circular's red or black list, as the circular quotes it (nested in the
    circular's row: built by the database, see selectors.circular_published_list)."""

    team = serializers.IntegerField(label=_("工作队ID"))
    metrics = serializers.JSONField(
        label=_("排名指标"),
        help_text=_("列入时月度排名的各项指标（比率为0到1的字符串，问题为个数），原样引用。"),
    )
    findings = serializers.JSONField(
        label=_("严重问题"),
        help_text=_("当月的严重问题：ID、检查日期、检查名称、方式、严重程度、类别、描述。"),
    )

    class Meta:
        model = CircularEntry
        fields = [
            "id",
            "kind",
            "order",
            "team",
            "team_name",
            "village_name",
            "township_name",
            "unit_name",
            "rank",
            "of",
            "score",
            "metrics",
            "findings",
            "by_rank",
            "by_finding",
            "facts",
            "consequence",
        ]
        read_only_fields = fields


class CircularSerializer(SyncSerializer):
    entries = serializers.ListField(
        child=CircularEntrySerializer(),
        source="entry_rows",
        label=_("名单"),
        help_text=_("红榜在前、黑榜在后，各按序号排列。"),
    )

    class Meta:
        model = Circular
        fields = [
            "id",
            "county",
            "period",
            "status",
            "number",
            "title",
            "recipients",
            "body",
            "closing",
            "issuer",
            "published_on",
            "supersedes",
            "correction_reason",
            "superseded_at",
            "entries",
            *TIMES,
        ]


ENTRY_EXAMPLE = {
    "id": 412,
    "kind": "black",
    "order": 1,
    "team": 7,
    "team_name": "清徐县农业农村局驻东于村工作队",
    "village_name": "东于村",
    "township_name": "清源镇",
    "unit_name": "清徐县农业农村局",
    "rank": 98,
    "of": 98,
    "score": "61.20",
    "metrics": {
        "presence_rate": "0.6500",
        "visit_rate": "0.5000",
        "bianfang_rate": "0.3000",
        "income_rate": "0.8000",
        "open_findings": 3,
        "overdue_findings": 1,
        "serious_findings": 1,
    },
    "findings": [
        {
            "id": 301,
            "on": "2026-02-12",
            "inspection": "驻村工作暗访",
            "kind": "暗访",
            "severity": "严重",
            "category": "脱岗（检查时不在村）",
            "description": "检查时工作队长不在村",
        }
    ],
    "by_rank": True,
    "by_finding": True,
    "facts": "月度综合得分61.20分，全县第98名（共98个工作队），排名靠后。……",
    "consequence": "年终考核扣分，约谈工作队长和派出单位分管负责人。",
}


class CircularViewSet(SyncViewSet):
    serializer_class = CircularSerializer
    filterset_class = CircularFilterSet
    summary = _("红黑榜通报")
    description = _(
        "各县每月的红黑榜通报：月份、发文字号、标题、主送机关、导语、结尾要求、发文机关、"
        "成文日期，以及红榜和黑榜名单（entries：列入的工作队及其当时的排名、得分、各项指标、"
        "严重问题、列入事实和相应后果）。\n\n"
        "只提供已发布（published）和已被更正（superseded）的通报，不提供草稿：草稿是县里"
        "正在生成、修改的工作稿，可以重新生成或删除，发布后才是正式文件；已发布的通报及其名单"
        "不再改变，也不会被删除，因此镜像中的通报不会需要撤回。更正通报发布时是一条新通报"
        "（supersedes 指向被更正的通报），被更正的通报同时变为 superseded 并重新出现在增量同步中。"
        "删除记录中可能出现从未提供过的通报 ID（被删除的草稿），忽略即可。"
    )
    example = {
        "id": 57,
        "county": 3,
        "period": "2026-02-01",
        "status": "published",
        "number": "清驻组〔2026〕5号",
        "title": "关于2026年2月驻村工作队红黑榜的通报",
        "recipients": "各乡镇党委、政府，县直各派出单位：",
        "body": "根据2月份驻村工作队月度考核排名和督查情况，现将红黑榜通报如下。",
        "closing": "各工作队要对照问题，立行立改。",
        "issuer": "清徐县驻村工作领导小组办公室",
        "published_on": "2026-03-05",
        "supersedes": None,
        "correction_reason": "",
        "superseded_at": None,
        "entries": [ENTRY_EXAMPLE],
        "created_at": "2026-03-01T03:10:00+08:00",
        "updated_at": "2026-03-05T10:00:00+08:00",
    }

    def get_queryset(self):
        return selectors.circular_published_list(user=self.request.user)
