"""The yearly assessment (年度考核) of a county's cadres and teams, computed from the data in
a fixed number of queries however many cadres and teams the county has.

Who is assessed, for a county and a year: every team of the county that served during the
year, and every cadre who served on a team during the year whose last team of the year is in
the county (a cadre who moved is graded once, by the county they served last).

Indicators filled from the data, each 0–100 and kept with the figures it came from; the year
runs from 1 January to 31 December, or to today while the year is still running:

- presence (驻村在岗): the cadre's weeks, months and year judged against the presence rule in
  force (teams.compliance); the score is 100 × the mean, over those kinds of period, of the
  share of decided periods met (a period still running and not yet met is not decided). A
  team scores the mean of its members' scores on that team.
- visits (入户走访): 100 × household-months visited / household-months due. A cadre owes, in
  each month they served, a visit to every household paired with them that month (一户一人,
  monthly visits); a team owes, in each month it served, a visit by anyone to every open
  household of its village. Not applicable when nothing was due.
- findings (督查问题): 100 − the scheme's deduction per finding of the year by severity − the
  overdue deduction per finding still open past its deadline at the end, never below 0. A
  cadre answers for the findings naming them; a team for the findings about it, its members,
  or its village as a whole while it served.
- income (收入成效): 100 × the share of households (a cadre's paired households of the year;
  a team's village's open households) whose annual per-capita net income of the year reaches
  the year's monitoring line and is not lower than the year before. A household with no
  income registered that year fails. Not applicable without households.

The county enters the dispatching unit's and the township's evaluations and the satisfaction
survey. Total = Σ weight × score / Σ weight over the indicators with a weight and a score (a
data indicator that does not apply is left out); empty until every weighted entered
indicator is entered. Unexplained absences: days an inspection recorded the cadre absent (for
a team: any member while on the team) not covered by approved leave or filed business.
"""

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Length, TruncMonth
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Household, HouseholdYear, Pairing, VillageIncomeLine, VisitLog
from teams.compliance import CadreCompliance, presence_compliance
from teams.models import (
    Assignment,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    Cadre,
    LeaveRequest,
    WorkTeam,
)
from villages.models import Region

from .models import (
    ENTERED_INDICATORS,
    Finding,
    Indicator,
    QuotaRounding,
    Severity,
    SubjectKind,
    YearlyCeiling,
    YearlyGrade,
    YearlyScheme,
)

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
PERIOD_NAMES = {
    "week": gettext_lazy("周"),
    "month": gettext_lazy("月"),
    "year": gettext_lazy("年度"),
}


def number(value: Decimal) -> str:
    """A decimal without trailing zeros: 25.00 → 25, 2.50 → 2.5."""
    return f"{value.normalize():f}"


def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def year_bounds(year: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """The year's first day and its last day, or today while the year is running."""
    return dt.date(year, 1, 1), min(dt.date(year, 12, 31), today)


def yearly_scheme_for(county: Region, year: int) -> YearlyScheme | None:
    """The scheme for a county's year: the most specific region, then the latest from_year
    not after the year. Its grades and ceilings come with it."""
    code = county.code
    return (
        YearlyScheme.objects.filter(prefix__in=[code[:n] for n in (2, 4, 6)], from_year__lte=year)
        .annotate(specific=Length("prefix"))
        .order_by("-specific", "-from_year")
        .prefetch_related("grades", "ceilings")
        .first()
    )


# --- grading --------------------------------------------------------------------------------


@dataclass
class Grading:
    total: Decimal | None
    score_grade: YearlyGrade | None
    ceiling: YearlyCeiling | None
    ceiling_grade: YearlyGrade | None
    ceiling_reason: str
    grade: YearlyGrade | None


def weighted_total(scheme: YearlyScheme, scores: dict[str, Decimal | None]) -> Decimal | None:
    """Σ weight × score / Σ weight over the weighted indicators that have a score; None while
    a weighted entered indicator has none (or nothing applies)."""
    parts = []
    for indicator in Indicator.values:
        weight = scheme.weight(indicator)
        if weight <= 0:
            continue
        score = scores.get(indicator)
        if score is None:
            if indicator in ENTERED_INDICATORS:
                return None
            continue
        parts.append((weight, score))
    weights = sum(w for w, _s in parts)
    if not weights:
        return None
    return q2(sum(w * s for w, s in parts) / weights)


def grade_for(grades: list[YearlyGrade], total: Decimal) -> YearlyGrade:
    """The best grade whose minimum the total reaches (the worst grade's minimum is 0)."""
    for grade in sorted(grades, key=lambda g: g.rank):
        if total >= grade.min_score:
            return grade
    return max(grades, key=lambda g: g.rank)


def ceiling_for(ceilings: list[YearlyCeiling], absences: int) -> YearlyCeiling | None:
    """The entry with the most absences that `absences` reaches, or None."""
    reached = [c for c in ceilings if absences >= c.absences]
    return max(reached, key=lambda c: c.absences) if reached else None


def grading(
    scheme: YearlyScheme,
    scores: dict[str, Decimal | None],
    absence_days: list[dt.date],
    adjusted_rank: int | None = None,
) -> Grading:
    """The total, the grade it reaches, the ceiling the absences impose and why, and the
    final grade: the worst of the score's grade, the ceiling and the county's adjustment."""
    grades = list(scheme.grades.all())
    by_rank = {g.rank: g for g in grades}
    ceiling = ceiling_for(list(scheme.ceilings.all()), len(absence_days))
    ceiling_grade = by_rank.get(ceiling.grade_rank) if ceiling else None
    reason = ""
    if ceiling_grade is not None:
        reason = _(
            "督查发现无故缺勤%(n)d次（%(days)s），按方案达到%(limit)d次最高评为“%(grade)s”。"
        ) % {
            "n": len(absence_days),
            "days": "、".join(d.isoformat() for d in sorted(absence_days)),
            "limit": ceiling.absences,
            "grade": ceiling_grade.name,
        }
    total = weighted_total(scheme, scores)
    if total is None or not grades:
        return Grading(total, None, ceiling, ceiling_grade, reason, None)
    score_grade = grade_for(grades, total)
    rank = max(
        score_grade.rank,
        ceiling_grade.rank if ceiling_grade else 0,
        adjusted_rank or 0,
    )
    return Grading(total, score_grade, ceiling, ceiling_grade, reason, by_rank[rank])


def top_quota(scheme: YearlyScheme, base: int) -> int | None:
    """How many of `base` assessments may get the top grade, or None without a quota."""
    if scheme.top_quota is None:
        return None
    rounding = {
        QuotaRounding.FLOOR: ROUND_FLOOR,
        QuotaRounding.HALF_UP: ROUND_HALF_UP,
        QuotaRounding.CEIL: ROUND_CEILING,
    }[scheme.quota_rounding]
    return int((Decimal(base) * scheme.top_quota / HUNDRED).quantize(Decimal(1), rounding))


# --- filling from the data ------------------------------------------------------------------


@dataclass
class Filled:
    """What the data say about one subject of the year."""

    kind: str
    team: WorkTeam
    cadre: Cadre | None = None
    scores: dict[str, tuple[Decimal | None, str]] = field(default_factory=dict)
    absence_days: list[dt.date] = field(default_factory=list)
    assessment: Any = None  # the assessment the service fills from this

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.cadre.pk if self.cadre else self.team.pk)


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of the months from start's to end's (empty when end < start)."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _served(start: dt.date, ended: dt.date | None, first: dt.date, last: dt.date):
    lo, hi = max(start, first), min(ended or last, last)
    return (lo, hi) if lo <= hi else None


def _presence(results: list[CadreCompliance]) -> tuple[Decimal | None, str]:
    decided: dict[str, list[bool]] = defaultdict(list)
    for result in results:
        for piece in result.pieces:
            if piece.ok is not None:
                decided[piece.kind].append(piece.ok)
    kinds = [k for k in ("week", "month", "year") if decided[k]]
    if not kinds:
        return None, _("无可评判的在岗周期（未设在岗规则或尚未满一个周期），本项不计分。")
    shares = [Decimal(sum(decided[k])) / len(decided[k]) for k in kinds]
    basis = "，".join(
        _("%(period)s达标%(met)d/%(all)d")
        % {"period": PERIOD_NAMES[k], "met": sum(decided[k]), "all": len(decided[k])}
        for k in kinds
    )
    return q2(HUNDRED * sum(shares) / len(shares)), basis + "。"


def _visits(due: set, visited: set, what: str) -> tuple[Decimal | None, str]:
    if not due:
        return None, _("无应走访的%s，本项不计分。") % what
    done = len(due & visited)
    basis = _("%(what)s应走访%(due)d户·月，已走访%(done)d户·月。") % {
        "what": what,
        "due": len(due),
        "done": done,
    }
    return q2(HUNDRED * done / len(due)), basis


def _findings(scheme: YearlyScheme, rows: list[dict], end: dt.date) -> tuple[Decimal, str]:
    deduction = {
        Severity.MINOR: scheme.minor_deduction,
        Severity.GENERAL: scheme.general_deduction,
        Severity.SERIOUS: scheme.serious_deduction,
        Severity.MAJOR: scheme.major_deduction,
    }
    counts = dict.fromkeys(deduction, 0)
    overdue = 0
    for row in rows:
        counts[row["severity"]] += 1
        unresolved = row["verified_on"] is None or row["verified_on"] > end
        overdue += unresolved and row["deadline"] < end
    points = sum(deduction[s] * n for s, n in counts.items()) + scheme.overdue_deduction * overdue
    score = max(Decimal(0), HUNDRED - points)
    if not rows:
        return HUNDRED, _("本年度无督查问题。")
    basis = _("督查问题%(all)d个（%(detail)s），超期未整改%(overdue)d个，扣%(points)s分。") % {
        "all": len(rows),
        "detail": "、".join(f"{Severity(s).label}{n}" for s, n in counts.items() if n),
        "overdue": overdue,
        "points": number(Decimal(points)),
    }
    return q2(score), basis


def _income(
    households: list[int],
    years: dict[tuple[int, int], Decimal | None],
    lines: dict[int, Decimal],
    village_of: dict[int, int],
    year: int,
    what: str,
) -> tuple[Decimal | None, str]:
    if not households:
        return None, _("无%s，本项不计分。") % what
    passed = missing = below = fell = 0
    no_line = False
    for pk in households:
        now = years.get((pk, year))
        if now is None:
            missing += 1
            continue
        line = lines.get(village_of[pk])
        before = years.get((pk, year - 1))
        ok = True
        if line is None:
            no_line = True
        elif now < line:
            below += 1
            ok = False
        if before is not None and now < before:
            fell += 1
            ok = False
        passed += ok
    basis = _(
        "%(what)s%(all)d户，达标%(passed)d户；未登记收入%(missing)d户，"
        "低于监测线%(below)d户，收入下降%(fell)d户。"
    ) % {
        "what": what,
        "all": len(households),
        "passed": passed,
        "missing": missing,
        "below": below,
        "fell": fell,
    }
    if no_line:
        basis += _("%d年度未设定监测线，未比较监测线。") % year
    return q2(HUNDRED * passed / len(households)), basis


def county_fill(county: Region, year: int, scheme: YearlyScheme, today: dt.date) -> list[Filled]:
    """The data indicators and unexplained absences of every cadre and team the county
    assesses for the year (a fixed number of queries)."""
    first, last = year_bounds(year, today)
    prefix = county.prefix
    overlap = Q(start__lte=last) & (Q(ended_on__isnull=True) | Q(ended_on__gte=first))
    teams = list(
        WorkTeam.objects.filter(village__code__startswith=prefix, term_start__lte=last)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=first))
        .select_related("village", "lead_unit")
        .order_by("village__code", "term_start", "id")
    )
    team_ids = {t.pk for t in teams}
    # Every assignment in the year of every cadre who served in the county that year.
    in_county = Assignment.objects.filter(overlap, team__village__code__startswith=prefix)
    assignments = list(
        Assignment.objects.filter(overlap, cadre_id__in=in_county.values("cadre_id"))
        .select_related("cadre", "cadre__unit", "team", "team__village")
        .order_by("cadre_id", "start", "id")
    )
    by_cadre: dict[int, list[Assignment]] = defaultdict(list)
    for a in assignments:
        by_cadre[a.cadre_id].append(a)
    cadres = {cid: rows for cid, rows in by_cadre.items() if rows[-1].team_id in team_ids}
    members: dict[int, list[Assignment]] = defaultdict(list)
    for a in assignments:
        if a.team_id in team_ids:
            members[a.team_id].append(a)

    compliance = presence_compliance(assignments=assignments, start=first, end=last, today=today)
    by_assignment = {r.assignment.pk: r for r in compliance}

    excused = LeaveRequest.objects.effective().filter(
        cadre_id=OuterRef("cadre_id"), start__lte=OuterRef("day"), end__gte=OuterRef("day")
    )
    absences = list(
        Attendance.objects.filter(
            cadre_id__in=by_cadre,
            day__gte=first,
            day__lte=last,
            status=AttendanceStatus.ABSENT,
            source=AttendanceSource.INSPECTION,
        )
        .filter(~Exists(excused))
        .values_list("cadre_id", "team_id", "day")
    )

    village_ids = {t.village_id for t in teams}
    households = list(
        Household.objects.filter(village_id__in=village_ids, status__is_closed=False).values_list(
            "pk", "village_id"
        )
    )
    village_households: dict[int, list[int]] = defaultdict(list)
    village_of: dict[int, int] = {}
    for pk, village_id in households:
        village_households[village_id].append(pk)
        village_of[pk] = village_id
    pairings = list(
        Pairing.objects.filter(cadre_id__in=cadres, start__lte=last)
        .filter(household__status__is_closed=False)
        .filter(Q(end__isnull=True) | Q(end__gte=first))
        .values_list("cadre_id", "household_id", "household__village_id", "start", "end")
    )
    for _c, household_id, village_id, _s, _e in pairings:
        village_of[household_id] = village_id
    cadre_visits = set(
        VisitLog.objects.filter(cadre_id__in=cadres, visited_on__gte=first, visited_on__lte=last)
        .annotate(month=TruncMonth("visited_on"))
        .values_list("cadre_id", "household_id", "month")
        .distinct()
    )
    village_visits = set(
        VisitLog.objects.filter(
            household__village_id__in=village_ids, visited_on__gte=first, visited_on__lte=last
        )
        .annotate(month=TruncMonth("visited_on"))
        .values_list("household_id", "month")
        .distinct()
    )
    findings = list(
        Finding.objects.filter(inspection__on__gte=first, inspection__on__lte=last)
        .filter(Q(village_id__in=village_ids) | Q(cadre_id__in=cadres))
        .values(
            "pk",
            "team_id",
            "cadre_id",
            "village_id",
            "severity",
            "deadline",
            "verified_on",
            "inspection__on",
        )
    )
    income_households = set(village_of)
    years = {
        (pk, y): per_capita
        for pk, y, per_capita in HouseholdYear.objects.filter(
            household_id__in=income_households, year__in=[year - 1, year]
        ).values_list("household_id", "year", "per_capita")
    }
    lines = dict(
        VillageIncomeLine.objects.filter(
            village_id__in={village_of[pk] for pk in income_households}, year=year
        ).values_list("village_id", "amount")
    )

    pairings_of: dict[int, list[tuple]] = defaultdict(list)
    for cadre_id, household_id, _v, start, end in pairings:
        pairings_of[cadre_id].append((household_id, start, end))
    visits_of: dict[int, set] = defaultdict(set)
    for cadre_id, household_id, month in cadre_visits:
        visits_of[cadre_id].add((household_id, month))
    findings_of_cadre: dict[int, list[dict]] = defaultdict(list)
    findings_of_village: dict[int, list[dict]] = defaultdict(list)
    for f in findings:
        if f["cadre_id"] is not None:
            findings_of_cadre[f["cadre_id"]].append(f)
        findings_of_village[f["village_id"]].append(f)
    absent_days: dict[int, set] = defaultdict(set)
    team_absences: dict[int, list[dt.date]] = defaultdict(list)
    for cadre_id, team_id, day in absences:
        absent_days[cadre_id].add(day)
        team_absences[team_id].append(day)

    filled: list[Filled] = []
    for cadre_id, rows in cadres.items():
        item = Filled(kind=SubjectKind.CADRE, team=rows[-1].team, cadre=rows[-1].cadre)
        item.scores[Indicator.PRESENCE] = _presence([by_assignment[a.pk] for a in rows])
        served = set()
        for a in rows:
            span = _served(a.start, a.ended_on, first, last)
            if span:
                served.update(_months(*span))
        due, paired = set(), set()
        for household_id, start, end in pairings_of.get(cadre_id, ()):
            paired.add(household_id)
            span = _served(start, end, first, last)
            if span:
                due.update((household_id, m) for m in _months(*span) if m in served)
        item.scores[Indicator.VISITS] = _visits(due, visits_of[cadre_id], _("结对帮扶户"))
        item.scores[Indicator.FINDINGS] = _findings(
            scheme, findings_of_cadre.get(cadre_id, []), last
        )
        item.scores[Indicator.INCOME] = _income(
            sorted(paired), years, lines, village_of, year, _("结对帮扶户")
        )
        item.absence_days = sorted(absent_days.get(cadre_id, ()))
        filled.append(item)

    for team in teams:
        item = Filled(kind=SubjectKind.TEAM, team=team)
        span = _served(team.term_start, team.ended_on, first, last)
        served = set(_months(*span)) if span else set()
        scores = [_presence([by_assignment[a.pk]])[0] for a in members.get(team.pk, [])]
        scores = [s for s in scores if s is not None]
        if scores:
            item.scores[Indicator.PRESENCE] = (
                q2(sum(scores) / len(scores)),
                _("%(n)d名队员在岗得分的平均值。") % {"n": len(scores)},
            )
        else:
            item.scores[Indicator.PRESENCE] = (None, _("无可评判的队员在岗周期，本项不计分。"))
        own = village_households.get(team.village_id, [])
        due = {(h, m) for h in own for m in served}
        item.scores[Indicator.VISITS] = _visits(due, village_visits, _("本村农户"))
        lo, hi = span or (last, first)  # no span: nothing about the village counts
        about = [
            f
            for f in findings_of_village.get(team.village_id, [])
            if f["team_id"] == team.pk or (f["team_id"] is None and lo <= f["inspection__on"] <= hi)
        ]
        item.scores[Indicator.FINDINGS] = _findings(scheme, about, last)
        item.scores[Indicator.INCOME] = _income(own, years, lines, village_of, year, _("本村农户"))
        item.absence_days = sorted(team_absences.get(team.pk, ()))
        filled.append(item)
    return filled
