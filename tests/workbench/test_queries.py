"""Every workbench page runs the same number of queries with 10 and with 100 households in
the village, and weighs under 100 KB with its stylesheet and script (before images)."""

import datetime as dt
import uuid
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households import services as hs
from teams import presence

from .. import factories as f
from ..reports.builders import publish_circulars

NOW = dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC)
ASSETS = [Path(settings.BASE_DIR, "static/work", name) for name in ("work.css", "work.js")]

# Every page: session and user (2), the active assignment with cadre, team and village (1),
# the session saved for the idle timeout (savepoint, update, release: 3); pages that read
# through visible_to() also load the user's region (1). Then each page's own reads:
BASE, REGION = 6, 1
PAGES = {
    # attendance today, coverage aggregate, due list, missing incomes, open findings,
    # circulars naming my team
    "/work/": BASE + REGION + 6,
    # one list query with the flags
    "/work/households/": BASE + REGION + 1,
    "/work/households/?q=户主": BASE + REGION + 1,
    # household, members, visits, incomes, pairing
    "/work/households/{household}/": BASE + REGION + 5,
    # household
    "/work/households/{household}/visit/": BASE + REGION + 1,
    # household, pairing check, incomes of two months
    "/work/households/{household}/income/": BASE + REGION + 3,
    # my visits
    "/work/visits/": BASE + REGION + 1,
    # the visit
    "/work/visits/{visit}/": BASE + REGION + 1,
    # my leave
    "/work/leave/": BASE + REGION + 1,
    "/work/leave/new/": BASE,
    "/work/leave/{leave}/": BASE + REGION + 1,
    # my diary
    "/work/diary/": BASE + REGION + 1,
    "/work/diary/new/": BASE,
    # two compliance runs of three queries each (rules, attendance, leave)
    "/work/presence/": BASE + 6,
    # the finding with its inspection and subject
    "/work/findings/{finding}/": BASE + REGION + 1,
    # my team's entry with its circular
    "/work/circulars/{circular}/": BASE + REGION + 1,
}


def grow(world, n: int) -> dict:
    """Village A with `n` households, half of them paired with the member, some visited."""
    for i in range(n - 1):
        household = f.household(world.village_a, f"{world.village_a.code}{i + 2:04d}")
        f.member(household, f"户主{i:03d}", relation="head")
        if i % 2 == 0:
            hs.pairing_assign(household=household, cadre=world.cadre_a, start=dt.date(2026, 1, 1))
        if i % 3 == 0:
            hs.visit_record(
                household=household,
                cadre=world.cadre_a,
                visited_on=dt.date(2026, 11, 2 + i % 10),
                kind="in_person",
                seen="正常",
                client_key=uuid.uuid4(),
            )
        if i % 4 == 0:
            f.income(household, dt.date(2026, 10, 1), wage=900)
    for day in range(1, 18):
        presence.attendance_check_in(cadre=world.cadre_a, overnight=True, at=NOW.replace(day=day))
    # --- circulars (reports): published circulars naming team A, one or three of them ---
    months = [dt.date(2026, m, 1) for m in (10, 9, 8)][: 1 if n < 50 else 3]
    circular = publish_circulars(world, months)
    return {
        "household": world.household_a.pk,
        "visit": world.visit_a.pk,
        "leave": world.leave_a.pk,
        "finding": world.finding_a.pk,
        "circular": circular.pk,
    }


def measure(client, ids) -> dict[str, int]:
    counts = {}
    for page in PAGES:
        url = page.format(**ids)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[page] = len(queries)
    return counts


@pytest.mark.parametrize("size", [10, 100])
def test_same_queries_at_two_sizes(world, client, size):
    with time_machine.travel(NOW, tick=False):
        ids = grow(world, size)
        client.force_login(world.member_a)
        assert measure(client, ids) == PAGES


def test_pages_weigh_under_100_kb(world, client):
    with time_machine.travel(NOW, tick=False):
        ids = grow(world, 100)
        client.force_login(world.member_a)
        assets = sum(p.stat().st_size for p in ASSETS)
        for page in PAGES:
            html = client.get(page.format(**ids)).content
            assert len(html) + assets < 100 * 1024, (page, len(html), assets)
