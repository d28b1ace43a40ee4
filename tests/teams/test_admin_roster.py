"""The roster admin as county staff use it: refusals in Chinese, actions through services."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from teams.models import Assignment, AssignmentStatus, TeamStatus, WorkTeam
from tests import factories as f


@pytest.fixture
def official(client, world):
    client.force_login(world.official_a)
    return client


def test_second_active_team_in_the_admin_is_a_form_error(official, world):
    response = official.post(
        reverse("admin:teams_workteam_add"),
        {
            "village": world.village_a.pk,
            "name": "第二队",
            "lead_unit": world.unit_a.pk,
            "term_start": "2025-05-01",
            "term_end": "2027-05-01",
            "assignments-TOTAL_FORMS": "0",
            "assignments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "一村一队" in response.content.decode()
    assert WorkTeam.objects.filter(village=world.village_a).count() == 1


def test_second_active_assignment_in_the_admin_is_a_form_error(official, world):
    other_team = f.team(f.village("140121100202", "西于村", world.township_a), world.unit_a)
    response = official.post(
        reverse("admin:teams_assignment_add"),
        {
            "cadre": world.cadre_a.pk,
            "team": other_team.pk,
            "start": "2025-05-01",
            "planned_end": "2027-05-01",
        },
    )
    assert response.status_code == 200
    assert "已有在岗任职" in response.content.decode()
    assert Assignment.objects.filter(cadre=world.cadre_a).count() == 1


def test_add_a_cadre_and_assign_in_the_admin(official, world):
    response = official.post(
        reverse("admin:teams_cadre_add"),
        {
            "name": "新干部",
            "id_number": "11010519491231002x",
            "phone": "13800001111",
            "political_status": "cpc",
            "unit": world.unit_a.pk,
            "position": "科员",
            "rank": "",
            "region": world.county_a.pk,
            "user": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    from teams.models import Cadre

    cadre = Cadre.objects.get(name="新干部")
    assert cadre.id_number == "11010519491231002X"
    assert cadre.gender == "F"
    response = official.post(
        reverse("admin:teams_assignment_add"),
        {
            "cadre": cadre.pk,
            "team": world.team_a.pk,
            "start": "2025-05-01",
            "planned_end": "2027-05-01",
        },
    )
    assert response.status_code == 302
    assert Assignment.objects.get(cadre=cadre).role_label == "队员"


def test_cadre_pages_show_id_numbers_masked(official, world):
    number = world.cadre_a.id_number
    listing = official.get(reverse("admin:teams_cadre_changelist")).content.decode()
    page = official.get(reverse("admin:teams_cadre_change", args=[world.cadre_a.pk]))
    for html in (listing, page.content.decode()):
        assert number not in html
        assert world.cadre_a.phone not in html
        assert number[:3] + "*" * 11 + number[-4:] in html


def test_search_by_a_full_id_number_uses_the_keyed_hash(official, world):
    url = reverse("admin:teams_cadre_changelist")
    found = official.get(url, {"q": world.cadre_a.id_number.lower()}).context["cl"].result_list
    assert [c.pk for c in found] == [world.cadre_a.pk]
    found = official.get(url, {"q": world.cadre_b.id_number}).context["cl"].result_list
    assert list(found) == []  # county B's cadre stays invisible
    found = official.get(url, {"q": world.cadre_a.phone}).context["cl"].result_list
    assert [c.pk for c in found] == [world.cadre_a.pk]


def test_recall_action_asks_for_a_reason_then_calls_the_service(official, world):
    url = reverse("admin:teams_assignment_changelist")
    base = {"action": "recall", ACTION_CHECKBOX_NAME: [world.assignment_a.pk]}
    page = official.post(url, base)
    assert page.status_code == 200
    assert "召回原因" in page.content.decode()
    official.post(url, {**base, "apply": "1", "ended_on": "2026-06-01", "reason": ""})
    world.assignment_a.refresh_from_db()
    assert world.assignment_a.status == AssignmentStatus.ACTIVE  # no reason, no recall
    successor = f.cadre("接任者", world.unit_a, world.county_a)
    official.post(
        url,
        {
            **base,
            "apply": "1",
            "ended_on": "2026-06-01",
            "reason": "长期脱岗",
            "successor": successor.pk,
        },
    )
    world.assignment_a.refresh_from_db()
    assert world.assignment_a.status == AssignmentStatus.RECALLED
    assert world.assignment_a.successor.cadre == successor


def test_end_term_action_on_teams(official, world):
    official.post(
        reverse("admin:teams_workteam_changelist"),
        {"action": "end_term", ACTION_CHECKBOX_NAME: [world.team_a.pk]},
    )
    world.team_a.refresh_from_db()
    world.assignment_a.refresh_from_db()
    assert world.team_a.status == TeamStatus.ENDED
    assert world.assignment_a.status == AssignmentStatus.ENDED


def test_team_page_lists_its_assignments_and_warnings(official, world):
    page = official.get(reverse("admin:teams_workteam_change", args=[world.team_a.pk]))
    html = page.content.decode()
    assert world.cadre_a.name in html
    assert "队长兼第一书记" in html
    listing = official.get(reverse("admin:teams_workteam_changelist")).content.decode()
    assert "不足3人" in listing  # team_a has one member


def test_warning_filter(official, world):
    url = reverse("admin:teams_workteam_changelist")
    rows = official.get(url, {"warning": "understaffed"}).context["cl"].result_list
    assert [t.pk for t in rows] == [world.team_a.pk]
    rows = official.get(url, {"warning": "no_first_secretary"}).context["cl"].result_list
    assert list(rows) == []


def test_unit_page_shows_the_contact_phone_masked(official, world):
    page = official.get(reverse("admin:teams_dispatchingunit_change", args=[world.unit_a.pk]))
    html = page.content.decode()
    phone = world.unit_a.contact_phone
    assert phone not in html
    assert phone[:3] + "****" + phone[-4:] in html


def test_joint_units_are_edited_inline_through_the_service(official, world):
    extra = f.unit("清徐县水利局", world.county_a)
    response = official.post(
        reverse("admin:teams_workteam_change", args=[world.team_a.pk]),
        {
            "name": world.team_a.name,
            "lead_unit": world.unit_a.pk,
            "term_start": "2025-03-01",
            "term_end": "2027-03-01",
            "joint_units-TOTAL_FORMS": "1",
            "joint_units-INITIAL_FORMS": "0",
            "joint_units-0-unit": extra.pk,
            "joint_units-0-team": world.team_a.pk,
            "assignments-TOTAL_FORMS": "1",
            "assignments-INITIAL_FORMS": "1",
            "assignments-0-id": world.assignment_a.pk,
            "assignments-0-team": world.team_a.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(world.team_a.other_units.all()) == [extra]
    # Another county's unit is not a valid choice.
    response = official.post(
        reverse("admin:teams_workteam_change", args=[world.team_a.pk]),
        {
            "name": world.team_a.name,
            "lead_unit": world.unit_a.pk,
            "term_start": "2025-03-01",
            "term_end": "2027-03-01",
            "joint_units-TOTAL_FORMS": "1",
            "joint_units-INITIAL_FORMS": "0",
            "joint_units-0-unit": world.unit_b.pk,
            "joint_units-0-team": world.team_a.pk,
            "assignments-TOTAL_FORMS": "1",
            "assignments-INITIAL_FORMS": "1",
            "assignments-0-id": world.assignment_a.pk,
            "assignments-0-team": world.team_a.pk,
        },
    )
    assert response.status_code == 200
    assert world.unit_b not in world.team_a.other_units.all()
