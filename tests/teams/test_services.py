import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.roles import Role
from common.errors import ApplicationError
from teams import services
from teams.models import Assignment, AssignmentStatus, Cadre, TeamStatus, WorkTeam
from tests import factories as f


def test_second_active_team_for_a_village_is_refused_in_chinese(world):
    with pytest.raises(ApplicationError) as exc:
        f.team(world.village_a, world.unit_a, name="第二个工作队")
    assert "一村一队" in exc.value.message
    assert WorkTeam.objects.filter(village=world.village_a).count() == 1


def test_database_refuses_a_second_active_team_too(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkTeam.objects.create(
            village=world.village_a,
            name="绕过服务",
            lead_unit=world.unit_a,
            term_start=dt.date(2025, 1, 1),
            term_end=dt.date(2027, 1, 1),
        )


def test_a_new_team_may_follow_an_ended_one(world):
    services.team_end_term(team=world.team_a, ended_on=dt.date(2026, 3, 1))
    new = f.team(world.village_a, world.unit_a, name="新一届工作队")
    assert new.status == TeamStatus.ACTIVE
    world.assignment_a.refresh_from_db()
    assert world.assignment_a.status == AssignmentStatus.ENDED


def test_second_active_assignment_for_a_cadre_is_refused(world):
    with pytest.raises(ApplicationError) as exc:
        f.assign(world.cadre_a, world.team_b)
    assert "已有在岗任职" in exc.value.message
    assert Assignment.objects.filter(cadre=world.cadre_a).count() == 1


def test_database_refuses_a_second_active_assignment_too(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            cadre=world.cadre_a,
            team=world.team_b,
            start=dt.date(2025, 1, 1),
            planned_end=dt.date(2027, 1, 1),
        )


def test_leader_may_also_be_first_secretary_but_only_one_of_each(world):
    assert world.assignment_a.role_label == "队长兼第一书记"
    other = f.cadre("王五", world.unit_a, world.county_a)
    with pytest.raises(ApplicationError, match="已有在岗队长"):
        f.assign(other, world.team_a, leader=True)
    with pytest.raises(ApplicationError, match="已有在岗第一书记"):
        f.assign(other, world.team_a, secretary=True)
    member = f.assign(other, world.team_a)
    assert member.role_label == "队员"


def test_term_dates_are_checked(world):
    other = f.cadre("赵六", world.unit_a, world.county_a)
    with pytest.raises(ValidationError):
        f.assign(other, world.team_a, start=dt.date(2026, 1, 1), end=dt.date(2025, 1, 1))


def test_end_of_term_is_idempotent_and_clears_the_member_scope(world):
    assert world.member_a.region_id == world.village_a.region_id
    services.assignment_end(assignment=world.assignment_a, ended_on=dt.date(2026, 5, 1))
    again = services.assignment_end(assignment=world.assignment_a, ended_on=dt.date(2026, 6, 1))
    assert again.status == AssignmentStatus.ENDED
    assert again.ended_on == dt.date(2026, 5, 1)
    world.member_a.refresh_from_db()
    assert world.member_a.region_id is None


def test_recall_requires_a_reason(world):
    with pytest.raises(ValidationError) as exc:
        services.assignment_recall(
            assignment=world.assignment_a, ended_on=dt.date(2026, 5, 1), reason="  "
        )
    assert "原因" in str(exc.value)
    world.assignment_a.refresh_from_db()
    assert world.assignment_a.status == AssignmentStatus.ACTIVE


def test_recall_with_a_successor_hands_over_the_roles(world):
    successor = f.cadre("孙七", world.unit_a, world.county_a)
    recalled = services.assignment_recall(
        assignment=world.assignment_a,
        ended_on=dt.date(2026, 5, 1),
        reason="长期不在岗",
        successor_cadre=successor,
    )
    assert recalled.status == AssignmentStatus.RECALLED
    assert recalled.end_reason == "长期不在岗"
    new = recalled.successor
    assert (new.cadre, new.is_leader, new.is_first_secretary) == (successor, True, True)
    assert new.status == AssignmentStatus.ACTIVE
    assert new.planned_end == world.assignment_a.planned_end


def test_recall_without_a_successor(world):
    recalled = services.assignment_recall(
        assignment=world.assignment_a, ended_on=dt.date(2026, 5, 1), reason="身体原因"
    )
    assert recalled.successor is None
    with pytest.raises(ApplicationError, match="已不在岗"):
        services.assignment_recall(assignment=recalled, ended_on=dt.date(2026, 5, 2), reason="x")


def test_replace_rotates_and_moves_the_login_scope(world):
    successor_user = f.user("successor", Role.TEAM_MEMBER, None)
    successor = f.cadre("周八", world.unit_a, world.county_a)
    services.cadre_link_user(cadre=successor, user=successor_user)
    replaced = services.assignment_replace(
        assignment=world.assignment_a, successor_cadre=successor, ended_on=dt.date(2026, 6, 1)
    )
    assert replaced.status == AssignmentStatus.REPLACED
    successor_user.refresh_from_db()
    world.member_a.refresh_from_db()
    assert successor_user.region_id == world.village_a.region_id
    assert successor_user.role == Role.TEAM_LEADER
    assert world.member_a.region_id is None


def test_replace_by_a_busy_cadre_changes_nothing(world):
    with pytest.raises(ApplicationError):
        services.assignment_replace(
            assignment=world.assignment_a,
            successor_cadre=world.cadre_b,
            ended_on=dt.date(2026, 6, 1),
        )
    world.assignment_a.refresh_from_db()
    assert world.assignment_a.status == AssignmentStatus.ACTIVE


def test_duplicate_id_number_is_refused_masked(world):
    with pytest.raises(ValidationError) as exc:
        f.cadre("重复", world.unit_a, world.county_a, id_number=world.cadre_b.id_number)
    message = str(exc.value)
    assert world.cadre_b.id_number not in message
    assert world.cadre_b.id_number[:3] + "*" in message


def test_cadre_birth_date_and_gender_follow_the_id_number(world):
    c = f.cadre("钱九", world.unit_a, world.county_a, id_number="11010519491231002x")
    assert (c.birth_date, c.gender, c.id_number) == (
        dt.date(1949, 12, 31),
        "F",
        "11010519491231002X",
    )
    services.cadre_update(cadre=c, id_number="440524188001010014")
    c.refresh_from_db()
    assert (c.birth_date, c.gender) == (dt.date(1880, 1, 1), "M")


@time_machine.travel(dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC), tick=False)
def test_derived_warnings(world):
    # team_a: one member, has a first secretary, term ends 2027-03-01 (not soon)
    team = WorkTeam.objects.with_warnings().get(pk=world.team_a.pk)
    assert (
        team.active_members,
        team.has_first_secretary,
        team.term_ending_soon,
        team.members_overdue,
    ) == (1, True, False, False)
    # a team ending within 60 days, with a member past the planned end, no first secretary
    services.team_update(team=world.team_b, term_end=dt.date(2026, 12, 15))
    services.assignment_end(assignment=world.assignment_b, ended_on=dt.date(2026, 10, 1))
    late = f.cadre("吴十", world.unit_b, world.county_b)
    f.assign(late, world.team_b, start=dt.date(2024, 1, 1), end=dt.date(2026, 10, 1))
    team = WorkTeam.objects.with_warnings().get(pk=world.team_b.pk)
    assert (
        team.active_members,
        team.has_first_secretary,
        team.term_ending_soon,
        team.members_overdue,
    ) == (1, False, True, True)
    cadre = Cadre.objects.with_warnings().get(pk=late.pk)
    assert (cadre.serving, cadre.past_planned_end) == (True, True)
    row = Assignment.objects.with_warnings().get(cadre=late)
    assert (row.past_planned_end, row.term_ending_soon) == (True, False)


def test_unit_merge_moves_cadres_and_teams(world):
    target = f.unit("清徐县乡村振兴局", world.county_a)
    moved = services.unit_merge(source=world.unit_a, target=target)
    assert moved == 2
    world.cadre_a.refresh_from_db()
    world.team_a.refresh_from_db()
    assert world.cadre_a.unit == target
    assert world.team_a.lead_unit == target
