import datetime as dt

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households.models import Household
from tests import factories as f

URL = "/admin/households/household/"
TODAY = dt.datetime(2026, 8, 15, 12, tzinfo=dt.UTC)


def grow(world, first, last):
    for i in range(first, last):
        household = f.household(world.village_a, f"G{i:05d}")
        f.member(household, f"张{i}", relation="head")
        f.member(household, f"李{i}")
        for month in (6, 7):
            f.income(household, dt.date(2026, month, 1), wage=300 + i)


# Queries per page, the same at 10 and 100 households: session, user, the user's region;
# the filter choices (counties, townships, villages, statuses, report bands); the page
# count; the page of rows with village, township and status; one query for the page's risk
# flags and income figures (this and last year, the village's line); and the session
# renewal (savepoint, update, release).
EXPECTED_QUERIES = 14


@time_machine.travel(TODAY, tick=False)
def test_household_changelist_queries_do_not_grow(client, world):
    client.force_login(world.official_a)
    grow(world, 0, 9)
    with CaptureQueriesContext(connection) as small:
        response = client.get(URL)
    assert len(response.context["cl"].result_list) == 10
    grow(world, 9, 99)
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL, {"p": 1})
    assert len(response.context["cl"].result_list) == 50  # a full page of the 100
    assert (len(small), len(large)) == (EXPECTED_QUERIES, EXPECTED_QUERIES)


@time_machine.travel(TODAY, tick=False)
def test_risk_filter_and_badges(client, world):
    client.force_login(world.official_a)
    grow(world, 0, 3)
    rows = client.get(URL, {"risk": "no_cadre"}).context["cl"].result_list
    assert {h.code for h in rows} == {"G00000", "G00001", "G00002"}
    rows = client.get(URL, {"risk": "under_line"}).context["cl"].result_list
    assert {h.code for h in rows} == {"G00000", "G00001", "G00002"}  # ~1 800 a head < 7 000
    html = client.get(URL).content.decode()
    assert "低于监测线" in html
    assert "无责任人" in html


def test_search_by_head_name_code_and_full_id_number(client, world):
    client.force_login(world.official_a)
    found = client.get(URL, {"q": "户主"}).context["cl"].result_list
    assert [h.pk for h in found] == [world.household_a.pk]
    found = client.get(URL, {"q": world.household_a.code}).context["cl"].result_list
    assert [h.pk for h in found] == [world.household_a.pk]
    found = client.get(URL, {"q": world.person_a.id_number}).context["cl"].result_list
    assert [h.pk for h in found] == [world.household_a.pk]
    found = client.get(URL, {"q": world.person_b.id_number}).context["cl"].result_list
    assert list(found) == []
    found = client.get(URL, {"q": world.household_b.code}).context["cl"].result_list
    assert list(found) == []


def test_bulk_assign_responsible_cadre(client, world):
    client.force_login(world.official_a)
    grow(world, 0, 3)
    ids = list(Household.objects.filter(code__startswith="G").values_list("pk", flat=True))
    base = {"action": "assign_cadre", ACTION_CHECKBOX_NAME: ids}
    page = client.post(URL, base)
    assert "帮扶责任人" in page.content.decode()
    client.post(URL, {**base, "apply": "1", "cadre": world.cadre_a.pk, "start": "2026-08-01"})
    paired = Household.objects.filter(
        pk__in=ids, pairings__end__isnull=True, pairings__cadre=world.cadre_a
    )
    assert paired.count() == 3
    # County B's cadre is not a valid choice.
    client.post(
        URL,
        {**base, "apply": "1", "cadre": world.cadre_b.pk, "start": "2026-08-02", "replace": "on"},
    )
    assert paired.count() == 3


def test_household_page_shows_members_masked(client, world):
    client.force_login(world.official_a)
    html = client.get(f"{URL}{world.household_a.pk}/change/").content.decode()
    assert world.person_a.name in html
    assert world.person_a.id_number not in html
    assert world.person_a.id_number_masked in html


@pytest.mark.parametrize("path", ["member", "incomerecord", "monitoring", "measure", "pairing"])
def test_other_household_lists_render(client, world, path):
    client.force_login(world.official_a)
    assert client.get(f"/admin/households/{path}/").status_code == 200


def test_status_change_and_member_leave_actions(client, world):
    client.force_login(world.official_a)
    base = {"action": "change_status", ACTION_CHECKBOX_NAME: [world.household_a.pk]}
    client.post(
        URL,
        {
            **base,
            "apply": "1",
            "status": "returned",
            "changed_on": "2026-06-01",
            "reason": "因病返贫",
        },
    )
    world.household_a.refresh_from_db()
    assert world.household_a.status_id == "returned"
    assert world.household_a.status_changes.filter(new="returned", reason="因病返贫").exists()
    client.post(
        "/admin/households/member/",
        {
            "action": "leave",
            ACTION_CHECKBOX_NAME: [world.person_a.pk],
            "apply": "1",
            "left_on": "2026-07-01",
            "reason": "迁出",
        },
    )
    world.person_a.refresh_from_db()
    assert world.person_a.left_on == dt.date(2026, 7, 1)


def test_search_by_phone_and_code_prefix(client, world):
    from households import services as hs

    hs.household_update(household=world.household_a, phone="13912345678")
    client.force_login(world.official_a)
    found = client.get(URL, {"q": "139 1234 5678"}).context["cl"].result_list
    assert [h.pk for h in found] == [world.household_a.pk]
    found = client.get(URL, {"q": world.household_a.code[:9]}).context["cl"].result_list
    assert [h.pk for h in found] == [world.household_a.pk]


def test_add_household_with_other_causes_and_monitoring(client, world):
    client.force_login(world.official_a)
    response = client.post(
        f"{URL}add/",
        {
            "village": world.village_a.pk,
            "code": "14012110020100099",
            "status": "lifted",
            "household_type": "general",
            "standard": "national",
            "main_cause": "illness",
            "other_causes": ["funds", "skills", "land"],
            "year_identified": "2015",
            "housing_grade": "A",
            "food_clothing_secure": "on",
        },
    )
    assert response.status_code == 200  # three other causes: refused on the form
    assert "最多选2项" in response.content.decode()
    response = client.post(
        f"{URL}add/",
        {
            "village": world.village_a.pk,
            "code": "14012110020100099",
            "status": "lifted",
            "household_type": "general",
            "standard": "national",
            "main_cause": "illness",
            "other_causes": ["funds", "skills"],
            "year_identified": "2015",
            "housing_grade": "A",
            "food_clothing_secure": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    household = Household.objects.get(code="14012110020100099")
    assert household.other_causes == ["funds", "skills"]
    response = client.post(
        "/admin/households/monitoring/add/",
        {
            "household": household.pk,
            "category": "marginal",
            "risk_types": ["illness", "water"],
            "discovery": "visit",
            "identified_on": "2026-03-01",
        },
    )
    assert response.status_code == 302
    assert household.monitorings.get().risk_types == ["illness", "water"]


def test_village_filter(client, world):
    client.force_login(world.official_a)
    response = client.get(URL, {"village": world.village_a.pk})
    assert [h.pk for h in response.context["cl"].result_list] == [world.household_a.pk]
    response = client.get(URL, {"village": world.village_b.pk})
    assert list(response.context["cl"].result_list) == []


def test_eliminate_action_reports_every_failing_condition(client, world):
    client.force_login(world.official_a)
    response = client.post(
        "/admin/households/monitoring/",
        {
            "action": "eliminate",
            ACTION_CHECKBOX_NAME: [world.monitoring_a.pk],
            "apply": "1",
            "on": "2026-05-01",
            "reason": "",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "未满半年" in text
    assert "收入登记不全" in text
    world.monitoring_a.refresh_from_db()
    assert world.monitoring_a.status == "monitoring"
