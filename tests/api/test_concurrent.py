"""Pulls while other transactions write (real commits, real threads).

- A row written by a transaction that commits late, after a younger transaction has
  committed, is neither skipped nor served before it is committed: the feed holds the
  younger row back until the older transaction ends. A cursor on `updated_at` would have
  stepped past the late row — the test shows the timestamps that make it so.
- A long write transaction in another database of the cluster does not hold the feed back.
- A pull that pages through while another thread inserts, updates and deletes households —
  some of its transactions held open across the reader's pages — ends with a mirror equal to
  the database, and never receives the same version of a row twice.
"""

import random
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from django.conf import settings
from django.db import close_old_connections, connection, transaction

from common.api.routers import registry
from households import services as hs
from households.models import Household
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

URL = "/api/v1/households/"


def drain(client, url, **params):
    rows, response = [], client.get(url, params)
    while True:
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        rows += body["results"]
        if not body["has_more"]:
            return rows, body["next"]
        response = client.get(body["next"])


class Holder(threading.Thread):
    """Runs `work` in its own transaction and keeps it open until released."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.done_work, self.release, self.error = work, threading.Event(), None, None
        self.release = threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                self.work()
                self.done_work.set()
                assert self.release.wait(30)
        except Exception as exc:  # reported by the test
            self.error = exc
            self.done_work.set()
        finally:
            connection.close()


def test_a_late_commit_is_held_back_not_skipped(world, callers):
    client = callers["province"].client
    _rows, resume = drain(client, URL)
    older = Holder(lambda: hs.household_update(household=world.household_a, card_colour="red"))
    older.start()
    assert older.done_work.wait(10)
    assert older.error is None
    # A younger transaction writes another household and commits first.
    hs.household_update(household=world.household_b, card_colour="yellow")

    held, resume_held = drain(client, resume)
    assert held == []  # B waits for A's older transaction; A is not committed yet

    older.release.set()
    older.join(10)
    assert older.error is None
    rows, _resume = drain(client, resume_held)
    assert [(r["id"], r["card_colour"]) for r in rows] == [
        (world.household_a.pk, "red"),
        (world.household_b.pk, "yellow"),
    ]
    # What a cursor on updated_at would have done: B's time is later than A's, so a client
    # that had received B first would have resumed after B and never seen A's change.
    a, b = (
        Household.objects.get(pk=h.pk).updated_at for h in (world.household_a, world.household_b)
    )
    assert a < b


def other_database_url() -> str:
    db = settings.DATABASES["default"]
    parts = urlsplit(f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres")
    return urlunsplit(parts)


def server_params(**override) -> dict:
    """How the test's own connection reaches its server (host and port may sit in OPTIONS,
    as for a socket directory), for a second connection to the same server."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    return {**params, **override}


def test_a_writer_in_another_database_does_not_hold_the_feed(world, callers):
    other = psycopg2.connect(**server_params(dbname="postgres"))
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()")  # an open transaction with an id
        client = callers["province"].client
        _rows, resume = drain(client, URL)
        hs.household_update(household=world.household_a, card_colour="red")
        rows, _ = drain(client, resume)
        assert [r["id"] for r in rows] == [world.household_a.pk]
    finally:
        other.rollback()
        other.close()


def test_a_writer_in_this_database_holds_the_feed_until_it_ends(world, callers):
    same = psycopg2.connect(**server_params())
    try:
        with same.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()")
        client = callers["province"].client
        _rows, resume = drain(client, URL)
        hs.household_update(household=world.household_a, card_colour="red")
        held, resume = drain(client, resume)
        assert held == []
    finally:
        same.rollback()
        same.close()
    rows, _ = drain(client, resume)
    assert [r["id"] for r in rows] == [world.household_a.pk]


def test_mirror_equals_the_database_after_pulling_through_churn(world, callers):
    """Two writers, each on its own households (no lock waits between them), each sometimes
    holding its transaction open while the other commits — the late commits a cursor on
    write order must not skip — and a reader paging through both feeds all along."""
    client = callers["province"].client
    owned: list[list[int]] = [[], []]
    for i in range(40):
        village = world.village_a if i % 2 else world.village_b
        owned[i % 2].append(f.household(village, f"{village.code}{i + 100:04d}").pk)
    stop_at = time.monotonic() + 12
    errors: list[BaseException] = []
    writes = {"insert": 0, "update": 0, "delete": 0, "held": 0}
    lock = threading.Lock()

    def writer(k: int):
        rnd, ids, serial = random.Random(2026 + k), owned[k], 1000 * (k + 2)
        try:
            while time.monotonic() < stop_at:
                op = rnd.choice(["insert", "update", "update", "delete"] if ids else ["insert"])
                hold = rnd.random() < 0.3  # stays open while the other writer commits
                with transaction.atomic():
                    if op == "insert":
                        serial += 1
                        village = rnd.choice([world.village_a, world.village_b])
                        created = f.household(village, f"{village.code}{serial:04d}")
                    elif op == "update":
                        household = Household.objects.get(pk=rnd.choice(ids))
                        hs.household_update(
                            household=household,
                            card_colour=rnd.choice(["red", "blue", "yellow"]),
                            relocated=not household.relocated,
                        )
                    else:
                        victims = rnd.sample(ids, min(2, len(ids)))
                        Household.objects.filter(pk__in=victims).delete()
                    if hold:
                        time.sleep(rnd.uniform(0.05, 0.3))
                if op == "insert":
                    ids.append(created.pk)
                elif op == "delete":
                    ids[:] = [i for i in ids if i not in victims]
                with lock:
                    writes[op] += 1
                    writes["held"] += hold
                time.sleep(rnd.uniform(0, 0.02))
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(k,), daemon=True) for k in (0, 1)]
    mirror: dict[int, dict] = {}
    served: list[tuple[int, str]] = []
    feeds = {
        "data": f"{URL}?page_size=5",
        "deletions": "/api/v1/deletions/?resource=households&page_size=5",
    }

    def pull(kind: str) -> bool:
        """One page of a feed into the mirror; whether more is available now."""
        response = client.get(feeds[kind])
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        for row in body["results"]:
            if kind == "data":
                mirror[row["id"]] = row
                served.append((row["id"], row["updated_at"]))
            else:
                mirror.pop(row["object_id"], None)
        feeds[kind] = body["next"]
        return body["has_more"]

    for thread in threads:
        thread.start()
    pages = 0
    while any(t.is_alive() for t in threads):
        pull("data")
        pull("deletions")
        pages += 1
    for thread in threads:
        thread.join()
    assert not errors, errors
    # The writers have stopped: drain both feeds to the end.
    while pull("data"):
        pass
    while pull("deletions"):
        pass

    plan = registry()["households"].serializer_class.plan()
    database = {
        row["id"]: row
        for row in plan.rows(Household.objects.order_by("pk").values_list(*plan.columns))
    }
    for kind in ("insert", "update", "delete", "held"):
        assert writes[kind] > 3, writes
    assert pages > 20, pages
    assert mirror == database
    assert len(served) == len(set(served)), "a version of a row was served twice"
