"""Presence compliance: each cadre's days in the village against the rule in force.

For every week (Monday to Sunday), month and year that overlaps the chosen period, the days
a cadre served are judged by the rule of the village's most specific region in force on each
day (a rule that changes mid-period splits the period into pieces, each judged by its own
rule). The requirement of a piece is the rule's figure prorated to the days that count:
round(figure × counted days / days of the whole week, month or year), where days on approved
leave (not of a kind the rule counts as present) do not count. A day is:

- absent: an inspection recorded the cadre away (this overrides a check-in);
- present: checked in (a night when the check-in says the cadre stayed);
- counted: approved leave or filed business of a kind the rule counts as present (day and night);
- excused: approved leave of any other kind;
- missing: nothing of the above.

A piece that has not ended by today is "in progress": met already, or not yet decided.
The days that break the rule are the absent days, and the missing days of failed pieces.
"""

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import (
    Assignment,
    Attendance,
    AttendanceStatus,
    LeaveRequest,
    PresenceRule,
)

ABSENT, PRESENT, COUNTED, EXCUSED, MISSING = "absent", "present", "counted", "excused", "missing"
DAY_LABELS = {
    ABSENT: _("缺勤（督查）"),
    PRESENT: _("在村"),
    COUNTED: _("公务视同在村"),
    EXCUSED: _("请假"),
    MISSING: _("无记录"),
}
PERIOD_LABELS = {"week": _("周"), "month": _("月"), "year": _("年")}


@dataclass
class Piece:
    """One week, month or year (or the part of it the rule or the period allows)."""

    kind: str
    start: dt.date
    end: dt.date
    rule: PresenceRule
    days_required: int | None
    nights_required: int | None
    days: int
    nights: int
    finished: bool
    missing: list[dt.date]

    @property
    def met(self) -> bool:
        return (self.days_required is None or self.days >= self.days_required) and (
            self.nights_required is None or self.nights >= self.nights_required
        )

    @property
    def ok(self) -> bool | None:
        """True met, False failed, None in progress and not met yet."""
        if self.met:
            return True
        return False if self.finished else None

    @property
    def label(self) -> str:
        if self.kind == "week":
            return f"{self.start:%m-%d}~{self.end:%m-%d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        return f"{self.start:%Y}"


@dataclass
class CadreCompliance:
    assignment: Assignment
    states: dict[dt.date, str]
    pieces: list[Piece] = field(default_factory=list)

    @property
    def cadre(self):
        return self.assignment.cadre

    @property
    def team(self):
        return self.assignment.team

    def count(self, state: str) -> int:
        return sum(1 for s in self.states.values() if s == state)

    @property
    def failed(self) -> list[Piece]:
        return [p for p in self.pieces if p.ok is False]

    @property
    def ok(self) -> bool | None:
        if self.failed or self.count(ABSENT):
            return False
        return None if any(p.ok is None for p in self.pieces) else True

    @property
    def breaking_days(self) -> list[dt.date]:
        days = {d for d, s in self.states.items() if s == ABSENT}
        for piece in self.failed:
            days.update(piece.missing)
        return sorted(days)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _periods(kind: str, start: dt.date, end: dt.date) -> Iterable[tuple[dt.date, dt.date]]:
    if kind == "week":
        first = start - dt.timedelta(days=start.weekday())
        while first <= end:
            yield first, first + dt.timedelta(days=6)
            first += dt.timedelta(days=7)
    elif kind == "month":
        first = start.replace(day=1)
        while first <= end:
            last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
            yield first, last
            first = last + dt.timedelta(days=1)
    else:
        for year in range(start.year, end.year + 1):
            yield dt.date(year, 1, 1), dt.date(year, 12, 31)


def _requirements(kind: str, rule: PresenceRule) -> tuple[int | None, int | None]:
    if kind == "week":
        return rule.days_per_week, rule.nights_per_week
    if kind == "month":
        return rule.days_per_month, None
    return rule.days_per_year, None


class RuleBook:
    """The rules of many villages, loaded once; the rule of a village on a day."""

    def __init__(self, codes: Iterable[str]):
        prefixes = {code[:n] for code in codes for n in (2, 4, 6, 9, 12)}
        self.rules: dict[str, list[PresenceRule]] = defaultdict(list)
        for rule in PresenceRule.objects.filter(prefix__in=prefixes).order_by("-effective_from"):
            self.rules[rule.prefix].append(rule)
        self.cache: dict[tuple[str, dt.date], PresenceRule | None] = {}

    def rule(self, code: str, day: dt.date) -> PresenceRule | None:
        key = (code, day)
        if key not in self.cache:
            found = None
            for n in (12, 9, 6, 4, 2):
                found = next(
                    (r for r in self.rules.get(code[:n], ()) if r.effective_from <= day), None
                )
                if found:
                    break
            self.cache[key] = found
        return self.cache[key]


def presence_compliance(
    *,
    assignments: Iterable[Assignment],
    start: dt.date,
    end: dt.date,
    today: dt.date | None = None,
    kinds: tuple[str, ...] = ("week", "month", "year"),
) -> list[CadreCompliance]:
    """Compliance of each assignment's cadre over [start, end] (three queries in all).

    `assignments` come with cadre and team__village selected; the caller scopes them.
    """
    today = today or timezone.localdate()
    assignments = list(assignments)
    if not assignments:
        return []
    cadre_ids = {a.cadre_id for a in assignments}
    book = RuleBook({a.team.village.code for a in assignments})
    marks: dict[tuple[int, dt.date], tuple[str, bool]] = {
        (cadre_id, day): (status, overnight)
        for cadre_id, day, status, overnight in Attendance.objects.filter(
            cadre_id__in=cadre_ids, day__gte=start, day__lte=end
        ).values_list("cadre_id", "day", "status", "overnight")
    }
    leaves: dict[int, list[tuple[dt.date, dt.date, str]]] = defaultdict(list)
    for cadre_id, lstart, lend, kind in (
        LeaveRequest.objects.effective()
        .filter(cadre_id__in=cadre_ids, start__lte=end, end__gte=start)
        .values_list("cadre_id", "start", "end", "kind")
    ):
        leaves[cadre_id].append((lstart, lend, kind))

    results = []
    for assignment in assignments:
        code = assignment.team.village.code
        first = max(start, assignment.start)
        last = min(end, assignment.ended_on or end)
        states: dict[dt.date, str] = {}
        nights: dict[dt.date, bool] = {}
        day = first
        while day <= last:
            rule = book.rule(code, day)
            status, overnight = marks.get((assignment.cadre_id, day), (None, False))
            leave_kind = next(
                (k for s, e, k in leaves.get(assignment.cadre_id, ()) if s <= day <= e), None
            )
            if status == AttendanceStatus.ABSENT:
                state = ABSENT
            elif status == AttendanceStatus.PRESENT:
                state = PRESENT
            elif leave_kind and rule and leave_kind in rule.counted_kinds:
                state, overnight = COUNTED, True
            elif leave_kind:
                state = EXCUSED
            else:
                state = MISSING
            if day <= today:
                states[day] = state
            nights[day] = bool(overnight) and state in (PRESENT, COUNTED)
            day += dt.timedelta(days=1)
        result = CadreCompliance(assignment=assignment, states=states)
        if first <= last:
            for kind in kinds:
                result.pieces.extend(_pieces(kind, first, last, today, code, book, states, nights))
        results.append(result)
    return results


def _pieces(kind, first, last, today, code, book, states, nights) -> list[Piece]:
    pieces = []
    for pstart, pend in _periods(kind, first, last):
        length = (pend - pstart).days + 1
        lo, hi = max(pstart, first), min(pend, last)
        # Split where the rule in force changes.
        runs: list[tuple[PresenceRule | None, list[dt.date]]] = []
        day = lo
        while day <= hi:
            rule = book.rule(code, day)
            if runs and runs[-1][0] is rule:
                runs[-1][1].append(day)
            else:
                runs.append((rule, [day]))
            day += dt.timedelta(days=1)
        for rule, days in runs:
            if rule is None:
                continue
            need_days, need_nights = _requirements(kind, rule)
            if need_days is None and need_nights is None:
                continue
            counting = [d for d in days if states.get(d, MISSING) != EXCUSED]
            share = Decimal(len(counting)) / Decimal(length)
            seen = [d for d in days if d <= today]
            pieces.append(
                Piece(
                    kind=kind,
                    start=days[0],
                    end=days[-1],
                    rule=rule,
                    days_required=None if need_days is None else _round(need_days * share),
                    nights_required=None if need_nights is None else _round(need_nights * share),
                    days=sum(1 for d in seen if states[d] in (PRESENT, COUNTED)),
                    nights=sum(1 for d in seen if nights[d]),
                    finished=days[-1] < today,
                    missing=[d for d in seen if states[d] == MISSING],
                )
            )
    return pieces
