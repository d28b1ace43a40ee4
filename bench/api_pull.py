"""bench api_pull: the provincial pull of 200 000 households through the API, 1 000 a page,
against a plain DRF API on the same data in the same run.

    .venv/bin/python bench/api_pull.py [--reseed]

Seeds a scratch database `<name>_bench_api` once and keeps it for later runs: the city-scale
roster (800 villages) with 250 households each (`seed_demo --scale city
--households-per-village 250 250`: 200 000 households, their members, two years of monthly
incomes; the row audit is skipped for this generated data, the sync stamps are not).

Then, as a province-role machine client with a token, through the Django test client in this
process (no network, both answers rendered to JSON bytes):
- ours: `/api/v1/households/?page_size=1000`, following `next` to the end;
- plain: a `ModelSerializer` with the same fields (the phone masked by a method that does not
  query), `select_related("village")` so that it has no N+1, and DRF's page-number pagination
  (1 000 a page, with its count) over the same scoped queryset ordered by id, mounted at
  `/plain-api/households/`.
Each full pull runs twice, interleaved (ours, plain, ours, plain); the better run of each
counts. The client takes each next link from the head of the answer and counts rows in its
bytes, so that what is timed is the server (a full JSON parse in the client would add the same
milliseconds to both). Then the first and the last page of each are requested 7 times,
interleaved, and the medians compared. The two APIs' rows are checked equal on the first
page.

Target: ours at least 3x the plain API's rows per second, and our last page no slower than
1.5x our first.
"""

import argparse
import io
import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
HOUSEHOLDS_PER_VILLAGE = 250
EXPECTED = 800 * HOUSEHOLDS_PER_VILLAGE
PAGE = 1000
RUNS = 7
TARGET_RATIO = 3.0
TARGET_LAST_FIRST = 1.5


def scratch_database() -> str:
    import environ

    environ.Env.read_env(ROOT / ".local" / "services.env")
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = (parts.path.lstrip("/") or "zhucun") + "_bench_api"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    return name


def seed(name: str, reseed: bool) -> None:
    import pgtrigger
    from django.core.management import call_command
    from django.db import connection

    from households.models import Household

    call_command("migrate", verbosity=0, interactive=False)
    count = Household.objects.count()
    if count >= EXPECTED * 0.99 and not reseed:
        return
    if count:
        raise SystemExit(f"{name} holds another world; drop it first: DROP DATABASE {name}")
    started = time.perf_counter()
    audited = [
        f"{label}:insert_insert"
        for label in (
            "households.Household",
            "households.Member",
            "households.IncomeRecord",
            "households.Monitoring",
            "households.Measure",
            "households.Pairing",
            "households.VisitLog",
            "teams.Cadre",
            "teams.Assignment",
            "teams.WorkTeam",
            "teams.DispatchingUnit",
            "teams.Attendance",
            "teams.LeaveRequest",
            "teams.DiaryEntry",
            "teams.PresenceRule",
            "villages.Region",
            "villages.Village",
        )
    ]
    with pgtrigger.ignore(*[uri for uri in audited if _trigger_exists(uri)]):
        call_command(
            "seed_demo",
            scale="city",
            seed=1,
            households_per_village=(HOUSEHOLDS_PER_VILLAGE, HOUSEHOLDS_PER_VILLAGE),
            stdout=io.StringIO(),
            stderr=sys.stderr,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded {Household.objects.count()} households in {time.perf_counter() - started:.0f} s")


def _trigger_exists(uri: str) -> bool:
    import pgtrigger

    try:
        pgtrigger.registered(uri)
    except Exception:
        return False
    return True


def plain_api():
    """What a straightforward DRF API would be: a ModelSerializer over model instances and
    page-number pagination."""
    from rest_framework import serializers, viewsets
    from rest_framework.pagination import PageNumberPagination

    from common.people import mask_phone
    from households.apis import HouseholdSerializer
    from households.models import Household

    class PlainHouseholdSerializer(serializers.ModelSerializer):
        village_code = serializers.CharField(source="village.code")
        phone = serializers.SerializerMethodField()

        class Meta:
            model = Household
            fields = HouseholdSerializer.Meta.fields

        def get_phone(self, obj) -> str:
            return mask_phone(obj.phone)

    class PlainPagination(PageNumberPagination):
        page_size = PAGE

    class PlainHouseholdViewSet(viewsets.ReadOnlyModelViewSet):
        serializer_class = PlainHouseholdSerializer
        pagination_class = PlainPagination

        def get_queryset(self):
            return (
                Household.objects.visible_to(self.request.user)
                .select_related("village")
                .order_by("id")
            )

    return PlainHouseholdViewSet


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    name = scratch_database()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    from services import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings

    settings.ZHUCUN_API_THROTTLE_RATES = {"api_client": "1000000/min", "api_user": "1/min"}
    seed(name, args.reseed)

    from django.test import Client
    from django.urls import clear_url_caches, include, path
    from rest_framework.routers import SimpleRouter

    import config.urls
    from accounts.models import User
    from accounts.roles import Role
    from accounts.services import api_token_issue
    from households.models import Household
    from villages.models import Level, Region

    router = SimpleRouter()
    router.register("households", plain_api(), basename="plain-households")
    config.urls.urlpatterns.insert(0, path("plain-api/", include(router.urls)))
    clear_url_caches()

    province = Region.objects.get(level=Level.PROVINCE)
    user = User.objects.filter(username="bench_province").first()
    if user is None:
        user = User.objects.create_user("bench_province", role=Role.PROVINCE, region=province)
    _token, key = api_token_issue(user=user, name="bench", actor=None)
    client = Client(headers={"authorization": f"Token {key}"})
    total = Household.objects.count()

    def get(url: str):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.content[:200]}")
        return response

    # The client reads the link to the next page from the head of each answer and counts the
    # rows in the bytes: the time measured is the server's, not a JSON parser's in the client
    # (the rows themselves are compared once, parsed, below).
    ours_head = re.compile(rb'^\{"next":"([^"]+)","has_more":(true|false),')
    plain_head = re.compile(rb'^\{"count":\d+,"next":(null|"[^"]+"),')

    def pull_ours() -> tuple[float, int, list[str]]:
        url, rows, urls = f"/api/v1/households/?page_size={PAGE}", 0, []
        started = time.perf_counter()
        while True:
            urls.append(url)
            content = get(url).content
            rows += content.count(b'{"id":')
            link, more = ours_head.match(content).groups()
            if more == b"false":
                break
            url = link.decode()
        return time.perf_counter() - started, rows, urls

    def pull_plain() -> tuple[float, int, list[str]]:
        url, rows, urls = "/plain-api/households/", 0, []
        started = time.perf_counter()
        while url:
            urls.append(url)
            content = get(url).content
            rows += content.count(b'{"id":')
            link = plain_head.match(content).group(1)
            url = None if link == b"null" else link[1:-1].decode()
        return time.perf_counter() - started, rows, urls

    ours_first = get(f"/api/v1/households/?page_size={PAGE}").json()["results"]
    plain_first = get("/plain-api/households/").json()["results"]
    plain_by_id = {row["id"]: row for row in plain_first}
    same = [row == plain_by_id[row["id"]] for row in ours_first if row["id"] in plain_by_id]
    if not same or not all(same):
        raise SystemExit("the two APIs do not serve the same rows")

    runs = {"ours": [], "plain": []}
    for _round in range(2):
        for label, pull in (("ours", pull_ours), ("plain", pull_plain)):
            seconds, rows, urls = pull()
            if rows != total:
                raise SystemExit(f"{label} pulled {rows} of {total} rows")
            runs[label].append((seconds, urls))
            print(f"{label:<5} full pull {seconds:6.1f} s ({rows} rows, {len(urls)} pages)")
    ours_s, ours_urls = min(runs["ours"])
    plain_s, plain_urls = min(runs["plain"])
    ours_rate, plain_rate = total / ours_s, total / plain_s

    pages = {
        "ours first": ours_urls[0],
        "ours last": ours_urls[-1],
        "plain first": plain_urls[0],
        "plain last": plain_urls[-1],
    }
    times = {label: [] for label in pages}
    for _run in range(RUNS):
        for label, url in pages.items():
            started = time.perf_counter()
            get(url)
            times[label].append((time.perf_counter() - started) * 1000)
    ms = {label: statistics.median(values) for label, values in times.items()}
    ratio = ours_rate / plain_rate
    last_first = ms["ours last"] / ms["ours first"]
    for label in pages:
        print(f"{label:<12} page {ms[label]:7.1f} ms (median of {RUNS})")
    print(
        f"database {name}: {total} households; ours {ours_rate:,.0f} rows/s, "
        f"plain {plain_rate:,.0f} rows/s; plain last/first page "
        f"{ms['plain last'] / ms['plain first']:.2f}x"
    )
    ok = ratio >= TARGET_RATIO and last_first <= TARGET_LAST_FIRST
    print(
        f"bench api_pull: {total} households, ours {ours_rate:,.0f} rows/s, "
        f"plain {plain_rate:,.0f} rows/s, ratio {ratio:.1f}x, last page {ms['ours last']:.0f} ms "
        f"vs first {ms['ours first']:.0f} ms ({last_first:.2f}x) -> "
        f"{'PASS' if ok else 'FAIL'} (target: >= {TARGET_RATIO:.0f}x the plain API, "
        f"last page <= {TARGET_LAST_FIRST}x the first)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
