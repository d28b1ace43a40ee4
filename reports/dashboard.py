"""The county dashboard (驻村工作看板): one admin page of charts for county, township and city
staff, each chart a link to the list behind it.

For a month (default: last month) and an area of the user's scope (their own region, or a
county or township inside it) the page shows, per part of the area (the townships of a county,
the villages of a township, the counties of anything larger):

- presence compliance: the share of the cadres serving in the month whose month met the
  presence rule, judged as the presence compliance report judges it (teams.compliance: each
  week, the month and the year's share of it). Measured on the demo county (about 330 cadres)
  this takes 0.3-0.5 s, so it runs live for a county or less. Above a county it would take
  about 0.3 s per county (2.5 s for a city of eight), so there it is read from the stored
  monthly rankings (presence_rate × members), which judge the weeks and the month only and
  exist once the month has been ranked; the chart says which source it shows;
- visit coverage: the households to visit (not closed, in villages with an active team), those
  visited in the month, and 遍访 progress (the serving cadres' average share of their village's
  households visited this year up to the month's end), counted as the visit coverage report
  counts them;
- income risk: households whose annualised per-capita net income of the month's year is under
  the monitoring line, or lower than the year before (HouseholdQuerySet.with_risk);
- findings as the ledger shows them today: in rectification and not overdue, overdue, and
  rectified but not yet verified;
- the ranking over the twelve months up to the month: the area's average score per month and,
  within a county, the rank of a chosen team or of the three last-placed teams.

Every figure comes from `visible_to(user)`, and each chart is one or a few aggregate queries, so
the page runs a fixed number of queries whatever the number of townships, teams or households.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    Sum,
    When,
)
from django.db.models.functions import Cast, Least, Round, Substr
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import (
    OPEN_STATUSES,
    SERIOUS_SEVERITIES,
    Finding,
    FindingStatus,
    MonthlyRanking,
)
from common.admin import scoped
from common.models import user_scope_prefix
from households.models import Household, VisitLog
from households.selectors import subquery_count
from teams.compliance import presence_compliance
from teams.models import Assignment, AssignmentStatus, TeamStatus, WorkTeam
from villages.models import PREFIX_LENGTH, Level, Region, Village, significant_prefix

# What each chart needs the user to be allowed to open (the list it links to).
CHART_PERMISSIONS = {
    "presence": "teams.view_attendance",
    "coverage": "households.view_visitlog",
    "risk": "households.view_household",
    "findings": "assessments.view_finding",
    "ranking": "assessments.view_monthlyranking",
}
MONTHS_SHOWN = 12
BOTTOM = 3
COLOURS = {
    "ok": "#15803d",
    "bad": "#b91c1c",
    "warn": "#d97706",
    "blue": "#2563eb",
    "grey": "#6b7280",
    "purple": "#7c3aed",
}
LINE_COLOURS = ("#b91c1c", "#d97706", "#7c3aed", "#2563eb")


def dashboard_charts(user: Any) -> list[str]:
    """The charts a user may see: those whose lists the role may open, for a user with a
    region (the three system administrators hold none and see no business rows)."""
    if user_scope_prefix(user) is None:
        return []
    return [key for key, perm in CHART_PERMISSIONS.items() if user.has_perm(perm)]


# --- months ---------------------------------------------------------------------------------


def month_add(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return month_add(month, 1) - dt.timedelta(days=1)


# --- the area and its parts -------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A region (or a village) the page shows or a chart's bar stands for, with the filters
    that narrow each linked list to it."""

    name: str
    level: int | None  # None: everything a superuser sees
    pk: int | None  # a Region's id, or a Village's id at village level
    code: str = ""
    township_id: int | None = None  # a village's township
    county_id: int | None = None  # a township's or county's county

    @property
    def prefix(self) -> str:
        return significant_prefix(self.code, self.level) if self.level else ""

    @property
    def group_level(self) -> int:
        """The level of the parts a chart shows: townships of a county, villages of a
        township, counties of anything larger."""
        if self.level in (Level.COUNTY, Level.TOWNSHIP):
            return self.level + 1
        if self.level == Level.VILLAGE:
            return Level.VILLAGE
        return Level.COUNTY

    @property
    def in_county(self) -> bool:
        """Rankings are within a county: rank lines only for a county or a part of one."""
        return self.level is not None and self.level >= Level.COUNTY

    def params(self, target: str) -> dict[str, Any]:
        """The address filters of `target`'s list that select this place."""
        if self.level == Level.COUNTY:
            return {"report": {"region": self.pk}}.get(target, {"county": self.pk})
        if self.level == Level.TOWNSHIP:
            return {"report": {"region": self.pk}}.get(target, {"township": self.pk})
        if self.level == Level.VILLAGE:
            return {
                "report": {"region": self.township_id},
                "households": {"village": self.pk},
                "findings": {"village__id__exact": self.pk},
                "rankings": {"township": self.township_id},
            }[target]
        return {}  # the user's whole scope above a county: the lists are already that


@dataclass(frozen=True)
class AreaChoices:
    """The areas a user may choose: their own region first, then the counties and townships in
    it (one query)."""

    default: Place
    options: dict[str, Place]

    @classmethod
    def for_user(cls, user: Any) -> "AreaChoices":
        # A superuser sees everything whatever region the account names.
        own = user.region if user.region_id and user_scope_prefix(user) else None
        if own is not None:
            default = Place(
                name=own.name,
                level=own.level,
                pk=own.pk,
                code=own.code,
                county_id=own.pk if own.level == Level.COUNTY else own.parent_id,
            )
        else:
            default = Place(name=_("全部"), level=None, pk=None)
        options: dict[str, Place] = {}
        rows = (
            scoped(Region, user)
            .filter(level__in=[Level.COUNTY, Level.TOWNSHIP])
            .order_by("code")
            .values_list("pk", "code", "name", "level", "parent_id")
        )
        for pk, code, name, level, parent_id in rows:
            if pk == default.pk:
                continue
            options[str(pk)] = Place(
                name=name,
                level=level,
                pk=pk,
                code=code,
                county_id=pk if level == Level.COUNTY else parent_id,
            )
        return cls(default=default, options=options)

    def get(self, value: str) -> Place:
        """The chosen area; an id not among them (missing or out of scope) is a 404."""
        if not value:
            return self.default
        if value not in self.options:
            raise Http404(_("未找到。"))
        return self.options[value]

    def choices(self) -> list:
        """Grouped by county for a scope larger than a county."""
        if self.default.level == Level.COUNTY:
            label = _("%(name)s（全县）")
        elif self.default.level in (Level.TOWNSHIP, None):
            label = "%(name)s"
        else:
            label = _("%(name)s（全部）")
        out: list = [("", label % {"name": self.default.name})]
        counties: dict[int, list] = {}
        names: dict[int, str] = {}
        for value, place in self.options.items():
            if self.default.in_county:
                out.append((value, place.name))
            elif place.level == Level.COUNTY:
                names[place.pk] = place.name
                counties.setdefault(place.pk, []).insert(
                    0, (value, _("%(name)s（全县）") % {"name": place.name})
                )
            else:
                counties.setdefault(place.county_id, []).append((value, place.name))
        for county_id, items in counties.items():
            out.append((names.get(county_id, ""), items))
        return out


def area_parts(user: Any, area: Place) -> list[Place]:
    """The parts of the area the charts show (one query)."""
    level = area.group_level
    if level == Level.VILLAGE:
        rows = (
            Village.objects.visible_to(user)
            .filter(code__startswith=area.prefix)
            .order_by("code")
            .values_list("pk", "code", "name", "township_id")
        )
        return [
            Place(name=name, level=Level.VILLAGE, pk=pk, code=code, township_id=township_id)
            for pk, code, name, township_id in rows
        ]
    rows = (
        scoped(Region, user)
        .filter(level=level, code__startswith=area.prefix)
        .order_by("code")
        .values_list("pk", "code", "name", "parent_id")
    )
    return [
        Place(
            name=name,
            level=level,
            pk=pk,
            code=code,
            county_id=pk if level == Level.COUNTY else parent_id,
        )
        for pk, code, name, parent_id in rows
    ]


# --- charts ---------------------------------------------------------------------------------


@dataclass
class Series:
    label: str
    data: list
    links: list[str]
    colour: str
    tips: list[str] | None = None
    stack: str | None = None

    def as_json(self) -> dict:
        return {
            "label": self.label,
            "data": self.data,
            "links": self.links,
            "colour": self.colour,
            "tips": self.tips or [],
            "stack": self.stack,
        }


@dataclass
class Chart:
    """One chart: what it draws, where each bar or point leads, and the same figures as a
    table (readable without script, printable)."""

    key: str
    title: str
    note: str
    link: str
    kind: str = "bar"  # "bar" (one bar per part, horizontal) or "line" (per month)
    labels: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    percent: bool = False
    reverse: bool = False  # ranks: 1 at the top
    suggested_max: int | None = None
    headers: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # {"name", "link", "cells"}
    empty: str = ""  # said instead of the chart when there is nothing to draw

    @property
    def height(self) -> int:
        if self.kind == "bar":
            return max(220, 30 * len(self.labels) + 90)
        return 300

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "link": self.link,
            "kind": self.kind,
            "labels": self.labels,
            "series": [s.as_json() for s in self.series],
            "percent": self.percent,
            "reverse": self.reverse,
            "suggestedMax": self.suggested_max,
        }


def admin_url(name: str, **params: Any) -> str:
    url = reverse(f"admin:{name}")
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url


def share(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


@dataclass(frozen=True)
class Selection:
    """What the page shows: whose scope, which area and its parts, which month, as of when."""

    user: Any
    area: Place
    parts: list[Place]
    month: dt.date
    today: dt.date

    @property
    def last(self) -> dt.date:
        return month_end(self.month)

    @property
    def until(self) -> dt.date:
        """The month's end, or today while the month runs."""
        return min(self.last, self.today)

    @property
    def length(self) -> int:
        return PREFIX_LENGTH[Level(self.area.group_level)]


def _by_part(sel: Selection, rows: dict[str, Any], empty: Any) -> list[tuple[Place, Any]]:
    return [(p, rows.get(p.code[: sel.length], empty)) for p in sel.parts]


def presence_chart(sel: Selection) -> tuple[Chart, dict]:
    """Cadres whose month met the presence rule, per part (see the module's note on the
    source)."""
    first, last = sel.month, sel.last
    report = {"start": first.isoformat(), "end": last.isoformat()}
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # met, failed, in progress
    live = sel.area.in_county
    if live:
        source = _("按各村适用的在岗规则逐周、逐月、逐年核算，与“驻村在岗情况”一致。")
        assignments = (
            Assignment.objects.visible_to(sel.user)
            .filter(team__village__code__startswith=sel.area.prefix, start__lte=last)
            .exclude(ended_on__lt=first)
            .select_related("cadre", "team", "team__village")
        )
        for result in presence_compliance(
            assignments=assignments, start=first, end=last, today=sel.today
        ):
            index = {True: 0, False: 1, None: 2}[result.ok]
            rows[result.team.village.code[: sel.length]][index] += 1
    else:
        source = _(
            "范围大于一个县，取自已计算的月度排名（按周、月核算）；该月未计算排名的县不计入。"
        )
        # presence_rate is met / members to four places, so rate × members rounds back to
        # the number of cadres who met the rule.
        for group, cadres, met in (
            MonthlyRanking.objects.visible_to(sel.user)
            .filter(period=first, team__village__code__startswith=sel.area.prefix)
            .annotate(group=Substr("team__village__code", 1, sel.length))
            .values("group")
            .annotate(cadres=Sum("members"), met=Sum(Round(F("presence_rate") * F("members"))))
            .values_list("group", "cadres", "met")
        ):
            rows[group] = [int(met), int(cadres) - int(met), 0]
    chart = Chart(
        key="presence",
        title=_("在岗达标率"),
        note=source,
        link=admin_url("teams_attendance_compliance", **report, **sel.area.params("report")),
        percent=True,
        headers=[_("范围"), _("在岗干部"), _("达标"), _("未达标"), _("进行中"), _("达标率")],
    )
    data, links, tips = [], [], []
    for place, (met, failed, running) in _by_part(sel, rows, (0, 0, 0)):
        total = met + failed + running
        link = admin_url("teams_attendance_compliance", **report, **place.params("report"))
        rate = share(met, total)
        chart.labels.append(place.name)
        data.append(rate)
        links.append(link)
        tips.append(_("达标 %(met)d / %(total)d 人") % {"met": met, "total": total})
        chart.rows.append(
            {
                "name": place.name,
                "link": link,
                "cells": [total, met, failed, running, percent(rate)],
            }
        )
    chart.series.append(Series(_("达标率"), data, links, COLOURS["ok"], tips))
    met = sum(r[0] for r in rows.values())
    total = sum(sum(r) for r in rows.values())
    if not total:
        chart.empty = (
            _("该月没有可统计的在岗干部。")
            if live
            else _("%(month)s尚未计算月度排名。") % {"month": f"{sel.month:%Y-%m}"}
        )
    return chart, {
        "title": _("在岗达标率"),
        "value": percent(share(met, total)),
        "detail": _("达标 %(met)d / %(total)d 人") % {"met": met, "total": total},
        "link": chart.link,
    }


def coverage_chart(sel: Selection) -> tuple[Chart, dict]:
    """Households visited in the month and 遍访 progress, per part, as the visit coverage
    report counts them (two queries)."""
    first, until = sel.month, sel.until
    active_team = Exists(
        WorkTeam.objects.filter(village=OuterRef("village"), status=TeamStatus.ACTIVE)
    )
    households = {
        row["group"]: row
        for row in Household.objects.visible_to(sel.user)
        .filter(village__code__startswith=sel.area.prefix, status__is_closed=False)
        .filter(active_team)
        .annotate(
            group=Substr("village__code", 1, sel.length),
            seen=Exists(
                VisitLog.objects.filter(
                    household=OuterRef("pk"), visited_on__gte=first, visited_on__lte=until
                )
            ),
        )
        .values("group")
        .annotate(targets=Count("pk"), visited=Count("pk", filter=Q(seen=True)))
    }
    targets = subquery_count(
        Household.objects.filter(village=OuterRef("team__village"), status__is_closed=False)
    )
    visited = subquery_count(
        VisitLog.objects.filter(
            cadre=OuterRef("cadre"),
            household__village=OuterRef("team__village"),
            household__status__is_closed=False,
            visited_on__gte=first.replace(month=1),
            visited_on__lte=until,
        ),
        "household",
        distinct=True,
    )
    cadres = {
        row["group"]: row
        for row in Assignment.objects.visible_to(sel.user)
        .filter(status=AssignmentStatus.ACTIVE, team__village__code__startswith=sel.area.prefix)
        .filter(
            Exists(
                WorkTeam.objects.filter(village=OuterRef("team__village"), status=TeamStatus.ACTIVE)
            )
        )
        .annotate(group=Substr("team__village__code", 1, sel.length), targets=targets, seen=visited)
        .values("group")
        .annotate(
            members=Count("pk"),
            complete=Count("pk", filter=Q(targets__gt=0, seen__gte=F("targets"))),
            progress=Avg(
                Case(
                    When(
                        targets__gt=0,
                        then=Cast(Least(F("seen"), F("targets")), FloatField())
                        / Cast(F("targets"), FloatField()),
                    ),
                    output_field=FloatField(),
                )
            ),
        )
    }
    report = {"start": first.isoformat(), "end": sel.last.isoformat()}
    chart = Chart(
        key="coverage",
        title=_("走访覆盖"),
        note=_(
            "应走访户为有在岗工作队的村中未注销的农户；遍访进度为在岗队员本年走访本村"
            "应走访户的平均比例（截至月末），与“走访覆盖情况”一致。"
        ),
        link=admin_url("households_visitlog_coverage", **report, **sel.area.params("report")),
        percent=True,
        headers=[
            _("范围"),
            _("应走访户数"),
            _("本月已走访"),
            _("本月覆盖率"),
            _("在岗队员"),
            _("完成遍访人数"),
            _("遍访进度"),
        ],
    )
    visits, progress, links, tips, tips_b = [], [], [], [], []
    for place in sel.parts:
        key = place.code[: sel.length]
        h = households.get(key, {"targets": 0, "visited": 0})
        c = cadres.get(key, {"members": 0, "complete": 0, "progress": None})
        link = admin_url("households_visitlog_coverage", **report, **place.params("report"))
        rate = share(h["visited"], h["targets"])
        done = None if c["progress"] is None else round(100 * c["progress"], 1)
        chart.labels.append(place.name)
        visits.append(rate)
        progress.append(done)
        links.append(link)
        tips.append(
            _("已走访 %(visited)d / %(targets)d 户")
            % {"visited": h["visited"], "targets": h["targets"]}
        )
        tips_b.append(
            _("完成遍访 %(complete)d / %(members)d 人")
            % {"complete": c["complete"], "members": c["members"]}
        )
        chart.rows.append(
            {
                "name": place.name,
                "link": link,
                "cells": [
                    h["targets"],
                    h["visited"],
                    percent(rate),
                    c["members"],
                    c["complete"],
                    percent(done),
                ],
            }
        )
    chart.series = [
        Series(_("本月走访覆盖率"), visits, links, COLOURS["blue"], tips),
        Series(_("遍访进度"), progress, links, COLOURS["purple"], tips_b),
    ]
    all_targets = sum(r["targets"] for r in households.values())
    all_visited = sum(r["visited"] for r in households.values())
    if not all_targets:
        chart.empty = _("范围内没有应走访的农户。")
    return chart, {
        "title": _("本月走访覆盖率"),
        "value": percent(share(all_visited, all_targets)),
        "detail": _("已走访 %(visited)d / %(targets)d 户")
        % {"visited": all_visited, "targets": all_targets},
        "link": chart.link,
    }


def risk_chart(sel: Selection) -> tuple[Chart, dict]:
    """Households whose income of the month's year is under the monitoring line or lower than
    the year before, per part (one query)."""
    year = sel.month.year
    rows = {
        row["group"]: row
        for row in Household.objects.visible_to(sel.user)
        .filter(village__code__startswith=sel.area.prefix)
        .with_risk(year=year, today=sel.today, only=("under_line", "fell"))
        .annotate(group=Substr("village__code", 1, sel.length))
        .values("group")
        .annotate(
            total=Count("pk"),
            under=Count("pk", filter=Q(under_line=True)),
            fell=Count("pk", filter=Q(fell=True)),
        )
    }

    def households(place: Place, risk: str) -> str:
        return admin_url(
            "households_household_changelist",
            risk=risk,
            income_year=year,
            **place.params("households"),
        )

    chart = Chart(
        key="risk",
        title=_("收入风险户"),
        note=_(
            "%(year)d年人均纯收入（按已登记月份年化）低于当年监测线、或低于上年的农户；"
            "尚无收入登记的农户不计入。"
        )
        % {"year": year},
        link=households(sel.area, "under_line"),
        headers=[_("范围"), _("农户数"), _("低于监测线"), _("收入低于上年")],
    )
    under, fell, under_links, fell_links = [], [], [], []
    for place, row in _by_part(sel, rows, {"total": 0, "under": 0, "fell": 0}):
        chart.labels.append(place.name)
        under.append(row["under"])
        fell.append(row["fell"])
        under_links.append(households(place, "under_line"))
        fell_links.append(households(place, "fell"))
        chart.rows.append(
            {
                "name": place.name,
                "link": under_links[-1],
                "cells": [row["total"], row["under"], row["fell"]],
            }
        )
    chart.series = [
        Series(_("低于监测线"), under, under_links, COLOURS["bad"]),
        Series(_("收入低于上年"), fell, fell_links, COLOURS["warn"]),
    ]
    total_under = sum(r["under"] for r in rows.values())
    total_fell = sum(r["fell"] for r in rows.values())
    if not sum(r["total"] for r in rows.values()):
        chart.empty = _("范围内没有农户。")
    return chart, {
        "title": _("收入低于监测线"),
        "value": _("%(n)d 户") % {"n": total_under},
        "detail": _("收入低于上年 %(n)d 户") % {"n": total_fell},
        "link": chart.link,
    }


def findings_chart(sel: Selection) -> tuple[Chart, dict]:
    """Open findings today, per part: in rectification on time, overdue, and rectified
    awaiting verification (one query)."""
    today = sel.today
    open_ = Q(status__in=OPEN_STATUSES)
    rows = {
        row["group"]: row
        for row in Finding.objects.visible_to(sel.user)
        .filter(village__code__startswith=sel.area.prefix)
        .annotate(group=Substr("village__code", 1, sel.length))
        .values("group")
        .annotate(
            on_time=Count("pk", filter=open_ & Q(deadline__gte=today)),
            overdue=Count("pk", filter=open_ & Q(deadline__lt=today)),
            waiting=Count("pk", filter=Q(status=FindingStatus.RECTIFIED)),
            serious=Count(
                "pk",
                filter=Q(status__in=[*OPEN_STATUSES, FindingStatus.RECTIFIED])
                & Q(severity__in=SERIOUS_SEVERITIES),
            ),
        )
    }
    unfinished = ",".join([*OPEN_STATUSES, FindingStatus.RECTIFIED])
    kinds = {
        "on_time": {"status__in": ",".join(OPEN_STATUSES), "overdue": "no"},
        "overdue": {"overdue": "yes"},
        "waiting": {"status__exact": FindingStatus.RECTIFIED},
    }

    def ledger(place: Place, kind: str | None = None) -> str:
        params = kinds[kind] if kind else {"status__in": unfinished}
        return admin_url("assessments_finding_changelist", **params, **place.params("findings"))

    chart = Chart(
        key="findings",
        title=_("问题整改"),
        note=_("截至今天（%(today)s）问题台账中尚未验证销号的问题。")
        % {"today": today.isoformat()},
        link=ledger(sel.area),
        headers=[
            _("范围"),
            _("整改中（未超期）"),
            _("已超期"),
            _("已整改待验证"),
            _("其中严重、重大"),
        ],
    )
    series = {k: [] for k in kinds}
    links = {k: [] for k in kinds}
    empty = {"on_time": 0, "overdue": 0, "waiting": 0, "serious": 0}
    for place, row in _by_part(sel, rows, empty):
        chart.labels.append(place.name)
        for kind in kinds:
            series[kind].append(row[kind])
            links[kind].append(ledger(place, kind))
        chart.rows.append(
            {
                "name": place.name,
                "link": ledger(place),
                "cells": [row["on_time"], row["overdue"], row["waiting"], row["serious"]],
            }
        )
    chart.series = [
        Series(
            _("整改中（未超期）"), series["on_time"], links["on_time"], COLOURS["blue"], stack="f"
        ),
        Series(_("已超期"), series["overdue"], links["overdue"], COLOURS["bad"], stack="f"),
        Series(_("已整改待验证"), series["waiting"], links["waiting"], COLOURS["grey"], stack="f"),
    ]
    totals = {k: sum(r[k] for r in rows.values()) for k in empty}
    if not sum(totals.values()):
        chart.empty = _("范围内没有未销号的问题。")
    return chart, {
        "title": _("超期未整改问题"),
        "value": _("%(n)d 个") % {"n": totals["overdue"]},
        "detail": _("未销号 %(n)d 个")
        % {"n": totals["on_time"] + totals["overdue"] + totals["waiting"]},
        "link": ledger(sel.area, "overdue"),
    }


def ranking_charts(sel: Selection, team_id: int | None) -> tuple[list[Chart], dict, list]:
    """The area's average score per month over twelve months and, within a county, the rank
    of a chosen team or of the three last placed (three queries)."""
    first = month_add(sel.month, 1 - MONTHS_SHOWN)
    months = [month_add(first, n) for n in range(MONTHS_SHOWN)]
    labels = [f"{m:%Y-%m}" for m in months]
    area = sel.area.params("rankings")
    rankings = MonthlyRanking.objects.visible_to(sel.user).filter(
        team__village__code__startswith=sel.area.prefix
    )

    def ranking_list(start: dt.date, end: dt.date, **params: Any) -> str:
        return admin_url(
            "assessments_monthlyranking_changelist",
            period__gte=start.isoformat(),
            period__lt=month_add(end, 1).isoformat(),
            **params,
        )

    per_month = {
        row["period"]: row
        for row in rankings.filter(period__gte=first, period__lte=sel.month)
        .values("period")
        .annotate(average=Avg("score"), teams=Count("pk"))
    }
    score = Chart(
        key="score",
        title=_("月度平均得分"),
        note=_("范围内参评工作队的月度得分平均值（近%(n)d个月）。") % {"n": MONTHS_SHOWN},
        link=ranking_list(first, sel.month, **area),
        kind="line",
        labels=labels,
        headers=[_("月份"), _("参评队数"), _("平均得分")],
    )
    averages, links = [], []
    for month, label in zip(months, labels, strict=True):
        row = per_month.get(month)
        average = None if row is None else float(round(row["average"], 2))
        link = ranking_list(month, month, **area)
        averages.append(average)
        links.append(link)
        score.rows.append(
            {
                "name": label,
                "link": link,
                "cells": [row["teams"] if row else 0, "-" if average is None else f"{average:.2f}"],
            }
        )
    score.series = [Series(_("平均得分"), averages, links, COLOURS["blue"])]
    if not per_month:
        score.empty = _("近%(n)d个月尚无月度排名。") % {"n": MONTHS_SHOWN}
    this_month = per_month.get(sel.month)
    summary = {
        "title": _("平均得分"),
        "value": "-" if this_month is None else f"{this_month['average']:.2f}",
        "detail": _("参评 %(n)d 队") % {"n": this_month["teams"] if this_month else 0},
        "link": ranking_list(sel.month, sel.month, **area),
    }
    charts = [score]
    if not sel.area.in_county:
        score.note += _("排名为县内排名：选择一个县或乡镇可查看工作队的排名走势。")
        return charts, summary, []
    ranked = list(
        rankings.filter(period=sel.month)
        .select_related("team")
        .order_by("rank", "team_id")
        .only("team__name", "team_id", "rank", "of", "county_id")
    )
    choices = [(r.team_id, f"{r.rank}/{r.of} {r.team.name}") for r in ranked]
    chosen = [r for r in ranked if r.team_id == team_id]
    shown = chosen or ranked[-BOTTOM:][::-1]
    ranks: dict[tuple[int, dt.date], tuple[int, int]] = {
        (t, p): (rank, of)
        for t, p, rank, of in MonthlyRanking.objects.visible_to(sel.user)
        .filter(team_id__in=[r.team_id for r in shown], period__gte=first, period__lte=sel.month)
        .values_list("team_id", "period", "rank", "of")
    }
    rank = Chart(
        key="rank",
        title=_("工作队排名走势"),
        note=_("所选工作队的县内排名（近%(n)d个月）。") % {"n": MONTHS_SHOWN}
        if chosen
        else _("%(month)s排名最后的%(n)d个工作队的县内排名（近%(m)d个月）。")
        % {"month": f"{sel.month:%Y-%m}", "n": BOTTOM, "m": MONTHS_SHOWN},
        link=ranking_list(first, sel.month, **area),
        kind="line",
        labels=labels,
        reverse=True,
        headers=[_("工作队"), *labels],
    )
    for colour, row in zip(LINE_COLOURS, shown, strict=False):
        team_link = ranking_list(first, sel.month, team__id__exact=row.team_id)
        points = [ranks.get((row.team_id, m)) for m in months]
        rank.series.append(
            Series(
                row.team.name,
                [p[0] if p else None for p in points],
                [ranking_list(m, m, team__id__exact=row.team_id) for m in months],
                colour,
                [
                    _("第%(rank)d/%(of)d名") % {"rank": p[0], "of": p[1]} if p else ""
                    for p in points
                ],
            )
        )
        rank.rows.append(
            {
                "name": row.team.name,
                "link": team_link,
                "cells": [f"{p[0]}/{p[1]}" if p else "-" for p in points],
            }
        )
    rank.suggested_max = max((of for _r, of in ranks.values()), default=None)
    if not ranked:
        rank.empty = _("%(month)s尚未计算月度排名。") % {"month": f"{sel.month:%Y-%m}"}
    charts.append(rank)
    return charts, summary, choices


BUILDERS = {
    "presence": presence_chart,
    "coverage": coverage_chart,
    "risk": risk_chart,
    "findings": findings_chart,
}


def build(
    *,
    user: Any,
    area: Place,
    month: dt.date,
    charts: list[str],
    team_id: int | None,
    today: dt.date | None = None,
) -> dict:
    """Every chart the user may see, the headline figures and the team choices."""
    today = today or timezone.localdate()
    sel = Selection(user=user, area=area, parts=area_parts(user, area), month=month, today=today)
    out: dict[str, Any] = {"charts": [], "summary": [], "teams": []}
    for key in charts:
        if key == "ranking":
            made, summary, out["teams"] = ranking_charts(sel, team_id)
            out["charts"].extend(made)
        else:
            chart, summary = BUILDERS[key](sel)
            out["charts"].append(chart)
        out["summary"].append(summary)
    return out


# --- the page -------------------------------------------------------------------------------


class MonthInput(forms.DateInput):
    """A month picker; browsers without one show a text box that takes 2026-10."""

    input_type = "month"

    def __init__(self):
        super().__init__(format="%Y-%m", attrs={"placeholder": "2026-10", "size": 8})


class DashboardForm(forms.Form):
    month = forms.DateField(
        label=gettext_lazy("月份"), input_formats=["%Y-%m"], widget=MonthInput()
    )
    area = forms.ChoiceField(label=gettext_lazy("范围"), required=False)
    # Choices are the teams ranked in the month (known once the area is read); a team that is
    # not among them, or out of scope, is ignored like a missing one.
    team = forms.CharField(label=gettext_lazy("工作队"), required=False, widget=forms.Select)

    def __init__(self, data, *, areas: AreaChoices, today: dt.date):
        self.today = today
        data = data.copy()
        if not data.get("month"):
            data["month"] = f"{month_add(today.replace(day=1), -1):%Y-%m}"
        super().__init__(data)
        self.fields["area"].choices = areas.choices()
        if len(areas.options) == 0:
            self.fields["area"].widget = forms.HiddenInput()
        self.fields["team"].widget.choices = [("", _("排名最后三名"))]

    def clean_team(self):
        value = self.data.get("team", "")
        return int(value) if value.isdigit() else None

    def clean_month(self):
        month = self.cleaned_data["month"].replace(day=1)
        if month > self.today.replace(day=1):
            raise forms.ValidationError(_("不能选择未来的月份。"))
        if month.year < 2013:
            raise forms.ValidationError(_("月份不能早于2013年。"))
        return month


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """The dashboard page (wrapped in admin_view: staff only)."""
    charts = dashboard_charts(request.user)
    if not charts:
        raise PermissionDenied
    today = timezone.localdate()
    areas = AreaChoices.for_user(request.user)
    area = areas.get(request.GET.get("area", ""))
    form = DashboardForm(request.GET, areas=areas, today=today)
    context = {
        **admin.site.each_context(request),
        "title": _("驻村工作看板"),
        "form": form,
        "area": area,
    }
    if form.is_valid():
        month = form.cleaned_data["month"]
        data = build(
            user=request.user,
            area=area,
            month=month,
            charts=charts,
            team_id=form.cleaned_data["team"],
            today=today,
        )
        form.fields["team"].widget.choices += data["teams"]
        if not data["teams"]:
            form.fields["team"].widget = forms.HiddenInput()
        context |= {
            "month": month,
            "charts": data["charts"],
            "summary": data["summary"],
            "payload": {"charts": [c.as_json() for c in data["charts"]]},
        }
    return TemplateResponse(request, "admin/dashboard.html", context)
