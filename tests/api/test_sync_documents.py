"""Incremental sync of the circulars and the yearly assessments: a circular comes when it is
published and again when a correction supersedes it, an assessment when it is finalized;
drafts never come; a changed entry or score restamps its parent in the database, without an
empty audit event; the freeze of a published circular holds beside the stamp; deleted drafts
leave tombstones in scope (see test_sync.py for the general rules)."""

import pghistory.models
import pytest
from django.db import IntegrityError, connection, transaction

from assessments import services as assessments
from assessments.models import Assessment, AssessmentScore
from common.models import Tombstone
from reports import services as reports
from reports.models import Circular, CircularEntry

from .conftest import black_list_draft, finalize_assessment, publish_circular
from .test_sync import committed, drain


def stamp(model, pk) -> int:
    return model.objects.values_list("sync_xid", flat=True).get(pk=pk)


@committed
def test_a_circular_comes_when_published_and_again_when_superseded(world, callers):
    client, actor = callers["province"].client, world.official_a
    rows, resume = drain(client, "/api/v1/circulars/")
    assert rows == []  # the world's drafts are not served

    published = publish_circular(county=world.county_a, team=world.team_a, actor=actor)
    rows, resume = drain(client, resume)
    assert [(r["id"], r["status"], r["number"]) for r in rows] == [
        (published.pk, "published", published.number)
    ]
    (entry,) = rows[0]["entries"]
    assert (entry["team"], entry["kind"], entry["by_finding"]) == (world.team_a.pk, "black", True)
    old_facts = entry["facts"]

    # A correction is drafted and one of its entries reworded: still a draft, not served.
    correction = reports.circular_correct(circular=published, actor=actor, reason="更正列入事实")
    (copied,) = correction.entries.all()
    reports.circular_entry_update(
        entry=copied, actor=actor, facts="更正后的列入事实。", consequence=copied.consequence
    )
    rows, resume = drain(client, resume)
    assert rows == []

    reports.circular_publish(circular=correction, actor=actor)
    rows, resume = drain(client, resume)
    assert [(r["id"], r["status"], r["supersedes"]) for r in rows] == [
        (published.pk, "superseded", None),
        (correction.pk, "published", published.pk),
    ]
    assert rows[0]["superseded_at"] is not None
    assert [e["facts"] for e in rows[0]["entries"]] == [old_facts]
    assert [e["facts"] for e in rows[1]["entries"]] == ["更正后的列入事实。"]
    assert drain(client, resume)[0] == []


@committed
def test_a_changed_entry_restamps_its_circular_without_an_empty_audit_event(world):
    draft = black_list_draft(county=world.county_a, team=world.team_a)
    updated_at = Circular.objects.get(pk=draft.pk).updated_at
    events = pghistory.models.Events.objects.tracks(draft).count()
    entries = CircularEntry.objects.filter(circular=draft)

    before = stamp(Circular, draft.pk)
    entries.update(facts="直接改写的列入事实。")  # no service: the database still restamps
    assert stamp(Circular, draft.pk) > before
    (entry,) = entries
    before = stamp(Circular, draft.pk)
    entries.delete()
    assert stamp(Circular, draft.pk) > before
    before = stamp(Circular, draft.pk)
    entry.pk = None
    entry.save()
    assert stamp(Circular, draft.pk) > before

    assert pghistory.models.Events.objects.tracks(draft).count() == events
    assert Circular.objects.get(pk=draft.pk).updated_at == updated_at


def test_a_published_circular_stays_frozen_beside_the_stamp(world):
    circular = publish_circular(county=world.county_a, team=world.team_a, actor=world.official_a)
    rows = Circular.objects.filter(pk=circular.pk)
    for change in ({"title": "改过的标题"}, {"sync_xid": 0}):  # a bare restamp is a change too
        with pytest.raises(IntegrityError, match="cannot be changed"), transaction.atomic():
            rows.update(**change)
    entries = CircularEntry.objects.filter(circular=circular)
    with pytest.raises(IntegrityError, match="frozen"), transaction.atomic():
        entries.update(facts="改写")
    with pytest.raises(IntegrityError, match="frozen"), transaction.atomic():
        entries.delete()
    with (
        pytest.raises(IntegrityError, match="cannot be changed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM reports_circular WHERE id = %s", [circular.pk])
    # The one allowed move, marking it superseded, still passes (and restamps it).
    correction = reports.circular_correct(circular=circular, actor=world.official_a, reason="更正")
    reports.circular_publish(circular=correction, actor=world.official_a)
    circular.refresh_from_db()
    assert circular.status == "superseded"
    assert circular.title != "改过的标题"


@committed
def test_an_assessment_comes_when_finalized(world, callers):
    client, actor = callers["province"].client, world.official_a
    rows, resume = drain(client, "/api/v1/assessments/")
    assert rows == []  # the world's assessments are drafts

    draft = assessments.assessment_enter_scores(
        assessment=world.assessment_a,
        actor=actor,
        scores={"unit": 50, "township": 50, "survey": 50},
    )
    submitted = assessments.assessment_submit(assessment=draft, actor=actor)
    assert drain(client, resume)[0] == []  # scored and submitted: not served yet

    assessments.assessment_finalize(assessments=[submitted], actor=actor)
    rows, resume = drain(client, resume)
    assert [(r["id"], r["state"], r["grade"]) for r in rows] == [
        (draft.pk, "finalized", submitted.grade)
    ]
    scores = {s["indicator"]: (s["score"], s["source"]) for s in rows[0]["scores"]}
    assert scores["unit"] == ("50.00", "entered")
    assert set(scores) == {"presence", "visits", "findings", "income", "unit", "township", "survey"}
    assert drain(client, resume)[0] == []


@committed
def test_a_changed_score_restamps_its_assessment_without_an_empty_audit_event(world):
    assessment = Assessment.objects.get(pk=world.assessment_a.pk)
    events = pghistory.models.Events.objects.tracks(assessment).count()
    before = stamp(Assessment, assessment.pk)
    AssessmentScore.objects.filter(assessment=assessment, indicator="unit").update(score=60)
    assert stamp(Assessment, assessment.pk) > before
    after = Assessment.objects.get(pk=assessment.pk)
    assert (after.updated_at, after.version) == (assessment.updated_at, assessment.version)
    assert pghistory.models.Events.objects.tracks(assessment).count() == events

    # Once finalized, nothing restamps it: its scores cannot change at all.
    finalized = finalize_assessment(after, actor=world.official_a)
    before = stamp(Assessment, finalized.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        AssessmentScore.objects.filter(assessment=finalized).update(score=100)
    assert stamp(Assessment, finalized.pk) == before


def test_deleted_drafts_leave_tombstones_in_scope(world, callers):
    draft = black_list_draft(county=world.county_b, team=world.team_b)  # with its entry
    reports.circular_delete(circular=draft, actor=world.official_b)
    gone = Assessment.objects.get(kind="team", team=world.team_a, year=2026).pk
    Assessment.objects.filter(pk=gone).delete()  # with its scores, as a refill drops a draft

    seen = {
        (r["resource"], r["object_id"])
        for r in drain(callers["province"].client, "/api/v1/deletions/")[0]
    }
    assert {("circulars", draft.pk), ("assessments", gone)} <= seen
    in_a = drain(callers["county_admin"].client, "/api/v1/deletions/", resource="assessments")[0]
    assert [(r["resource"], r["object_id"]) for r in in_a] == [("assessments", gone)]
    in_a = drain(callers["county_admin"].client, "/api/v1/deletions/", resource="circulars")[0]
    assert in_a == []
    codes = dict(Tombstone.objects.values_list("model", "scope_code"))
    assert codes["reports.circular"] == world.county_b.code
    assert codes["assessments.assessment"] == world.village_a.code
