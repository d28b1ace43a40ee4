"""bench workbench_load: 50 team members on the workbench at once, against a trivial page.

    .venv/bin/python bench/workbench_load.py [--duration 120] [--users 50]

Works in a scratch database `<name>_bench_workbench` that it keeps between runs: migrated
every run, seeded once with the county-scale demo data (`seed_demo --scale county --seed 1
--if-empty`, about a minute). It creates (idempotently, through accounts.services.user_create
and teams.services.cadre_link_user, audited as a command) one `team_member` login
`bench_wb_NN` per simulated user, each linked to a cadre with an active assignment in a
different village, and picks up front the households its team visits (the workbench's own
selector `work_households`: ids, 户编号 and head names) for searches and visits.

The server is gunicorn (config.wsgi) on a free loopback port, 3 gthread workers with 4 threads
each on this 2-core machine (threads, so that a slow login does not hold a whole worker), with
the production settings as they are (DEBUG off, PBKDF2 passwords, persistent database
connections, secure cookies, SSL redirect, HSTS, the real login lockout and session limits),
`DJANGO_ALLOWED_HOSTS=127.0.0.1` and a random secret key when none is set. Two things stand
in for what a loopback run lacks:
- the TLS proxy: every request carries `X-Forwarded-Proto: https` as the proxy adds it (so
  the SSL redirect, the CSRF origin check and the secure cookies work as in production), the
  clients send their secure cookies over loopback HTTP, and each request has its own
  connection, as nginx's default upstream does;
- collectstatic: a settings module in a temporary directory imports the production settings
  and only serves static files by WhiteNoise from the finders (as the local and test settings
  do) instead of the hashed manifest. The simulated phones fetch no static files; a phone
  holds them in its cache.

Load: Locust in this process (gevent), 50 users spawned 10 per second, each logging in once
on `/work/login/` (CSRF token from the form), then mixing with a think time of 1 to 3 s
(a person on a phone) the home page `/work/` (weight 4), a household search
`/work/households/?q=` by head-name or 户编号 prefix (3), a visit entry (2: the form, a think
time for filling it in, then the POST with the form's `key`) and a check-in POST (1).
Redirects are never followed; the POSTs must redirect where the workbench contract says
(visit → `/work/visits/<id>/`, check-in and login → `/work/`). An error is an answer outside
2xx/3xx, a redirect to a login page, a POST that does not redirect as expected (a re-rendered
form means nothing was recorded), a form page without its inputs, or an exception in a user.
The figures (requests per second, p50 / p95 over every request of the mix) cover the
`--duration` window that opens one think time after every user has logged in; logins are
reported apart (their PBKDF2 check is meant to be slow) but their errors count.

Baseline in the same run, before the mix: the same users and think time against `/healthz`
(one `SELECT 1` and a Redis ping, no session) of the same gunicorn for `--baseline-duration`
seconds; the ratio printed is our p95 / the baseline p95.

Target (issue): no errors, p95 under 300 ms.
"""

import argparse
import io
import itertools
import logging
import math
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import gevent
from locust import HttpUser, between, task  # importing locust monkey-patches with gevent
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
TARGET_P95_MS = 300.0
THINK_TIME = (1, 3)  # seconds between two actions of a person on a phone
SPAWN_RATE = 10  # users started per second
LOGIN_TIMEOUT = 120  # seconds for every user to have logged in before the window opens
WORKERS, THREADS = 3, 4
PASSWORD = "Zhucun@2026"  # noqa: S105 - the bench logins of a scratch database
USERNAME = "bench_wb_{:02d}"
HOUSEHOLDS_PER_USER = 30
RNG = random.Random(1)  # noqa: S311 - what the people choose, no secret
TIME_ZONE = ZoneInfo("Asia/Shanghai")  # settings.TIME_ZONE: "today" of a visit
LOGIN_PATH = "/work/login/"
LOGIN_LABELS = ("login form", "login")
MIX_LABELS = ("home", "search", "visit form", "visit save", "check-in")
SETTINGS_MODULE = "bench_workbench_settings"
SETTINGS_SHIM = '''"""Production settings; static files from the finders (no collectstatic here)."""

from config.settings.production import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
'''


def scratch_database() -> str:
    import environ

    environ.Env.read_env(ROOT / ".local" / "services.env")
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = (parts.path.lstrip("/") or "zhucun") + "_bench_workbench"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    return name


# --- the scratch world -------------------------------------------------------------------


def prepare(users: int) -> tuple[str, list[dict]]:
    """Migrate, seed once, and return a description and one plan per simulated user."""
    from services import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from households.models import Household
    from villages.models import Region, Village

    call_command("migrate", verbosity=0, interactive=False)
    if not Region.objects.exists():
        print("seeding the county-scale demo data (about a minute, kept for later runs)")
        started = time.perf_counter()
        call_command("seed_demo", scale="county", seed=1, if_empty=True, stdout=io.StringIO())
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"seeded in {time.perf_counter() - started:.0f} s")
    plans = team_members(users)
    world = (
        f"{Village.objects.count()} villages, "
        f"{Household.objects.count()} households; "
        f"{len(plans)} team-member logins in {len({p['village'] for p in plans})} villages"
    )
    connection.close()  # the load runs in greenlets; this process needs no connection
    return world, plans


def team_members(count: int) -> list[dict]:
    """One team-member login per user, each the login of a cadre on duty in its own village."""
    from axes.utils import reset as axes_reset
    from django.db import transaction
    from django.db.models import Q

    from accounts.models import User
    from accounts.roles import Role
    from accounts.services import user_create
    from common.audit import Source, audit_context
    from households.selectors import work_households
    from teams.models import Assignment, Cadre
    from teams.services import cadre_link_user

    usernames = [USERNAME.format(i) for i in range(1, count + 1)]
    free = Q(cadre__user__isnull=True) | Q(cadre__user__username__in=usernames)
    chosen: list[Assignment] = []
    villages: set[int] = set()
    # Members before leaders, villages in code order: the first county's villages come first.
    for assignment in (
        Assignment.objects.active()
        .filter(free)
        .select_related("cadre", "team__village")
        .order_by("team__village__code", "is_leader", "pk")
    ):
        if assignment.team.village_id not in villages:
            villages.add(assignment.team.village_id)
            chosen.append(assignment)
            if len(chosen) == count:
                break
    if len(chosen) < count:
        raise SystemExit(f"only {len(chosen)} villages have a free cadre on duty; use --users")
    target = {username: a.cadre for username, a in zip(usernames, chosen, strict=True)}
    with audit_context(source=Source.COMMAND, command="bench_workbench_load"):
        with transaction.atomic():
            for cadre in Cadre.objects.filter(user__username__in=usernames).select_related("user"):
                if target[cadre.user.username].pk != cadre.pk:
                    cadre_link_user(cadre=cadre, user=None)
            existing = {u.username: u for u in User.objects.filter(username__in=usernames)}
            for username, assignment in zip(usernames, chosen, strict=True):
                user = existing.get(username) or user_create(
                    username=username,
                    password=PASSWORD,
                    role=Role.TEAM_MEMBER,
                    full_name=assignment.cadre.name,
                )
                cadre_link_user(cadre=assignment.cadre, user=user)
        logging.getLogger("axes").setLevel(logging.WARNING)  # one line per reset otherwise
        for username in usernames:
            axes_reset(username=username)  # a lockout left by an earlier broken run

    plans = []
    for username, assignment in zip(usernames, chosen, strict=True):
        user = User.objects.select_related("region").get(username=username)
        rows = list(
            work_households(user=user, village_id=assignment.team.village_id)
            .order_by("code")
            .values_list("pk", "code", "head_name")[:HOUSEHOLDS_PER_USER]
        )
        if not rows:
            raise SystemExit(f"{username} sees no household in {assignment.team.village}")
        terms = sorted({t for _, code, head in rows for t in (head[:1], head[:2], code[:-2]) if t})
        plans.append(
            {
                "username": username,
                "village": assignment.team.village_id,
                "households": [pk for pk, _, _ in rows],
                "terms": terms,
            }
        )
    return plans


# --- the server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(settings_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "gthread",
        "--threads",
        str(THREADS),
        "--pythonpath",
        str(settings_dir),
        "--chdir",
        str(ROOT),
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        "--no-control-socket",  # its default is one shared path in the home directory
    ]
    with log.open("wb") as out:
        # Its own session: a Ctrl-C in the terminal reaches us, and we stop it in order.
        proc = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    import requests  # after locust's gevent monkey-patching, as locust imports it

    host = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {proc.returncode}:\n{tail(log)}")
            try:
                if requests.get(f"{host}/healthz", timeout=2).status_code == 200:
                    return proc, host
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer /healthz within 60 s:\n{tail(log)}")
    except BaseException:  # Ctrl-C included: never leave the server behind
        stop_gunicorn(proc)
        raise


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def tail(log: Path, lines: int = 30) -> str:
    """The last lines of the server log, without the routine ones (boot, axes logins)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    kept = [t for t in text.splitlines() if not t.startswith("AXES:") and "[INFO]" not in t]
    return "\n".join(kept[-lines:])


# --- the simulated people ----------------------------------------------------------------


class FormInputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.values.setdefault(named["name"], named.get("value") or "")


def form_inputs(text: str) -> dict[str, str]:
    parser = FormInputs()
    parser.feed(text)
    return parser.values


def answer_problem(response, expect: str | None) -> str | None:
    """Why an answer counts as an error, or None. `expect`: the path a POST redirects to."""
    status = response.status_code
    if not status:
        return f"no answer: {type(response.error).__name__}"
    if not 200 <= status < 400:
        return f"HTTP {status}"
    redirect = 300 <= status < 400
    location = urlsplit(response.headers.get("Location", "")).path
    if redirect and "/login/" in location:
        return f"redirect to {location}"
    if expect and not (redirect and re.fullmatch(expect, location)):
        return f"HTTP {status} {location}, expected a redirect to {expect}"
    return None


class Collector:
    """Raw response times per label, inside the measured window; login and errors always."""

    def __init__(self):
        self.measuring = False
        self.finished = False
        self.started_users = 0
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.empty_searches = 0

    def on_request(self, name, response_time, exception=None, **_kwargs):
        if not (self.measuring or (name in LOGIN_LABELS and not self.finished)):
            return
        self.times[name].append(response_time)
        if exception is not None:
            self.errors[name] += 1
            self.reasons[f"{name}: {exception}"[:200]] += 1

    def on_user_error(self, user_instance, exception, tb, **_kwargs):
        if not self.finished:
            self.errors["exception"] += 1
            self.reasons[f"exception: {exception!r}"[:200]] += 1


class Person(HttpUser):
    abstract = True
    wait_time = between(*THINK_TIME)
    collector: Collector

    def on_start(self):
        self.origin = "https://" + urlsplit(self.host).netloc
        self.client.headers["X-Forwarded-Proto"] = "https"  # what the TLS proxy adds
        # A new connection per request, as from nginx (HTTP/1.0 upstream): no keep-alive
        # race with gunicorn closing an idle connection while a person thinks.
        self.client.headers["Connection"] = "close"

    def call(self, method, path, name, *, expect=None, needs=(), referer=None, **kwargs):
        """One measured request, no redirect followed; the page's inputs, or None on error."""
        for cookie in self.client.cookies:
            # Secure cookies (production) travel over TLS to the proxy; here over loopback.
            cookie.secure = False
        headers = {}
        if method == "POST":  # what a browser sends with a form
            headers = {"Origin": self.origin, "Referer": self.origin + (referer or path)}
        with self.client.request(
            method,
            path,
            name=name,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
            timeout=30,
            **kwargs,
        ) as response:
            problem = answer_problem(response, expect)
            inputs = form_inputs(response.text) if problem is None and needs else {}
            missing = [n for n in needs if not inputs.get(n)]
            if problem is None and missing:
                problem = f"HTTP {response.status_code} without input {', '.join(missing)}"
            if problem is not None:
                response.failure(problem)
                return None
            response.success()
            listed = re.search(r'href="[^"]*/work/households/\d+/"', response.text)
            if name == "search" and self.collector.measuring and not listed:
                self.collector.empty_searches += 1
            return inputs


class HealthzPerson(Person):
    """The baseline: the same people asking for a trivial page of the same server."""

    def on_start(self):
        super().on_start()
        self.collector.started_users += 1

    @task
    def healthz(self):
        self.call("GET", "/healthz", "healthz")


class TeamMember(Person):
    plans: list[dict]
    numbers = itertools.count()

    def on_start(self):
        super().on_start()
        self.plan = self.plans[next(self.numbers) % len(self.plans)]
        try:
            inputs = self.call("GET", LOGIN_PATH, "login form", needs=("csrfmiddlewaretoken",))
            if inputs is not None:
                data = {
                    "username": self.plan["username"],
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": inputs["csrfmiddlewaretoken"],
                }
                self.call("POST", LOGIN_PATH, "login", data=data, expect="/work/")
        finally:
            self.collector.started_users += 1

    def csrf_cookie(self) -> str:
        # The login rotated the token; the cookie holds the current secret, which Django
        # accepts as the form token (the home page's check-in form carries the same one).
        return next((c.value for c in self.client.cookies if c.name == "csrftoken"), "")

    @task(4)
    def home(self):
        self.call("GET", "/work/", "home")

    @task(3)
    def search(self):
        self.call(
            "GET", "/work/households/", "search", params={"q": RNG.choice(self.plan["terms"])}
        )

    @task(2)
    def visit(self):
        path = f"/work/households/{RNG.choice(self.plan['households'])}/visit/"
        inputs = self.call("GET", path, "visit form", needs=("key", "csrfmiddlewaretoken"))
        if inputs is None:
            return
        self.wait()  # filling in the form
        data = {
            "csrfmiddlewaretoken": inputs["csrfmiddlewaretoken"],
            "key": inputs["key"],
            "visited_on": datetime.now(TIME_ZONE).date().isoformat(),
            "kind": RNG.choice(("in_person", "phone")),
            "seen": RNG.choice(
                (
                    "户主在家，身体状况良好，家中已完成春耕。",
                    "与户主电话沟通，外出务工收入稳定。",
                    "老人独居，房屋安全，饮水正常。",
                )
            ),
            "problems": RNG.choice(("", "孩子上学交通不便。", "医疗报销材料不齐。")),
            "requests": RNG.choice(("", "希望安排公益性岗位。")),
            "follow_up": RNG.choice(("", "下周协助办理医疗报销。")),
        }
        self.call("POST", path, "visit save", data=data, expect=r"/work/visits/\d+/")

    @task(1)
    def check_in(self):
        data = {"key": str(uuid.uuid4()), "csrfmiddlewaretoken": self.csrf_cookie()}
        if RNG.random() < 0.8:
            data["overnight"] = "1"
        if RNG.random() < 0.8:
            data["latitude"] = f"{26.5 + RNG.uniform(-0.5, 0.5):.6f}"
            data["longitude"] = f"{106.7 + RNG.uniform(-0.5, 0.5):.6f}"
        self.call(
            "POST", "/work/checkin/", "check-in", data=data, referer="/work/", expect="/work/"
        )


def run_load(user_class, *, host: str, users: int, seconds: float) -> tuple[Collector, float]:
    """Spawn the users, wait until all have started (logged in) and one think time more,
    then measure `seconds`."""
    collector = Collector()
    user_class.collector = collector
    env = Environment(user_classes=[user_class], host=host)
    env.events.request.add_listener(collector.on_request)
    env.events.user_error.add_listener(collector.on_user_error)
    runner = env.create_local_runner()
    try:
        runner.start(users, spawn_rate=SPAWN_RATE)
        deadline = time.monotonic() + LOGIN_TIMEOUT
        while collector.started_users < users and time.monotonic() < deadline:
            gevent.sleep(0.2)
        # Settle: every user has had one think time (the logins ended in a burst, and the
        # baseline's first requests open the workers' database connections).
        gevent.sleep(THINK_TIME[1])
        collector.measuring = True
        started = time.monotonic()
        gevent.sleep(seconds)
        collector.measuring = False
        window = time.monotonic() - started
        collector.finished = True  # requests cut short by the stop are not errors
    finally:
        runner.quit()
    return collector, window


# --- figures -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; infinite without values (no figure cannot pass)."""
    if not values:
        return math.inf
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def row(label: str, times: list[float], errors: int, window: float | None = None) -> str:
    rate = f"{len(times) / window:6.1f}/s" if window else " " * 8
    return (
        f"  {label:<11} {len(times):6d} {rate} {errors:6d} "
        f"{percentile(times, 50):7.0f} {percentile(times, 95):7.0f} "
        f"{max(times, default=math.inf):7.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120, help="seconds measured")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--baseline-duration", type=float, default=20)
    args = parser.parse_args()
    name = scratch_database()
    # A TERM (like Ctrl-C) unwinds through the finally blocks that stop gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="bench_workbench_") as tmp:
        settings_dir = Path(tmp)
        (settings_dir / f"{SETTINGS_MODULE}.py").write_text(SETTINGS_SHIM)
        sys.path.insert(0, tmp)
        os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
        os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
        os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1"
        world, plans = prepare(args.users)
        print(f"scratch database {name}: {world}")
        log = settings_dir / "gunicorn.log"
        server, host = start_gunicorn(settings_dir, log)
        try:
            print(
                f"gunicorn config.wsgi on {host}: {WORKERS} gthread workers x {THREADS} threads, "
                "production settings (X-Forwarded-Proto https, static from finders)"
            )
            print(
                f"{args.users} users, think time {THINK_TIME[0]}-{THINK_TIME[1]} s, "
                f"spawned {SPAWN_RATE}/s; windows open once all have started"
            )
            base, base_window = run_load(
                HealthzPerson, host=host, users=args.users, seconds=args.baseline_duration
            )
            TeamMember.plans, TeamMember.numbers = plans, itertools.count()
            ours, window = run_load(TeamMember, host=host, users=args.users, seconds=args.duration)
        finally:
            stop_gunicorn(server)
        log_tail = tail(log)

    header = (
        f"  {'':<11} {'reqs':>6} {'rate':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'max':>7}"
    )
    base_times = base.times["healthz"]
    base_p95 = percentile(base_times, 95)
    print(f"baseline GET /healthz, {base_window:.0f} s:")
    print(header)
    print(row("healthz", base_times, base.errors["healthz"], base_window))
    print("logins (once per user, before the window; PBKDF2):")
    print(header)
    for label in LOGIN_LABELS:
        print(row(label, ours.times[label], ours.errors[label]))
    print(f"workbench mix (home 4, search 3, visit 2, check-in 1), {window:.0f} s:")
    print(header)
    mix: list[float] = []
    for label in MIX_LABELS:
        mix += ours.times[label]
        print(row(label, ours.times[label], ours.errors[label], window))
    errors = sum(ours.errors.values()) + sum(base.errors.values())
    print(row("all", mix, sum(ours.errors[label] for label in MIX_LABELS), window))
    if ours.errors["exception"]:
        print(f"  exceptions in users: {ours.errors['exception']}")
    if ours.times["search"]:
        print(f"  searches listing no household: {ours.empty_searches}")
    if errors:
        print("errors by reason (first 10):")
        for reason, n in (ours.reasons + base.reasons).most_common(10):
            print(f"  {n:6d}  {reason}")
        print(f"gunicorn log, last lines:\n{log_tail}")

    rate = len(mix) / window
    p50, p95 = percentile(mix, 50), percentile(mix, 95)
    ok = errors == 0 and p95 < TARGET_P95_MS
    print(
        f"bench workbench_load: {args.users} users {window:.0f} s, {rate:.1f} req/s, "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, {errors} errors, "
        f"p95 {p95 / base_p95:.1f}x the /healthz baseline ({base_p95:.0f} ms) "
        f"-> {'PASS' if ok else 'FAIL'} (target: no errors, p95 < {TARGET_P95_MS:.0f} ms)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # gunicorn is stopped by then (finally blocks)
        sys.exit(130)
