"""Filters of the roster and presence endpoints."""

from django.utils.translation import gettext_lazy as _

from common.api.filters import BooleanFilter, SyncFilterSet, date_range, id_filter

from .models import Assignment, Attendance, Cadre, DispatchingUnit, LeaveRequest, WorkTeam


class UnitFilterSet(SyncFilterSet):
    class Meta:
        model = DispatchingUnit
        fields = ["level", "kind"]


class TeamFilterSet(SyncFilterSet):
    village = id_filter("village", _("村ID"))
    lead_unit = id_filter("lead_unit", _("牵头派出单位ID"))

    class Meta:
        model = WorkTeam
        fields = ["status"]


class CadreFilterSet(SyncFilterSet):
    unit = id_filter("unit", _("工作单位ID"))

    class Meta:
        model = Cadre
        fields = ["political_status"]


class AssignmentFilterSet(SyncFilterSet):
    team = id_filter("team", _("工作队ID"))
    cadre = id_filter("cadre", _("干部ID"))
    is_leader = BooleanFilter(label=_("队长"))
    is_first_secretary = BooleanFilter(label=_("第一书记"))

    class Meta:
        model = Assignment
        fields = ["status"]


class AttendanceFilterSet(SyncFilterSet):
    team = id_filter("team", _("工作队ID"))
    cadre = id_filter("cadre", _("干部ID"))
    day_from, day_to = date_range("day", _("日期不早于"), _("日期不晚于"))

    class Meta:
        model = Attendance
        fields = ["status", "source"]


class LeaveFilterSet(SyncFilterSet):
    team = id_filter("team", _("工作队ID"))
    cadre = id_filter("cadre", _("干部ID"))
    start_from, start_to = date_range("start", _("开始日期不早于"), _("开始日期不晚于"))

    class Meta:
        model = LeaveRequest
        fields = ["kind", "status", "approver_level"]
