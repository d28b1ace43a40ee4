"""Publishing: the number (serial per prefix and year), the frozen circular — refused by the
services and by the database —, the black list reaching the escalations, and corrections."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from assessments.models import Escalation, MonthlyRanking
from common.errors import ApplicationError
from reports import services
from reports.models import Circular, CircularEntry, CircularSerial

from .builders import OCTOBER, add_teams, place


@pytest.fixture
def draft(world, crafted):
    return services.circular_build(county=world.county_a, period=OCTOBER)


def publish(circular, actor, **kwargs):
    return services.circular_publish(circular=circular, actor=actor, **kwargs)


def september(world, teams):
    for rank, team in enumerate(teams, 1):
        place(world, team, dt.date(2026, 9, 1), rank, len(teams))
    return services.circular_build(county=world.county_a, period=dt.date(2026, 9, 1))


# --- numbers ------------------------------------------------------------------------------


def test_publish_numbers_and_freezes(world, draft):
    circular = publish(draft, world.official_a)
    assert (circular.status, circular.number, circular.serial, circular.year) == (
        "published",
        "清驻组〔2026〕1号",
        1,
        2026,
    )
    assert circular.published_on == dt.date(2026, 11, 20)
    assert circular.published_by == world.official_a
    assert list(circular.steps.values_list("action", "old", "new")) == [
        ("built", "", "draft"),
        ("published", "draft", "published"),
    ]
    # Publishing again changes nothing.
    assert publish(circular, world.official_a).number == "清驻组〔2026〕1号"
    assert CircularSerial.objects.get().last == 1


def test_serials_follow_prefix_and_year(world, crafted):
    october = services.circular_build(county=world.county_a, period=OCTOBER)
    sept = september(world, crafted)
    assert publish(sept, world.official_a).number == "清驻组〔2026〕1号"
    assert publish(october, world.official_a).number == "清驻组〔2026〕2号"
    # County B has its own prefix and starts at 1.
    (other,) = add_teams(world, 1, township=world.township_b)
    place(world, world.team_b, OCTOBER, 1, 2)
    place(world, other, OCTOBER, 2, 2)
    b = services.circular_build(county=world.county_b, period=OCTOBER)
    assert publish(b, world.official_b).number == "阳驻组〔2026〕1号"
    # A new year starts again at 1 (the year is the publishing date's).
    for rank, team in enumerate(crafted, 1):
        place(world, team, dt.date(2026, 12, 1), rank, len(crafted))
    with time_machine.travel(dt.datetime(2027, 1, 4, 2, tzinfo=dt.UTC), tick=False):
        december = services.circular_build(county=world.county_a, period=dt.date(2026, 12, 1))
        assert publish(december, world.official_a).number == "清驻组〔2027〕1号"
    assert sorted(CircularSerial.objects.values_list("number_prefix", "year", "last")) == [
        ("清驻组", 2026, 2),
        ("清驻组", 2027, 1),
        ("阳驻组", 2026, 1),
    ]


def test_a_refused_publish_leaves_no_gap(world, crafted):
    october = services.circular_build(county=world.county_a, period=OCTOBER)
    # The October ranking of a listed black team disappears: publishing fails as a whole.
    MonthlyRanking.objects.filter(team=crafted[6], period=OCTOBER).delete()
    with pytest.raises(ApplicationError, match="尚无这些工作队的月度排名"):
        publish(october, world.official_a)
    october.refresh_from_db()
    assert (october.status, october.number) == ("draft", "")
    assert not CircularSerial.objects.exists()
    place(world, crafted[6], OCTOBER, 7, 7)
    assert publish(october, world.official_a).number == "清驻组〔2026〕1号"


def test_publish_refusals(world, draft):
    with pytest.raises(ValidationError, match="成文日期不能晚于今天"):
        publish(draft, world.official_a, published_on=dt.date(2026, 11, 21))
    with pytest.raises(ValidationError, match="成文日期不能早于通报月份"):
        publish(draft, world.official_a, published_on=dt.date(2026, 9, 30))
    empty = world.circular_b  # county B: one team, on neither list
    with pytest.raises(ApplicationError, match="没有列入红榜或黑榜的工作队"):
        publish(empty, world.official_b)
    assert Circular.objects.filter(status="published").count() == 0


# --- frozen -------------------------------------------------------------------------------


def test_services_refuse_edits_of_a_published_circular(world, draft):
    circular = publish(draft, world.official_a)
    entry = circular.entries.first()
    with pytest.raises(ApplicationError, match="已发布的通报不能修改；如需修改，请发布更正。"):
        services.circular_update(
            circular=circular,
            actor=world.official_a,
            title="改",
            recipients="",
            body="改",
            closing="",
        )
    with pytest.raises(ApplicationError, match="已发布的通报不能修改"):
        services.circular_entry_update(
            entry=entry, actor=world.official_a, facts="改", consequence="改"
        )
    with pytest.raises(ApplicationError, match="已发布的通报不能删除"):
        services.circular_delete(circular=circular, actor=world.official_a)
    entry.refresh_from_db()
    assert entry.facts != "改"
    assert Circular.objects.get(pk=circular.pk).title == draft.title


def refused(action):
    frozen = r"reports: .* (cannot be changed|are frozen)"
    with pytest.raises(IntegrityError, match=frozen), transaction.atomic():
        action()


def test_the_database_refuses_too(world, draft):
    circular = publish(draft, world.official_a)
    rows = Circular.objects.filter(pk=circular.pk)
    entries = CircularEntry.objects.filter(circular=circular)
    refused(lambda: rows.update(title="改"))
    refused(lambda: rows.update(status="draft"))
    refused(lambda: rows.update(status="superseded"))  # the marking needs its time
    refused(lambda: rows.update(status="superseded", superseded_at=timezone.now(), title="改"))
    refused(lambda: rows.delete())  # its entries first: refused
    refused(lambda: entries.update(facts="改"))
    refused(lambda: entries.delete())
    refused(lambda: CircularEntry.objects.create(**_entry_copy(entries.first())))

    def raw_delete():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM reports_circular WHERE id = %s", [circular.pk])

    refused(raw_delete)
    assert Circular.objects.get(pk=circular.pk).title == draft.title
    assert entries.count() == 6
    # The one change allowed: marked superseded, nothing else.
    with transaction.atomic():
        rows.update(status="superseded", superseded_at=timezone.now(), updated_at=timezone.now())
    refused(lambda: rows.update(status="published", superseded_at=None))


def _entry_copy(entry):
    values = {
        f.attname: getattr(entry, f.attname)
        for f in CircularEntry._meta.concrete_fields
        if f.attname not in ("id", "created_at", "updated_at")
    }
    values["order"] = 99
    values["team_id"] = entry.team_id
    return values


def test_a_draft_stays_editable_and_deletable(world, draft):
    entry = draft.entries.get(rank=1)
    loaded = Circular.objects.get(pk=draft.pk).revision
    services.circular_entry_update(
        entry=entry,
        actor=world.official_a,
        facts="经查，该队队长十月擅自离岗三天。",
        consequence="通报批评",
    )
    entry.refresh_from_db()
    assert (entry.facts, entry.consequence) == ("经查，该队队长十月擅自离岗三天。", "通报批评")
    # Wording saved over the entry's change is refused: the draft's revision moved on.
    with pytest.raises(ApplicationError, match="该通报草稿已被他人修改或已重新生成"):
        services.circular_update(
            circular=draft,
            actor=world.official_a,
            title="改",
            recipients="",
            body=draft.body,
            closing="",
            revision=loaded,
        )
    assert Circular.objects.get(pk=draft.pk).revision == loaded + 1
    with pytest.raises(ValidationError, match="请填写列入事实"):
        services.circular_entry_update(
            entry=entry, actor=world.official_a, facts=" ", consequence="x"
        )
    with pytest.raises(ValidationError, match="只有更正通报才填写更正说明"):
        services.circular_update(
            circular=draft,
            actor=world.official_a,
            title=draft.title,
            recipients="",
            body=draft.body,
            closing="",
            correction_reason="不该有",
        )
    services.circular_delete(circular=draft, actor=world.official_a)
    assert not Circular.objects.filter(pk=draft.pk).exists()
    assert not CircularEntry.objects.filter(circular_id=draft.pk).exists()


# --- the black list reaches the escalations -------------------------------------------------


def test_black_list_on_publish_reaches_the_escalations(world, draft):
    """Team A ranked first but black for its serious finding: its first placement counts
    (约谈); the last three were already counted as bottom three."""
    assert not Escalation.objects.filter(team=world.team_a, period=OCTOBER).exists()
    publish(draft, world.official_a)
    listed = set(
        MonthlyRanking.objects.filter(period=OCTOBER, black_listed=True).values_list(
            "team", flat=True
        )
    )
    assert listed == set(draft.entries.filter(kind="black").values_list("team", flat=True))
    escalation = Escalation.objects.get(team=world.team_a, period=OCTOBER)
    assert (escalation.step, escalation.streak) == ("talk", 1)
    assert "列入黑榜" in escalation.basis


# --- corrections ----------------------------------------------------------------------------


def test_supersede_flow(world, draft):
    old = publish(draft, world.official_a)
    with pytest.raises(ValidationError, match="请填写更正说明"):
        services.circular_correct(circular=old, actor=world.official_a, reason=" ")
    correction = services.circular_correct(
        circular=old, actor=world.official_a, reason="东于村工作队严重问题经复核不成立。"
    )
    assert (correction.status, correction.supersedes, correction.number) == ("draft", old, "")
    assert correction.entries.count() == old.entries.count()
    assert correction.title == old.title
    # Asking again returns the same draft.
    assert services.circular_correct(circular=old, actor=world.official_a, reason="x") == correction
    # The old one cannot be corrected by a second, parallel draft, nor be republished.
    with pytest.raises(ApplicationError, match="草稿可以直接修改"):
        services.circular_correct(circular=correction, actor=world.official_a, reason="x")
    # Staff take team A off the black list of the correction; the others move up.
    services.circular_entry_remove(
        entry=correction.entries.get(team=world.team_a), actor=world.official_a
    )
    assert list(correction.entries.filter(kind="black").values_list("order", "rank")) == [
        (1, 5),
        (2, 6),
        (3, 7),
    ]
    new = publish(correction, world.official_a)
    old.refresh_from_db()
    assert (new.status, new.number) == ("published", "清驻组〔2026〕2号")
    assert old.status == "superseded"
    assert old.superseded_at is not None
    assert old.number == "清驻组〔2026〕1号"
    assert old.entries.count() == 6  # the old circular is otherwise unchanged
    assert [s.action for s in old.steps.all()] == ["built", "published", "superseded"]
    # The rankings follow the correction's black list; team A's pending step is withdrawn.
    assert not MonthlyRanking.objects.get(team=world.team_a, period=OCTOBER).black_listed
    assert not Escalation.objects.filter(team=world.team_a, period=OCTOBER).exists()
    # A superseded circular is corrected no more; the correction can be corrected in turn.
    with pytest.raises(ApplicationError, match="该通报已被更正"):
        services.circular_correct(circular=old, actor=world.official_a, reason="再改")
    again = services.circular_correct(circular=new, actor=world.official_a, reason="再次更正")
    assert (again.supersedes, again.entries.count()) == (new, 5)


def test_one_published_circular_per_county_and_month(world, draft):
    publish(draft, world.official_a)
    # A second plain draft of the month cannot be built, nor published if made by hand.
    with pytest.raises(ApplicationError, match="请发布更正"):
        services.circular_build(county=world.county_a, period=OCTOBER)
    correction = services.circular_correct(circular=draft, actor=world.official_a, reason="更正")
    Circular.objects.filter(pk=correction.pk).update(supersedes=None)
    correction.refresh_from_db()
    with pytest.raises(ApplicationError, match="该县该月已有发布的通报（清驻组〔2026〕1号）"):
        publish(correction, world.official_a)
