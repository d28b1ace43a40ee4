"""The admin of circulars: drafts worded through the services, published ones read-only,
publish / correct / build as actions and pages, files out of scope 404, the changelist's
queries fixed at two sizes."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from reports import services
from reports.models import Circular, CircularRun

from .. import factories as f
from .builders import OCTOBER, place


@pytest.fixture
def draft(world, crafted):
    return services.circular_build(county=world.county_a, period=OCTOBER)


@pytest.fixture
def official(client, world):
    client.force_login(world.official_a)
    return client


def change_url(circular):
    return reverse("admin:reports_circular_change", args=[circular.pk])


CHANGELIST = "/admin/reports/circular/"


def entry_forms(circular):
    """The inline management form and every entry's fields as the change page posts them."""
    entries = list(circular.entries.order_by("kind", "order"))
    data = {
        "entries-TOTAL_FORMS": str(len(entries)),
        "entries-INITIAL_FORMS": str(len(entries)),
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
        "steps-TOTAL_FORMS": "0",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for i, e in enumerate(entries):
        data |= {
            f"entries-{i}-id": str(e.pk),
            f"entries-{i}-circular": str(circular.pk),
            f"entries-{i}-facts": e.facts,
            f"entries-{i}-consequence": e.consequence,
        }
    return data, entries


def version_of(client, circular):
    """The draft's version as the change page hands it to the editor."""
    form = client.get(change_url(circular)).context["adminform"].form
    return form["version"].value()


def test_staff_word_a_draft(official, world, draft):
    data, entries = entry_forms(draft)
    data["version"] = version_of(official, draft)
    first = entries.index(next(e for e in entries if e.rank == 1))
    data |= {
        "title": "关于2026年10月全县驻村工作队红黑榜的通报",
        "recipients": "各乡镇党委、政府，县直各派出单位：",
        "body": draft.body,
        "closing": "",
        f"entries-{first}-facts": "十月暗访发现该队队长擅自离岗三天。",
        f"entries-{first}-consequence": "通报批评，约谈派出单位分管负责人。",
    }
    last = entries.index(next(e for e in entries if e.rank == 7))
    data[f"entries-{last}-DELETE"] = "on"
    response = official.post(change_url(draft), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.title == "关于2026年10月全县驻村工作队红黑榜的通报"
    assert draft.recipients == "各乡镇党委、政府，县直各派出单位："
    entry = draft.entries.get(rank=1)
    assert entry.facts == "十月暗访发现该队队长擅自离岗三天。"
    assert entry.consequence == "通报批评，约谈派出单位分管负责人。"
    assert not draft.entries.filter(rank=7).exists()
    assert draft.entries.count() == len(entries) - 1


def test_a_change_made_meanwhile_is_never_overwritten(official, world, draft):
    data, entries = entry_forms(draft)
    data |= {"version": version_of(official, draft), "body": draft.body, "closing": ""}
    # Meanwhile a colleague edits an entry of the same draft.
    services.circular_entry_update(
        entry=entries[0], actor=world.official_a, facts="同事修改的事实", consequence="同事修改"
    )
    response = official.post(change_url(draft), data | {"title": "我的标题"}, follow=True)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "该通报草稿已被他人修改或已重新生成，请刷新页面后再修改。" in texts
    draft.refresh_from_db()
    assert draft.title != "我的标题"
    assert draft.entries.get(pk=entries[0].pk).facts == "同事修改的事实"
    # A rebuild meanwhile: the entries the page showed are gone; refused the same way.
    data["version"] = version_of(official, draft)
    services.circular_build(county=world.county_a, period=OCTOBER)
    response = official.post(change_url(draft), data | {"title": "我的标题"}, follow=True)
    assert "请刷新页面后再修改" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    draft.refresh_from_db()
    assert draft.title != "我的标题"


def test_a_published_circular_is_read_only(official, world, draft):
    services.circular_publish(circular=draft, actor=world.official_a)
    page = official.get(change_url(draft))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="title"' not in html
    assert 'name="entries-0-facts"' not in html
    assert "清驻组〔2026〕1号" in html
    assert 'id="circular-correct"' in html
    assert 'id="circular-publish"' not in html
    data, _entries = entry_forms(draft)
    response = official.post(change_url(draft), {**data, "title": "改", "body": "改"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.title != "改"
    delete = reverse("admin:reports_circular_delete", args=[draft.pk])
    assert official.post(delete, {"post": "yes"}).status_code == 403
    assert Circular.objects.filter(pk=draft.pk).exists()


def test_delete_a_draft(official, world, draft):
    page = official.get(change_url(draft))
    assert 'id="circular-publish"' in page.content.decode()
    delete = reverse("admin:reports_circular_delete", args=[draft.pk])
    assert official.post(delete, {"post": "yes"}).status_code == 302
    assert not Circular.objects.filter(pk=draft.pk).exists()


def test_publish_and_correct_actions(official, world, draft):
    official.post(CHANGELIST, {"action": "publish", "_selected_action": [draft.pk], "apply": "1"})
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("published", "清驻组〔2026〕1号")
    # The correction asks for its reason first.
    page = official.post(CHANGELIST, {"action": "correct", "_selected_action": [draft.pk]})
    assert "更正说明" in page.content.decode()
    response = official.post(
        CHANGELIST,
        {"action": "correct", "_selected_action": [draft.pk], "apply": "1", "reason": "核实更正"},
        follow=True,
    )
    correction = Circular.objects.get(supersedes=draft)
    assert correction.status == "draft"
    assert change_url(correction) in response.content.decode()
    official.post(
        CHANGELIST,
        {
            "action": "publish",
            "_selected_action": [correction.pk],
            "apply": "1",
            "published_on": "2026-11-19",
        },
    )
    correction.refresh_from_db()
    draft.refresh_from_db()
    assert (correction.number, correction.published_on) == (
        "清驻组〔2026〕2号",
        dt.date(2026, 11, 19),
    )
    assert draft.status == "superseded"
    page = official.get(change_url(draft)).content.decode()
    assert "清驻组〔2026〕2号" in page  # the old one links its correction
    assert 'id="circular-correct"' not in page


def test_a_refused_publish_is_told(official, world):
    empty = world.circular_b
    official.force_login(world.official_b)
    response = official.post(
        CHANGELIST, {"action": "publish", "_selected_action": [empty.pk], "apply": "1"}, follow=True
    )
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("没有列入红榜或黑榜的工作队，不能发布" in t for t in texts), texts
    empty.refresh_from_db()
    assert empty.status == "draft"


def test_only_a_county_admin_publishes(client, world, draft):
    """An inspector of the county sees the draft but may not publish or correct it."""
    inspector = f.user("inspector_a", Role.INSPECTOR, world.county_a)
    client.force_login(inspector)
    assert client.get(change_url(draft)).status_code == 200
    for action in ("publish", "correct", "build"):
        response = client.post(
            CHANGELIST, {"action": action, "_selected_action": [draft.pk], "apply": "1"}
        )
        assert response.status_code == 403, action
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert 'id="circular-publish"' not in client.get(change_url(draft)).content.decode()


def test_build_page_and_action(official, world, crafted, django_capture_on_commit_callbacks):
    url = reverse("admin:reports_circular_build")
    assert official.get(url).status_code == 200
    page = official.post(url, {"county": world.county_b.pk, "period": "2026-10"})
    assert "选择一个有效的选项" in page.content.decode()
    assert not CircularRun.objects.exists()
    with django_capture_on_commit_callbacks() as queued:
        response = official.post(url, {"county": world.county_a.pk, "period": "2026-10"})
    assert (response.status_code, len(queued)) == (302, 1)
    run = CircularRun.objects.get()
    assert (run.county, run.period, run.status) == (world.county_a, OCTOBER, "pending")
    services.circular_run(run_id=run.pk)  # what the queued task does
    run.refresh_from_db()
    page = official.get(url).content.decode()
    assert "已完成" in page
    assert change_url(run.circular) in page
    # The action rebuilds the selected draft's county and month.
    place(world, crafted[6], OCTOBER, 1, 7, score=99)
    place(world, world.team_a, OCTOBER, 7, 7, score=10)
    with django_capture_on_commit_callbacks() as queued:
        official.post(CHANGELIST, {"action": "build", "_selected_action": [run.circular_id]})
    assert len(queued) == 1
    again = CircularRun.objects.exclude(pk=run.pk).get()
    services.circular_run(run_id=again.pk)
    assert run.circular.entries.get(rank=1).team == crafted[6]


def test_build_page_needs_the_grant(client, world):
    client.force_login(world.township_official_a)
    assert client.get(reverse("admin:reports_circular_build")).status_code == 403


# --- files -------------------------------------------------------------------------------


FILES = ("print", "word", "xlsx")


def test_files_of_another_county_are_404_like_a_missing_id(official, world):
    for name in FILES:
        missing = official.get(reverse(f"admin:reports_circular_{name}", args=[987654321]))
        other = official.get(reverse(f"admin:reports_circular_{name}", args=[world.circular_b.pk]))
        assert (missing.status_code, other.status_code) == (404, 404), name
        mine = official.get(reverse(f"admin:reports_circular_{name}", args=[world.circular_a.pk]))
        assert mine.status_code == 200, name


def test_the_print_page(official, world, draft):
    services.circular_update(
        circular=draft,
        actor=world.official_a,
        title=draft.title,
        recipients="各乡镇党委、政府：",
        body=draft.body,
        closing=draft.closing,
    )
    services.circular_publish(circular=draft, actor=world.official_a)
    page = official.get(reverse("admin:reports_circular_print", args=[draft.pk]))
    html = page.content.decode()
    assert "@page { size: A4; margin: 37mm 26mm 35mm 28mm; }" in html
    assert "清驻组〔2026〕1号" in html
    assert "清徐县驻村工作领导小组办公室" in html
    assert "关于2026年10月驻村工作队红黑榜的通报" in html
    assert "2026年11月20日" in html
    assert "各乡镇党委、政府：" in html
    for entry in draft.entries.all():
        assert f'data-team="{entry.team_id}"' in html
        assert entry.team_name in html
    assert "草稿（未发布）" not in html


def test_a_draft_prints_as_a_draft(official, world, draft):
    html = official.get(reverse("admin:reports_circular_print", args=[draft.pk])).content.decode()
    assert "草稿（未发布）" in html
    assert "（草稿，发布时编号）" in html


def test_township_sees_published_circulars_naming_its_teams(client, world, draft):
    client.force_login(world.township_official_a)

    def listed():
        response = client.get(CHANGELIST)
        return {c.pk for c in response.context["cl"].result_list}

    assert listed() == set()  # a county's draft stays in the county
    assert client.get(change_url(draft)).status_code == 302  # like a missing id
    assert client.get(reverse("admin:reports_circular_print", args=[draft.pk])).status_code == 404
    services.circular_publish(circular=draft, actor=world.official_a)
    assert listed() == {draft.pk}
    assert client.get(reverse("admin:reports_circular_word", args=[draft.pk])).status_code == 200


# --- queries ------------------------------------------------------------------------------


def grow(world, teams, months):
    """A circular of county A for each of `months` (a published one, every other month)."""
    for i, period in enumerate(months):
        for rank, team in enumerate(teams, 1):
            place(world, team, period, rank, len(teams))
        circular = services.circular_build(county=world.county_a, period=period)
        if i % 2:
            services.circular_publish(circular=circular, actor=world.official_a)


def changelist_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.context["cl"].result_list)


# session, user, the user's region, the county filter's scoped choices, the page count, the
# page of circulars with their county and both lists' lengths in the same statement, and the
# session's expiry renewal (savepoint, update, release).
CHANGELIST_QUERIES = 9


def test_changelist_queries_do_not_grow(official, world, crafted):
    services.circular_rule_set(
        region=world.county_a,
        effective_from=dt.date(2020, 1, 1),
        name="旧规则",
        red_count=2,
        black_count=2,
        issuer="清徐县驻村办",
        number_prefix="清驻办",
        red_consequence="表扬",
        black_consequence="约谈",
    )
    months = [dt.date(2024 + m // 12, m % 12 + 1, 1) for m in range(22)]
    grow(world, crafted, months[:3])
    small = changelist_queries(official)
    grow(world, crafted, months[3:])
    large = changelist_queries(official)
    assert (small[1], large[1]) == (3, 22)
    assert (small[0], large[0]) == (CHANGELIST_QUERIES, CHANGELIST_QUERIES)
