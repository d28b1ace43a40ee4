"""The monthly ranking of a county's teams, computed from the data in a fixed number of
queries however many teams the county has.

Metrics of a team for a month (all rates 0–1):
- presence_rate: the share of its members (serving that month) whose month met the presence
  rule in force (teams.compliance: every week and the month met, no absence found);
- visit_rate: the share of the village's households (not closed) visited that month;
- bianfang_rate: the members' average share of those households they visited this year,
  up to the month's end (遍访);
- income_rate: the share of those households with the month's income registered;
- open_findings / overdue_findings: findings about the village not verified by the month's
  end, and those of them past their deadline then;
- serious_findings: findings of the month rated 严重 or 重大.
score = 100 × Σ weight × rate / Σ weight − the penalties per finding, as the county's
IndicatorScheme in force on the month's first day says. Rank: higher score; ties: higher
presence rate, higher visit rate, fewer open findings, the older team.
"""

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q
from django.db.models.functions import Length

from households.models import Household, IncomeRecord, VisitLog
from teams.compliance import presence_compliance
from teams.models import Assignment, WorkTeam
from villages.models import Region

from .models import SERIOUS_SEVERITIES, Finding, IndicatorScheme

FOUR = Decimal("0.0001")


def month_bounds(period: dt.date) -> tuple[dt.date, dt.date]:
    first = period.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def scheme_for(county: Region, day: dt.date) -> IndicatorScheme | None:
    code = county.code
    return (
        IndicatorScheme.objects.filter(
            prefix__in=[code[:n] for n in (2, 4, 6)], effective_from__lte=day
        )
        .annotate(specific=Length("prefix"))
        .order_by("-specific", "-effective_from")
        .first()
    )


@dataclass
class TeamMetrics:
    team: WorkTeam
    members: int
    presence_rate: Decimal
    visit_rate: Decimal
    bianfang_rate: Decimal
    income_rate: Decimal
    open_findings: int
    overdue_findings: int
    serious_findings: int
    score: Decimal = Decimal(0)


def _rate(part: int, whole: int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(FOUR) if whole else Decimal(1)


def county_metrics(county: Region, period: dt.date, today: dt.date) -> list[TeamMetrics]:
    first, last = month_bounds(period)
    prefix = county.prefix
    teams = list(
        WorkTeam.objects.filter(village__code__startswith=prefix, term_start__lte=last)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=first))
        .select_related("village")
        .order_by("term_start", "id")
    )
    village_ids = [t.village_id for t in teams]
    assignments = list(
        Assignment.objects.filter(team__in=teams, start__lte=last)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=first))
        .select_related("cadre", "team", "team__village")
    )
    compliance = presence_compliance(
        assignments=assignments, start=first, end=last, today=today, kinds=("week", "month")
    )
    met: dict[int, list[bool]] = defaultdict(list)
    for result in compliance:
        met[result.team.pk].append(result.ok is True)
    open_households = Household.objects.filter(village_id__in=village_ids, status__is_closed=False)
    targets = dict(
        open_households.values("village_id").annotate(n=Count("pk")).values_list("village_id", "n")
    )
    visits = VisitLog.objects.filter(
        household__village_id__in=village_ids, household__status__is_closed=False
    )
    visited = dict(
        visits.filter(visited_on__gte=first, visited_on__lte=last)
        .values("household__village_id")
        .annotate(n=Count("household", distinct=True))
        .values_list("household__village_id", "n")
    )
    by_cadre = {
        (cadre_id, village_id): n
        for cadre_id, village_id, n in visits.filter(
            visited_on__gte=first.replace(month=1), visited_on__lte=last
        )
        .values("cadre_id", "household__village_id")
        .annotate(n=Count("household", distinct=True))
        .values_list("cadre_id", "household__village_id", "n")
    }
    incomes = dict(
        IncomeRecord.objects.filter(household__in=open_households, month=first)
        .values("household__village_id")
        .annotate(n=Count("pk"))
        .values_list("household__village_id", "n")
    )
    findings = Finding.objects.filter(village_id__in=village_ids, inspection__on__lte=last)
    unresolved = Q(verified_on__isnull=True) | Q(verified_on__gt=last)
    counts = {
        row["village_id"]: row
        for row in findings.values("village_id").annotate(
            open=Count("pk", filter=unresolved),
            overdue=Count("pk", filter=unresolved & Q(deadline__lt=last)),
            serious=Count(
                "pk", filter=Q(inspection__on__gte=first, severity__in=SERIOUS_SEVERITIES)
            ),
        )
    }
    members_of: dict[int, list[int]] = defaultdict(list)
    for a in assignments:
        members_of[a.team_id].append(a.cadre_id)
    rows = []
    for team in teams:
        v = team.village_id
        total = targets.get(v, 0)
        cadres = members_of.get(team.pk, [])
        shares = [_rate(by_cadre.get((c, v), 0), total) for c in cadres]
        row = counts.get(v, {})
        rows.append(
            TeamMetrics(
                team=team,
                members=len(cadres),
                presence_rate=_rate(sum(met[team.pk]), len(met[team.pk])),
                visit_rate=_rate(visited.get(v, 0), total),
                bianfang_rate=(sum(shares) / len(shares)).quantize(FOUR) if shares else Decimal(0),
                income_rate=_rate(incomes.get(v, 0), total),
                open_findings=row.get("open", 0),
                overdue_findings=row.get("overdue", 0),
                serious_findings=row.get("serious", 0),
            )
        )
    return rows


def score(m: TeamMetrics, scheme: IndicatorScheme) -> Decimal:
    weights = (
        (scheme.presence_weight, m.presence_rate),
        (scheme.visit_weight, m.visit_rate),
        (scheme.bianfang_weight, m.bianfang_rate),
        (scheme.income_weight, m.income_rate),
    )
    total = sum(w for w, _r in weights)
    points = Decimal(100) * sum(w * r for w, r in weights) / total
    points -= (
        scheme.open_penalty * m.open_findings
        + scheme.overdue_penalty * m.overdue_findings
        + scheme.serious_penalty * m.serious_findings
    )
    return points.quantize(Decimal("0.01"))


def order(rows: list[TeamMetrics]) -> list[TeamMetrics]:
    """Best first; ties broken as the module says (the input is ordered oldest team first)."""
    return sorted(
        rows,
        key=lambda m: (-m.score, -m.presence_rate, -m.visit_rate, m.open_findings),
    )
