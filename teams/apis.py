"""Read endpoints of the roster and of presence for the provincial pull (common.api)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api.serializers import MaskedField, SyncSerializer
from common.api.viewsets import SyncViewSet

from . import selectors
from .filters import (
    AssignmentFilterSet,
    AttendanceFilterSet,
    CadreFilterSet,
    LeaveFilterSet,
    TeamFilterSet,
    UnitFilterSet,
)
from .models import Assignment, Attendance, Cadre, DispatchingUnit, LeaveRequest, WorkTeam

TIMES = ["created_at", "updated_at"]
CREATED = "2025-03-01T09:00:00+08:00"
UPDATED = "2026-01-05T16:20:11+08:00"


class UnitSerializer(SyncSerializer):
    contact_phone = MaskedField("phone", label=_("联系电话"))

    class Meta:
        model = DispatchingUnit
        fields = [
            "id",
            "name",
            "level",
            "kind",
            "region",
            "principal_leader",
            "contact_name",
            "contact_phone",
            *TIMES,
        ]


class UnitViewSet(SyncViewSet):
    serializer_class = UnitSerializer
    filterset_class = UnitFilterSet
    summary = _("派出单位")
    description = _(
        "派出驻村工作队的单位：单位层级（中央、省、市、县、乡）、单位类型、所属区划、主要负责人、"
        "联系人和联系电话（脱敏）。管辖范围内登记的单位，以及向本辖区派出了工作队的单位。"
    )
    example = {
        "id": 21,
        "name": "清徐县农业农村局",
        "level": "county",
        "kind": "agency",
        "region": 3,
        "principal_leader": "王主任",
        "contact_name": "李干事",
        "contact_phone": "139****5678",
        "created_at": CREATED,
        "updated_at": UPDATED,
    }

    def get_queryset(self):
        return selectors.unit_list(user=self.request.user)


class TeamSerializer(SyncSerializer):
    village_code = serializers.CharField(source="village.code", label=_("村区划代码"))
    other_units = serializers.ListField(
        child=serializers.IntegerField(),
        source="joint_unit_ids",
        label=_("其他派出单位ID"),
        help_text=_("联合派出单位"),
    )

    class Meta:
        model = WorkTeam
        fields = [
            "id",
            "village",
            "village_code",
            "name",
            "lead_unit",
            "other_units",
            "term_start",
            "term_end",
            "status",
            "ended_on",
            *TIMES,
        ]


class TeamViewSet(SyncViewSet):
    serializer_class = TeamSerializer
    filterset_class = TeamFilterSet
    summary = _("驻村工作队")
    description = _(
        "驻村工作队：所驻村、牵头派出单位和联合派出单位、任期、状态（在岗、已撤离）。"
        "联合派出单位变动时，该工作队会重新出现在增量同步中。"
    )
    example = {
        "id": 7,
        "village": 3,
        "village_code": "140121100201",
        "name": "东于村驻村工作队",
        "lead_unit": 21,
        "other_units": [25, 31],
        "term_start": "2025-03-01",
        "term_end": "2027-03-01",
        "status": "active",
        "ended_on": None,
        "created_at": CREATED,
        "updated_at": UPDATED,
    }

    def get_queryset(self):
        return selectors.team_list(user=self.request.user, with_warnings=False)


class CadreSerializer(SyncSerializer):
    id_number = MaskedField("id_number", label=_("身份证号"))
    phone = MaskedField("phone", label=_("手机号"))

    class Meta:
        model = Cadre
        fields = [
            "id",
            "name",
            "id_number",
            "gender",
            "birth_date",
            "phone",
            "political_status",
            "unit",
            "position",
            "rank",
            "region",
            *TIMES,
        ]


class CadreViewSet(SyncViewSet):
    serializer_class = CadreSerializer
    filterset_class = CadreFilterSet
    summary = _("干部")
    description = _(
        "驻村干部：姓名、身份证号和手机号（默认脱敏）、性别、出生日期、政治面貌、工作单位、职务、"
        "职级、管理区划。管辖范围内建档的干部，以及正在本辖区驻村的干部。"
    )
    example = {
        "id": 101,
        "name": "张建国",
        "id_number": "140***********0017",
        "gender": "M",
        "birth_date": "1980-05-17",
        "phone": "139****5678",
        "political_status": "cpc",
        "unit": 21,
        "position": "科员",
        "rank": "四级主任科员",
        "region": 3,
        "created_at": CREATED,
        "updated_at": UPDATED,
    }

    def get_queryset(self):
        return selectors.cadre_list(user=self.request.user, with_warnings=False)


class AssignmentSerializer(SyncSerializer):
    class Meta:
        model = Assignment
        fields = [
            "id",
            "cadre",
            "team",
            "is_leader",
            "is_first_secretary",
            "start",
            "planned_end",
            "status",
            "ended_on",
            "end_reason",
            "successor",
            *TIMES,
        ]


class AssignmentViewSet(SyncViewSet):
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilterSet
    summary = _("任职")
    description = _(
        "干部在工作队的任职：队长、第一书记或队员，到岗日期、计划期满、状态（在岗、任期结束、"
        "召回、轮换）、离岗日期和原因、接任的任职。"
    )
    example = {
        "id": 55,
        "cadre": 101,
        "team": 7,
        "is_leader": True,
        "is_first_secretary": True,
        "start": "2025-03-01",
        "planned_end": "2027-03-01",
        "status": "active",
        "ended_on": None,
        "end_reason": "",
        "successor": None,
        "created_at": CREATED,
        "updated_at": UPDATED,
    }

    def get_queryset(self):
        return selectors.assignment_list(user=self.request.user, with_warnings=False)


class AttendanceSerializer(SyncSerializer):
    class Meta:
        model = Attendance
        fields = [
            "id",
            "cadre",
            "team",
            "day",
            "status",
            "source",
            "overnight",
            "checked_in_at",
            "latitude",
            "longitude",
            "note",
            *TIMES,
        ]


class AttendanceViewSet(SyncViewSet):
    serializer_class = AttendanceSerializer
    filterset_class = AttendanceFilterSet
    summary = _("考勤")
    description = _(
        "每名干部每天一条考勤：在村或缺勤，来源（本人签到、督查记录），是否住村，签到时间和位置。"
        "督查发现的缺勤会覆盖当天的签到。"
    )
    example = {
        "id": 9001,
        "cadre": 101,
        "team": 7,
        "day": "2026-03-02",
        "status": "present",
        "source": "checkin",
        "overnight": True,
        "checked_in_at": "2026-03-02T08:12:40+08:00",
        "latitude": "37.607100",
        "longitude": "112.357400",
        "note": "",
        "created_at": "2026-03-02T08:12:40+08:00",
        "updated_at": "2026-03-02T08:12:40+08:00",
    }

    def get_queryset(self):
        return selectors.attendance_list(user=self.request.user)


class LeaveSerializer(SyncSerializer):
    class Meta:
        model = LeaveRequest
        fields = [
            "id",
            "cadre",
            "team",
            "kind",
            "start",
            "end",
            "days",
            "reason",
            "destination",
            "status",
            "approver_level",
            "decided_at",
            "decision_note",
            *TIMES,
        ]


class LeaveViewSet(SyncViewSet):
    serializer_class = LeaveSerializer
    filterset_class = LeaveFilterSet
    summary = _("请假与公务外出")
    description = _(
        "请假（事假、病假，按天数由乡镇或县级审批）和公务外出报备（会议、培训、项目工作等）："
        "起止日期、天数、事由、去向、状态、审批层级、审批时间和意见。"
    )
    example = {
        "id": 310,
        "cadre": 101,
        "team": 7,
        "kind": "personal",
        "start": "2026-03-10",
        "end": "2026-03-11",
        "days": 2,
        "reason": "家中有事",
        "destination": "太原市",
        "status": "approved",
        "approver_level": "township",
        "decided_at": "2026-03-08T10:00:00+08:00",
        "decision_note": "同意",
        "created_at": "2026-03-07T18:30:00+08:00",
        "updated_at": "2026-03-08T10:00:00+08:00",
    }

    def get_queryset(self):
        return selectors.leave_list(user=self.request.user)
