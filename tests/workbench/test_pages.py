"""Workbench pages through the test client: scope, exactly-once submissions, rules."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.urls import reverse

from households.models import IncomeRecord, VisitLog
from teams.models import Attendance, DiaryEntry, LeaveRequest

from .. import factories as f

TODAY = dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def member(world, client):
    """Team member of village A, starting from a month with no visits, check-ins or leave."""
    for model in (VisitLog, Attendance, LeaveRequest, DiaryEntry):
        model.objects.all().delete()
    client.force_login(world.member_a)
    return client


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def visit_data(key=None, **extra):
    return {
        "key": str(key or uuid.uuid4()),
        "visited_on": "2026-11-18",
        "kind": "in_person",
        "seen": "家中三口人，住房安全，饮水正常。",
        "problems": "",
        "requests": "希望提供务工信息",
        "follow_up": "联系镇劳务站",
    } | extra


def test_login_page_and_redirect(client, world):
    assert client.get("/work/").url == "/work/login/?next=/work/"
    assert (
        client.get("/work/households/?q=a b").url
        == "/work/login/?next=/work/households/%3Fq%3Da%2520b"
    )
    page = client.get("/work/login/")
    assert page.status_code == 200
    assert "驻村工作台登录" in page.content.decode()


def test_home_shows_due_household_and_progress(world, member):
    page = member.get("/work/")
    text = page.content.decode()
    assert page.status_code == 200
    assert f'data-household="{world.household_a.pk}"' in text
    assert f'data-household="{world.household_b.pk}"' not in text
    assert "我的结对户" in text
    assert "本年已走访 0 / 1 户（0%）" in text


def test_visit_leaves_due_list_and_replay_is_one_visit(world, member):
    url = reverse("work:visit_new", args=[world.household_a.pk])
    form = member.get(url)
    assert form.status_code == 200
    data = visit_data()
    first = member.post(url, data)
    assert first.status_code == 302
    again = member.post(url, data)
    assert again.status_code == 302
    assert again.url == first.url
    assert VisitLog.objects.count() == 1
    visit = VisitLog.objects.get()
    assert first.url == reverse("work:visit", args=[visit.pk])
    assert (visit.cadre, visit.team) == (world.cadre_a, world.team_a)
    text = member.get("/work/").content.decode()
    assert f'data-household="{world.household_a.pk}"' not in text
    assert "本年已走访 1 / 1 户（100%）" in text


def test_bad_visit_changes_nothing_and_says_why(world, member):
    url = reverse("work:visit_new", args=[world.household_a.pk])
    page = member.post(url, visit_data(seen="", visited_on="2026-12-01"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "这个字段是必填项" in text or "必填" in text
    page = member.post(url, visit_data(visited_on="2026-12-01"))
    assert "走访日期不能晚于今天。" in page.content.decode()
    assert VisitLog.objects.count() == 0


def test_photo_checked_by_content(world, member):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("work:visit_new", args=[world.household_a.pk])
    fake = SimpleUploadedFile("x.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
    page = member.post(url, visit_data(photo=fake))
    assert "照片须为 JPG、PNG 或 WebP 图片。" in page.content.decode()
    assert VisitLog.objects.count() == 0
    png = SimpleUploadedFile("x.txt", f.png_bytes(), content_type="text/plain")
    answer = member.post(url, visit_data(photo=png))
    visit = VisitLog.objects.get()
    assert visit.photo.name.endswith(".png")
    photo = member.get(reverse("work:visit_photo", args=[visit.pk]))
    assert photo.status_code == 200
    assert b"".join(photo.streaming_content) == f.png_bytes()
    assert answer.status_code == 302


def test_other_village_is_404_like_missing(world, member):
    other = member.get(reverse("work:household", args=[world.household_b.pk]))
    missing = member.get(reverse("work:household", args=[999_999_999]))
    assert other.status_code == missing.status_code == 404
    assert other.content == missing.content
    for name in ("visit_new", "income_new"):
        assert member.get(reverse(f"work:{name}", args=[world.household_b.pk])).status_code == 404
    posted = member.post(reverse("work:visit_new", args=[world.household_b.pk]), visit_data())
    assert posted.status_code == 404
    assert VisitLog.objects.count() == 0


def test_search_by_name_and_code(world, member):
    code = world.household_a.code
    by_code = member.get("/work/households/", {"q": code[:8]}).content.decode()
    by_name = member.get("/work/households/", {"q": "户主A"}).content.decode()
    other = member.get("/work/households/", {"q": "户主B"}).content.decode()
    assert code in by_code
    assert code in by_name
    assert world.household_b.code not in other
    assert "没有找到农户。" in other


def test_check_in_once_a_day(world, member):
    key = str(uuid.uuid4())
    assert member.post("/work/checkin/", {"key": key, "overnight": "1"}).status_code == 302
    assert member.post("/work/checkin/", {"key": key, "overnight": "1"}).status_code == 302
    assert member.post("/work/checkin/", {"key": str(uuid.uuid4())}).status_code == 302
    row = Attendance.objects.get()
    assert (row.day, row.status, row.overnight) == (dt.date(2026, 11, 18), "present", True)
    assert "已签到 17:30" in member.get("/work/").content.decode()


def test_leave_and_diary_pages(world, member):
    key = str(uuid.uuid4())
    data = {
        "key": key,
        "kind": "personal",
        "start": "2026-11-20",
        "end": "2026-11-21",
        "reason": "家中有事",
        "destination": "太原",
    }
    first = member.post("/work/leave/new/", data)
    assert member.post("/work/leave/new/", data).url == first.url
    leave = LeaveRequest.objects.get()
    assert (leave.days, leave.status, leave.approver_level) == (2, "pending", "township")
    assert "待审批" in member.get(first.url).content.decode()
    member.post(first.url)
    leave.refresh_from_db()
    assert leave.status == "cancelled"
    diary = {"key": str(uuid.uuid4()), "day": "2026-11-18", "work_done": "走访5户"}
    assert member.post("/work/diary/new/", diary).status_code == 302
    diary |= {"key": str(uuid.uuid4()), "work_done": "走访6户", "next_plan": "召开院坝会"}
    member.post("/work/diary/new/", diary)
    entry = DiaryEntry.objects.get()
    assert (entry.work_done, entry.next_plan) == ("走访6户", "召开院坝会")
    assert "走访6户" in member.get("/work/diary/").content.decode()


def test_income_of_paired_household(world, member):
    url = reverse("work:income_new", args=[world.household_a.pk])
    f.income(world.household_a, dt.date(2026, 9, 1), wage=1200)
    page = member.get(url, {"month": "2026-10-01"}).content.decode()
    assert "1200.00" in page
    data = {
        "key": str(uuid.uuid4()),
        "month": "2026-10-01",
        "wage": "1500",
        "business": "0",
        "property_income": "0",
        "transfer": "300",
        "production_cost": "0",
    }
    assert member.post(url, data).status_code == 302
    assert member.post(url, data).status_code == 302
    record = IncomeRecord.objects.get(household=world.household_a, month=dt.date(2026, 10, 1))
    assert (record.wage, record.transfer) == (1500, 300)
    assert "已全部登记。" in member.get("/work/").content.decode()


def test_presence_page(world, member):
    assert member.get("/work/presence/").status_code == 200


def test_staff_without_assignment_told(world, client):
    client.force_login(world.official_a)
    page = client.get("/work/")
    assert page.status_code == 403
    assert "没有在岗任职" in page.content.decode()


def test_old_submission_keys_are_forgotten(world, member):
    from common.idempotency import submission_keys_purge
    from common.models import SubmissionKey

    member.post("/work/checkin/", {"key": str(uuid.uuid4())})
    assert submission_keys_purge() == 0
    with time_machine.travel(TODAY + dt.timedelta(days=31)):
        assert submission_keys_purge() == 1
    assert not SubmissionKey.objects.exists()
