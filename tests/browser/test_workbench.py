"""The workbench as a phone uses it: Playwright driving Debian's chromium (360 px wide)."""

import re

import pytest

from households.models import VisitLog
from teams.models import Attendance, DiaryEntry, LeaveRequest

from ..factories import PASSWORD


@pytest.fixture
def fresh(world):
    """Village A with nothing done yet this month (the fixture world's own records removed)."""
    for model in (VisitLog, Attendance, LeaveRequest, DiaryEntry):
        model.objects.all().delete()
    return world


def due_item(page, household):
    return page.locator(f'#due li[data-household="{household.pk}"]')


def test_check_in_record_a_visit_and_leave_the_due_list(phone, live_server, login, fresh):
    world = fresh
    login(phone, live_server, world.member_a.username, PASSWORD)
    assert phone.url == live_server.url + "/work/"
    assert phone.locator("#checkin").get_by_role("button", name="签到").is_visible()
    assert due_item(phone, world.household_a).is_visible()
    assert due_item(phone, world.household_a).locator(".tag").inner_text() == "我的结对户"

    phone.locator("#checkin").get_by_role("button", name="签到").click()
    phone.wait_for_url(live_server.url + "/work/")
    assert re.search(r"已签到 \d\d:\d\d · 住村", phone.locator("#checkin").inner_text())
    assert Attendance.objects.get(cadre=world.cadre_a).overnight is True

    due_item(phone, world.household_a).locator("a").click()
    phone.wait_for_url(re.compile(r"/work/households/\d+/visit/$"))
    phone.get_by_label("走访情况").fill("家中四口人，住房安全，饮水正常。")
    phone.get_by_label("群众诉求").fill("希望提供务工信息")
    phone.get_by_label("电话走访").check()
    phone.get_by_role("button", name="保存走访").click()
    phone.wait_for_url(re.compile(r"/work/visits/\d+/$"))
    assert "走访已记录。" in phone.locator(".messages").inner_text()
    visit = VisitLog.objects.get()
    assert (visit.household, visit.kind) == (world.household_a, "phone")

    phone.get_by_role("link", name="返回首页").click()
    phone.wait_for_url(live_server.url + "/work/")
    assert due_item(phone, world.household_a).count() == 0
    assert "本年已走访 1 / 1 户（100%）" in phone.content()
    # The page fits the phone: nothing wider than the 360 px screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_same_visit_sent_twice_and_replayed_is_one_visit(phone, live_server, login, fresh):
    world = fresh
    login(phone, live_server, world.member_a.username, PASSWORD)
    phone.goto(f"{live_server.url}/work/households/{world.household_a.pk}/visit/")
    phone.get_by_label("走访情况").fill("正常")
    form = phone.locator("#visit-form")
    key = form.locator('[name="key"]').input_value()
    fields = {
        "csrfmiddlewaretoken": form.locator('[name="csrfmiddlewaretoken"]').input_value(),
        "key": key,
        "visited_on": form.locator('[name="visited_on"]').input_value(),
        "kind": "in_person",
        "seen": "正常",
    }
    posts = []
    phone.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    # A double tap: the second tap is sent too (the script's guard removed, as on an old phone).
    phone.evaluate("document.querySelector('#visit-form').removeAttribute('data-once')")
    button = phone.get_by_role("button", name="保存走访")
    button.dblclick()
    phone.wait_for_url(re.compile(r"/work/visits/\d+/$"))
    first = phone.url
    # The network dropped the answer and the page is sent again: back, resend the same form.
    phone.go_back()
    phone.wait_for_url(re.compile(r"/visit/$"))
    if phone.locator("#visit-form [name=key]").input_value() != key:
        # A browser that reloads the page gets a new key: put the sent form back as it was.
        phone.evaluate(f"document.querySelector('#visit-form [name=key]').value = '{key}'")
        phone.get_by_label("走访情况").fill("正常")
    phone.get_by_role("button", name="保存走访").click()
    phone.wait_for_url(re.compile(r"/work/visits/\d+/$"))
    assert phone.url == first
    # The raw request replayed with the session's cookies (a proxy retry).
    replay = phone.request.post(
        f"{live_server.url}/work/households/{world.household_a.pk}/visit/",
        form=fields,
        headers={"Referer": phone.url},
        max_redirects=0,
    )
    assert len(posts) >= 2  # the form really went out more than once from the page
    assert replay.status == 302
    assert live_server.url + replay.headers["location"] == first
    assert VisitLog.objects.count() == 1


def test_another_villages_household_looks_missing(phone, live_server, login, fresh):
    world = fresh
    login(phone, live_server, world.member_a.username, PASSWORD)
    other = phone.goto(f"{live_server.url}/work/households/{world.household_b.pk}/")
    other_text = phone.locator("body").inner_text()
    missing = phone.goto(f"{live_server.url}/work/households/999999999/")
    assert other.status == missing.status == 404
    assert other_text == phone.locator("body").inner_text()
    assert "未找到" in other_text
    assert world.household_b.code not in other_text
    phone.goto(f"{live_server.url}/work/households/{world.household_b.pk}/visit/")
    assert phone.locator("body").inner_text() == other_text
