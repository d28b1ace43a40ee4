"""Who goes on a county's red and black lists for a month, and the facts that put them there.

Read from the stored monthly ranking (assessments.MonthlyRanking: every metric, score, rank of
`of`) and the findings of the month, in a fixed number of queries however many teams the
county has. The rule in force (CircularRule: most specific region, then latest date) says:

- red: up to `red_count` teams, best first, from the upper half of the ranking
  (rank ≤ of // 2); a team with a serious finding (严重/重大) in the month is skipped when
  `serious_bars_red`, and the next one takes its place;
- black: the last `black_count` places of the lower half (rank > of − min(black_count,
  of // 2)), and, when `serious_forces_black`, every ranked team with a serious finding in
  the month whatever its rank;
- a team is never on both lists (black wins), and halves keep the two lists apart in a small
  county: one team alone is on neither list.

A serious finding "of a team" is one about the team's village, inspected in the month, that
names this team or no team at all (a finding naming an earlier team of the village is that
team's).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models.functions import Length
from django.utils.translation import gettext as _

from assessments.models import SERIOUS_SEVERITIES, Finding, MonthlyRanking
from assessments.ranking import month_bounds
from villages.models import Region

from .models import CircularRule, EntryKind

METRICS = (
    "presence_rate",
    "visit_rate",
    "bianfang_rate",
    "income_rate",
    "open_findings",
    "overdue_findings",
    "serious_findings",
)
TEMPLATE_KEYS = ("county", "year", "month")


def rule_for(county: Region, period: dt.date) -> CircularRule | None:
    """The rule in force for a county in a month (on its first day)."""
    return (
        CircularRule.objects.for_code(county.code)
        .filter(effective_from__lte=period.replace(day=1))
        .annotate(specific=Length("prefix"))
        .order_by("-specific", "-effective_from")
        .first()
    )


@dataclass
class Pick:
    """A team picked for a list, with everything its entry quotes."""

    kind: str
    ranking: MonthlyRanking
    findings: list[dict] = field(default_factory=list)
    by_rank: bool = False
    by_finding: bool = False


def serious_findings(county: Region, period: dt.date) -> dict[int, list[dict]]:
    """The month's serious findings by village id (one query), oldest first."""
    first, last = month_bounds(period)
    rows = (
        Finding.objects.filter(
            village__code__startswith=county.prefix,
            inspection__on__gte=first,
            inspection__on__lte=last,
            severity__in=SERIOUS_SEVERITIES,
        )
        .select_related("inspection")
        .order_by("inspection__on", "id")
    )
    found: dict[int, list[dict]] = defaultdict(list)
    for f in rows:
        found[f.village_id].append(
            {
                "id": f.pk,
                "team_id": f.team_id,
                "on": f.inspection.on.isoformat(),
                "inspection": f.inspection.title,
                "kind": f.inspection.get_kind_display(),
                "severity": f.get_severity_display(),
                "category": f.get_category_display(),
                "description": f.description,
            }
        )
    return found


def rankings_of(county: Region, period: dt.date) -> list[MonthlyRanking]:
    return list(
        MonthlyRanking.objects.filter(county=county, period=period.replace(day=1))
        .select_related("team", "team__village", "team__village__township", "team__lead_unit")
        .order_by("rank", "team_id")
    )


def select(
    rankings: list[MonthlyRanking], found: dict[int, list[dict]], rule: CircularRule
) -> list[Pick]:
    """The red list then the black list, each in rank order (see the module docstring)."""
    picks: dict[int, Pick] = {}
    serious = {}
    for r in rankings:
        own = [f for f in found.get(r.team.village_id, []) if f["team_id"] in (None, r.team_id)]
        serious[r.team_id] = own
    for r in rankings:
        half = r.of // 2
        by_rank = r.rank > r.of - min(rule.black_count, half)
        by_finding = rule.serious_forces_black and bool(serious[r.team_id])
        if by_rank or by_finding:
            picks[r.team_id] = Pick(
                EntryKind.BLACK,
                r,
                findings=serious[r.team_id],
                by_rank=by_rank,
                by_finding=by_finding,
            )
    red = []
    for r in rankings:
        if len(red) >= rule.red_count or r.rank > r.of // 2:
            break
        if r.team_id in picks or (rule.serious_bars_red and serious[r.team_id]):
            continue
        red.append(Pick(EntryKind.RED, r, by_rank=True))
    black = sorted(picks.values(), key=lambda p: (p.ranking.rank, p.ranking.team_id))
    return red + black


def percent(value: Decimal | str | float) -> str:
    return f"{Decimal(value) * 100:.1f}%"


def metrics_of(ranking: MonthlyRanking) -> dict:
    """The ranking's metrics as JSON (rates as strings, so nothing is rounded on the way)."""
    return {
        name: str(value) if isinstance(value, Decimal) else value
        for name in METRICS
        for value in (getattr(ranking, name),)
    }


def facts_of(pick: Pick) -> str:
    """The facts that put a team on its list, in the words of a circular."""
    r = pick.ranking
    place = _("月度综合得分%(score)s分，全县第%(rank)d名（共%(of)d个工作队）") % {
        "score": r.score,
        "rank": r.rank,
        "of": r.of,
    }
    if pick.kind == EntryKind.BLACK and pick.by_rank:
        place += _("，排名靠后")
    metrics = _(
        "在岗达标率%(presence)s，本月走访覆盖率%(visit)s，遍访进度%(bianfang)s，"
        "收入登记完成率%(income)s；未整改问题%(open)d个，其中超期%(overdue)d个"
    ) % {
        "presence": percent(r.presence_rate),
        "visit": percent(r.visit_rate),
        "bianfang": percent(r.bianfang_rate),
        "income": percent(r.income_rate),
        "open": r.open_findings,
        "overdue": r.overdue_findings,
    }
    text = f"{place}。{metrics}。"
    for f in pick.findings:
        text += _("%(on)s %(kind)s发现%(severity)s问题（%(category)s）：%(description)s。") % f
    return text


def render_template(template: str, default: str, *, county: Region, period: dt.date) -> str:
    values = {"county": county.name, "year": period.year, "month": period.month}
    return (template or default).format_map(values)


def default_title() -> str:
    return _("关于{year}年{month}月驻村工作队红黑榜的通报")


def default_body() -> str:
    return _(
        "根据{county}驻村工作队{year}年{month}月在岗履职、入户走访、收入登记和督查问题整改等"
        "情况的月度考核排名，经研究，现将{year}年{month}月驻村工作队红黑榜通报如下。"
    )


def default_closing() -> str:
    return _(
        "希望列入红榜的工作队再接再厉、发挥示范作用；列入黑榜的工作队要深刻反思、"
        "立行立改，派出单位要切实履行管理责任。各乡镇要加强日常管理，确保驻村帮扶工作落到实处。"
    )


def check_template(text: str) -> str | None:
    """The first placeholder a template may not use, or None when it is fine."""
    import string

    try:
        parsed = list(string.Formatter().parse(text or ""))
    except ValueError:
        return "{"
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in TEMPLATE_KEYS or spec or conversion:
            return "{" + name + "}"
    return None
