"""The scope case of every API resource: (an object of county A, its twin in county B).

One line per read resource. The scope walk (test_scope.py) runs every read resource the
routers serve with every role; a resource without a case here fails it. A workflow endpoint
(not a SyncViewSet: an export request, say) names its own scope test in OTHER_SCOPE_TESTS.
"""

import datetime as dt

from django.db.models import Q

from common.models import Tombstone

from .conftest import finalize_assessment, publish_circular


def _deleted_twins(world):
    """Tombstones in A and B: a measure of each county's household, created and deleted."""
    from households import services as hs

    ids = []
    for household in (world.household_a, world.household_b):
        measure = hs.measure_add(household=household, kind="other", start=dt.date(2026, 1, 1))
        ids.append(measure.pk)
        measure.delete()  # as a superuser's delete in the admin would
    by_object = {t.object_id: t for t in Tombstone.objects.filter(model="households.measure")}
    return by_object[ids[0]], by_object[ids[1]]


def _published_circulars(world):
    """Each county's circular of last month, published with its team on the black list;
    county A then drafts a correction, which the API does not serve (SERVED)."""
    from reports import services as reports

    a = publish_circular(county=world.county_a, team=world.team_a, actor=world.official_a)
    b = publish_circular(county=world.county_b, team=world.team_b, actor=world.official_b)
    reports.circular_correct(circular=a, actor=world.official_a, reason="更正名单")
    return a, b


def _finalized_assessments(world):
    """Each county's yearly assessment of its cadre, finalized; the teams' assessments stay
    drafts, which the API does not serve (SERVED)."""
    return (
        finalize_assessment(world.assessment_a, actor=world.official_a),
        finalize_assessment(world.assessment_b, actor=world.official_b),
    )


CASES = {
    "regions": lambda w: (w.village_a.region, w.village_b.region),
    "villages": lambda w: (w.village_a, w.village_b),
    "units": lambda w: (w.unit_a, w.unit_b),
    "teams": lambda w: (w.team_a, w.team_b),
    "cadres": lambda w: (w.cadre_a, w.cadre_b),
    "assignments": lambda w: (w.assignment_a, w.assignment_b),
    "attendance": lambda w: (w.attendance_a, w.attendance_b),
    "leave": lambda w: (w.leave_a, w.leave_b),
    "households": lambda w: (w.household_a, w.household_b),
    "members": lambda w: (w.person_a, w.person_b),
    "incomes": lambda w: (w.income_a, w.income_b),
    "monitoring": lambda w: (w.monitoring_a, w.monitoring_b),
    "measures": lambda w: (w.measure_a, w.measure_b),
    "pairings": lambda w: (w.pairing_a, w.pairing_b),
    "visits": lambda w: (w.visit_a, w.visit_b),
    "inspections": lambda w: (w.inspection_a, w.inspection_b),
    "findings": lambda w: (w.finding_a, w.finding_b),
    "rankings": lambda w: (w.ranking_a, w.ranking_b),
    "escalations": lambda w: (w.escalation_a, w.escalation_b),
    "assessments": _finalized_assessments,
    "circulars": _published_circulars,
    "deletions": _deleted_twins,
}

# Rows scoped by a county's own code (not by a village's): township staff see none of them.
COUNTY_SCOPED = {"escalations"}

# Resources that serve only some of the rows in a role's scope (the rest are the county's
# working copies): resource → the rows served, stated here apart from the selectors.
SERVED = {
    "circulars": Q(status__in=["published", "superseded"]),
    "assessments": Q(state="finalized"),
}

# Workflow endpoints: resource → "module::test" that proves its scope (it must exist).
OTHER_SCOPE_TESTS: dict[str, str] = {
    "exports": "tests.api.test_exports::test_jobs_are_their_requesters_only",
    "imports": "tests.reports.test_import_api::test_another_countys_job_and_report_are_404",
}
