"""Every write of inspections and findings; each status change checks its from-state, does
nothing when nothing changes, and writes a FindingEvent (actor, old, new, note)."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from common.audit import audit_actor
from common.errors import ApplicationError, user_message
from households.models import Household
from teams.locks import year_lock_set
from teams.models import Assignment, Cadre, DispatchingUnit, WorkTeam
from teams.presence import attendance_record_absence
from villages.models import Level, Region, Village, significant_prefix

from .models import (
    ABSENCE_CATEGORIES,
    ENTERED_INDICATORS,
    TEAM_STEPS,
    Assessment,
    AssessmentAction,
    AssessmentEvent,
    AssessmentRun,
    AssessmentScore,
    AssessmentState,
    Escalation,
    EscalationStatus,
    Finding,
    FindingEvent,
    FindingStatus,
    Indicator,
    IndicatorScheme,
    Inspection,
    InspectionKind,
    MonthlyRanking,
    RankingRun,
    RankingRunStatus,
    ScoreSource,
    Step,
    Subject,
    SubjectKind,
    YearlyCeiling,
    YearlyGrade,
    YearlyScheme,
)
from .ranking import county_metrics, order, scheme_for, score
from .yearly import county_fill, grading, number, top_quota, year_bounds, yearly_scheme_for


@transaction.atomic
def inspection_create(
    *,
    region: Region,
    kind: str,
    on: dt.date,
    title: str,
    inspectors: str,
    villages: Iterable[Village] = (),
    note: str = "",
    actor: User | None = None,
) -> Inspection:
    if kind not in InspectionKind.values:
        raise ValidationError({"kind": _("请选择检查方式。")})
    if on > timezone.localdate():
        raise ValidationError({"on": _("检查日期不能晚于今天。")})
    villages = list(villages)
    outside = [v.name for v in villages if not v.code.startswith(region.prefix)]
    if outside:
        raise ValidationError({"villages": _("这些村不在组织区划内：%s") % "、".join(outside)})
    inspection = Inspection(
        region=region,
        kind=kind,
        on=on,
        title=(title or "").strip(),
        inspectors=(inspectors or "").strip(),
        note=(note or "").strip(),
        created_by=actor,
    )
    inspection.full_clean()
    inspection.save()
    inspection.villages.set(villages)
    return inspection


def _event(finding: Finding, old: str, actor: User | None, note: str = "") -> None:
    FindingEvent.objects.create(
        finding=finding, old=old, new=finding.status, actor=actor, note=(note or "").strip()
    )


@transaction.atomic
def finding_create(
    *,
    inspection: Inspection,
    village: Village,
    subject: str,
    category: str,
    severity: str,
    description: str,
    deadline: dt.date,
    team: WorkTeam | None = None,
    cadre: Cadre | None = None,
    unit: DispatchingUnit | None = None,
    household: Household | None = None,
    absence_day: dt.date | None = None,
    actor: User | None = None,
) -> Finding:
    """Register a problem. An absence (脱岗, 走读) of a cadre on a day marks that day absent
    in the cadre's presence, whatever the check-in said."""
    if not village.code.startswith(inspection.region.prefix):
        raise ValidationError({"village": _("该村不在本次检查的组织区划内。")})
    if team is not None and team.village_id != village.pk:
        raise ValidationError({"team": _("所选工作队不驻该村。")})
    if household is not None and household.village_id != village.pk:
        raise ValidationError({"household": _("所选农户不属于该村。")})
    if cadre is not None and team is None:
        served = (
            Assignment.objects.filter(cadre=cadre, team__village=village)
            .select_related("team")
            .order_by("-start")
            .first()
        )
        if served is None:
            raise ValidationError({"cadre": _("该干部未在该村驻村。")})
        team = served.team
    if subject == Subject.CADRE and cadre is None:
        raise ValidationError({"cadre": _("请选择干部。")})
    if deadline < inspection.on:
        raise ValidationError({"deadline": _("整改时限不能早于检查日期。")})
    absence = category in ABSENCE_CATEGORIES
    if absence and (cadre is None or absence_day is None):
        raise ValidationError({"absence_day": _("脱岗、走读问题须指明干部和缺勤日期。")})
    finding = Finding(
        inspection=inspection,
        village=village,
        subject=subject,
        team=team,
        cadre=cadre,
        unit=unit,
        household=household,
        category=category,
        severity=severity,
        description=(description or "").strip(),
        deadline=deadline,
        absence_day=absence_day if absence else None,
    )
    finding.full_clean()
    finding.save()
    _event(finding, "", actor, _("登记问题"))
    if absence:
        attendance_record_absence(
            cadre=cadre,
            day=absence_day,
            actor=actor,
            note=f"{inspection.title}：{finding.description}",
        )
    return finding


def _locked(finding: Finding) -> Finding:
    return Finding.objects.select_for_update().get(pk=finding.pk)


@transaction.atomic
def finding_start(*, finding: Finding, actor: User, measures: str) -> Finding:
    """待整改 → 整改中, with the rectification measures."""
    finding = _locked(finding)
    if finding.status == FindingStatus.RECTIFYING:
        return finding
    if finding.status != FindingStatus.PENDING:
        raise ApplicationError(_("只有待整改的问题才能开始整改。"))
    if not (measures or "").strip():
        raise ValidationError({"measures": _("请填写整改措施。")})
    finding.status, finding.measures = FindingStatus.RECTIFYING, measures.strip()
    finding.save(update_fields=["status", "measures", "updated_at"])
    _event(finding, FindingStatus.PENDING, actor, measures)
    return finding


@transaction.atomic
def finding_rectify(
    *, finding: Finding, actor: User, evidence: str, on: dt.date | None = None
) -> Finding:
    """→ 已整改: what was done, with its evidence (required)."""
    finding = _locked(finding)
    if finding.status == FindingStatus.RECTIFIED:
        return finding
    if finding.status not in (FindingStatus.PENDING, FindingStatus.RECTIFYING):
        raise ApplicationError(_("该问题已%s，不能再报整改。") % finding.get_status_display())
    if not (evidence or "").strip():
        raise ValidationError({"evidence": _("请填写整改情况及佐证。")})
    old = finding.status
    finding.status = FindingStatus.RECTIFIED
    finding.evidence = evidence.strip()
    finding.rectified_by = actor
    finding.rectified_on = on or timezone.localdate()
    finding.save(update_fields=["status", "evidence", "rectified_by", "rectified_on", "updated_at"])
    _event(finding, old, actor, evidence)
    return finding


@transaction.atomic
def finding_verify(*, finding: Finding, actor: User, passed: bool, note: str) -> Finding:
    """Check a rectification: passed → 已验证; failed → back to 整改中. The rectifier never
    verifies their own rectification."""
    finding = _locked(finding)
    if finding.status == FindingStatus.VERIFIED and passed:
        return finding
    if finding.status != FindingStatus.RECTIFIED:
        raise ApplicationError(_("只有已整改的问题才能验证。"))
    if finding.rectified_by_id == actor.pk:
        raise ApplicationError(_("整改人不能验证自己的整改。"))
    if not passed and not (note or "").strip():
        raise ValidationError({"note": _("验证不通过时请说明原因。")})
    finding.status = FindingStatus.VERIFIED if passed else FindingStatus.RECTIFYING
    finding.verified_by = actor if passed else None
    finding.verified_on = timezone.localdate() if passed else None
    finding.save(update_fields=["status", "verified_by", "verified_on", "updated_at"])
    _event(finding, FindingStatus.RECTIFIED, actor, note or _("验证通过"))
    return finding


@transaction.atomic
def finding_close(*, finding: Finding, actor: User, note: str = "") -> Finding:
    """已验证 → 已关闭 (销号)."""
    finding = _locked(finding)
    if finding.status == FindingStatus.CLOSED:
        return finding
    if finding.status != FindingStatus.VERIFIED:
        raise ApplicationError(_("只有已验证的问题才能销号。"))
    finding.status, finding.closed_on = FindingStatus.CLOSED, timezone.localdate()
    finding.save(update_fields=["status", "closed_on", "updated_at"])
    _event(finding, FindingStatus.VERIFIED, actor, note or _("销号"))
    return finding


@transaction.atomic
def finding_reopen(*, finding: Finding, actor: User, note: str, deadline: dt.date) -> Finding:
    """回头看: a re-check found the problem back; it returns to 整改中 with a new deadline."""
    finding = _locked(finding)
    if finding.status not in (FindingStatus.VERIFIED, FindingStatus.CLOSED):
        raise ApplicationError(_("只有已验证或已销号的问题才能回头看重新整改。"))
    if not (note or "").strip():
        raise ValidationError({"note": _("请填写回头看发现的情况。")})
    if deadline <= timezone.localdate():
        raise ValidationError({"deadline": _("新的整改时限应晚于今天。")})
    old = finding.status
    finding.status = FindingStatus.RECTIFYING
    finding.deadline = deadline
    finding.reopened += 1
    finding.closed_on = finding.verified_on = finding.verified_by = None
    finding.save(
        update_fields=[
            "status",
            "deadline",
            "reopened",
            "closed_on",
            "verified_on",
            "verified_by",
            "updated_at",
        ]
    )
    _event(finding, old, actor, _("回头看：%s") % note.strip())
    return finding


# --- monthly ranking ------------------------------------------------------------------------


@transaction.atomic
def scheme_set(*, region: Region, effective_from: dt.date, **values) -> IndicatorScheme:
    fields = {
        "name",
        "presence_weight",
        "visit_weight",
        "bianfang_weight",
        "income_weight",
        "open_penalty",
        "overdue_penalty",
        "serious_penalty",
    }
    unknown = set(values) - fields
    if unknown:
        raise ApplicationError(_("这些字段不能填写：%s") % ", ".join(sorted(unknown)))
    scheme = IndicatorScheme.objects.filter(region=region, effective_from=effective_from).first()
    scheme = scheme or IndicatorScheme(region=region, effective_from=effective_from)
    scheme.prefix = significant_prefix(region.code, region.level)
    for key, value in values.items():
        setattr(scheme, key, value)
    if any(getattr(scheme, k) < 0 for k in fields - {"name"}):
        raise ValidationError(_("权重和扣分不能为负数。"))
    scheme.full_clean()
    scheme.save()
    return scheme


def ranking_request(*, county: Region, period: dt.date, actor: User | None = None):
    """Queue the computation of a county's ranking for a month (after commit). Asking again
    while one is queued or running returns that one."""
    if county.level != Level.COUNTY:
        raise ValidationError({"county": _("请选择县。")})
    period = period.replace(day=1)
    if period > timezone.localdate().replace(day=1):
        raise ValidationError({"period": _("不能计算未来月份的排名。")})
    with transaction.atomic():
        run = RankingRun.objects.filter(
            county=county,
            period=period,
            status__in=[RankingRunStatus.PENDING, RankingRunStatus.RUNNING],
        ).first()
        if run is not None:
            return run
        run = RankingRun.objects.create(county=county, period=period, requested_by=actor)
    from .tasks import ranking_run_task

    transaction.on_commit(lambda: ranking_run_task.delay(run.pk))
    return run


def ranking_run(*, run_id: int) -> None:
    """Claim a queued run and compute it; a second delivery of the task finds it claimed."""
    claimed = RankingRun.objects.filter(pk=run_id, status=RankingRunStatus.PENDING).update(
        status=RankingRunStatus.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return
    run = RankingRun.objects.select_related("county").get(pk=run_id)
    try:
        rankings = ranking_compute(county=run.county, period=run.period)
    except (ApplicationError, ValidationError) as exc:
        RankingRun.objects.filter(pk=run_id).update(
            status=RankingRunStatus.FAILED, error=user_message(exc), finished_at=timezone.now()
        )
        return
    escalation_derive(county=run.county, period=run.period)
    RankingRun.objects.filter(pk=run_id).update(
        status=RankingRunStatus.SUCCEEDED, teams=len(rankings), finished_at=timezone.now()
    )


@transaction.atomic
def ranking_compute(*, county: Region, period: dt.date, today: dt.date | None = None):
    """Compute and store a county's ranking of a month (replacing an earlier computation)."""

    today = today or timezone.localdate()
    period = period.replace(day=1)
    scheme = scheme_for(county, period)
    if scheme is None:
        raise ApplicationError(_("%s尚未设置考核指标方案。") % county.name)
    rows = county_metrics(county, period, today)
    for row in rows:
        row.score = score(row, scheme)
    ranked = order(rows)
    previous = MonthlyRanking.objects.filter(county=county, period=period)
    # A published black list stands whatever a recomputation says.
    black = set(previous.filter(black_listed=True).values_list("team_id", flat=True))
    previous.delete()
    return MonthlyRanking.objects.bulk_create(
        [
            MonthlyRanking(
                county=county,
                period=period,
                team=m.team,
                scheme=scheme,
                members=m.members,
                presence_rate=m.presence_rate,
                visit_rate=m.visit_rate,
                bianfang_rate=m.bianfang_rate,
                income_rate=m.income_rate,
                open_findings=m.open_findings,
                overdue_findings=m.overdue_findings,
                serious_findings=m.serious_findings,
                score=m.score,
                rank=position,
                of=len(ranked),
                black_listed=m.team.pk in black,
            )
            for position, m in enumerate(ranked, 1)
        ]
    )


# --- escalation -----------------------------------------------------------------------------

UNIT_NAMED_LIMIT = 3
# pg_advisory_xact_lock(namespace, county id): one escalation derivation of a county at a time.
ESCALATION_LOCK_NAMESPACE = 7302


def _months_back(period: dt.date, n: int) -> dt.date:
    month = period.year * 12 + period.month - 1 - n
    return dt.date(month // 12, month % 12 + 1, 1)


@transaction.atomic
def ranking_black_list(*, county: Region, period: dt.date, team_ids: Iterable[int]) -> int:
    """Record the black list of a county's month as a published circular has it (exactly
    these teams), then derive the escalation steps again from that month on, since a black
    listing counts like a bottom-three placement. Returns the number of teams listed."""
    period = period.replace(day=1)
    team_ids = set(team_ids)
    rows = MonthlyRanking.objects.filter(county=county, period=period)
    missing = team_ids - set(rows.values_list("team_id", flat=True))
    if missing:
        raise ApplicationError(
            _("%(period)s 尚无这些工作队的月度排名，不能列入黑榜。")
            % {"period": f"{period:%Y-%m}"},
            extra={"teams": sorted(missing)},
        )
    rows.exclude(team_id__in=team_ids).filter(black_listed=True).update(
        black_listed=False, updated_at=timezone.now()
    )
    rows.filter(team_id__in=team_ids, black_listed=False).update(
        black_listed=True, updated_at=timezone.now()
    )
    later = (
        MonthlyRanking.objects.filter(county=county, period__gte=period)
        .values_list("period", flat=True)
        .distinct()
        .order_by("period")
    )
    for month in list(later):
        escalation_derive(county=county, period=month)
    return len(team_ids)


@transaction.atomic
def escalation_derive(*, county: Region, period: dt.date) -> list[Escalation]:
    """Derive the steps reached in `period` from the county's stored rankings: a month among
    the last three or on a published black list counts ("named").

    - A team named in `period` reaches 约谈, 诫勉谈话 or 组织处理 by how many months in a row
      (up to `period`) it was named; its step names the team's active leader.
    - A dispatching unit is counted by the county that ranks: every naming of a team it
      leads (`lead_unit`) in this county in the calendar year counts once, several teams in
      one month count apiece. The month its count reaches three, this county summons its
      principal leader, once in that year: the count starts again each January, and another
      county counts (and summons) on its own.

    Pending steps follow a recomputed ranking or black list (moved, changed or withdrawn);
    confirmed ones stand. Returns the team steps of `period` in rank order, then the unit
    summonses of `period`. A fixed number of queries however many teams are named: the
    county's named rows are read at once, the steps computed here, written in bulk."""
    period = period.replace(day=1)
    with connection.cursor() as cursor:
        # One derivation of a county at a time (the ranking job and a publication may meet).
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [ESCALATION_LOCK_NAMESPACE, county.pk]
        )
    named = list(
        MonthlyRanking.objects.filter(county=county, period__lte=period)
        .filter(Q(rank__gt=F("of") - 3) | Q(black_listed=True))
        .order_by("period", "rank", "team_id")
        .values_list("team_id", "period", "rank", "of", "black_listed", "team__lead_unit_id")
    )
    months_named = {(team_id, month) for team_id, month, *_rest in named}
    now = [row for row in named if row[1] == period]
    leaders = dict(
        Assignment.objects.filter(
            team_id__in=[row[0] for row in now], status="active", is_leader=True
        ).values_list("team_id", "cadre_id")
    )
    existing = list(
        Escalation.objects.select_for_update()
        .filter(county=county)
        .filter(
            Q(period=period, team__isnull=False) | Q(step=Step.SUMMON, period__year=period.year)
        )
    )
    steps = {e.team_id: e for e in existing if e.team_id is not None}
    summonses = {e.unit_id: e for e in existing if e.step == Step.SUMMON}
    pending = EscalationStatus.PENDING
    made, new, changed = [], [], []

    def keep(escalation: Escalation | None, values: dict) -> None:
        if escalation is None:
            escalation = Escalation(county=county, **values)
            new.append(escalation)
        elif escalation.status == pending and any(
            getattr(escalation, k) != v for k, v in values.items() if k != "leader_id"
        ):
            for key, value in values.items():
                if key != "leader_id":  # the leader named when the step was first reached
                    setattr(escalation, key, value)
            changed.append(escalation)
        made.append(escalation)

    for team_id, _month, rank, of, black_listed, _unit in now:
        streak = 1
        while (team_id, _months_back(period, streak)) in months_named:
            streak += 1
        bottom = rank > of - 3
        facts = {"period": f"{period:%Y-%m}", "rank": rank, "of": of, "n": streak}
        if bottom and black_listed:
            basis = _("%(period)s 月度排名第%(rank)d/%(of)d名（后三名），列入黑榜，连续%(n)d个月。")
        elif bottom:
            basis = _("%(period)s 月度排名第%(rank)d/%(of)d名（后三名），连续%(n)d个月。")
        else:
            basis = _("%(period)s 列入黑榜（月度排名第%(rank)d/%(of)d名），连续%(n)d个月。")
        values = {
            "period": period,
            "team_id": team_id,
            "step": TEAM_STEPS[min(streak, 3) - 1],
            "leader_id": leaders.get(team_id),
            "streak": streak,
            "basis": basis % facts,
        }
        keep(steps.get(team_id), values)
    named_ids = {row[0] for row in now}
    withdrawn = [e.pk for e in steps.values() if e.status == pending and e.team_id not in named_ids]

    # The units: namings of this year, month by month, up to `period`.
    per_unit: dict[int, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for _team, month, _rank, _of, _black, unit_id in named:
        if month.year == period.year:
            per_unit[unit_id][month] += 1
    due = set()
    for unit_id, months in sorted(per_unit.items()):
        total = 0
        for month in sorted(months):
            total += months[month]
            if total >= UNIT_NAMED_LIMIT:
                break
        if total >= UNIT_NAMED_LIMIT and month == period:
            due.add(unit_id)
            basis = _("所派工作队本年度在本县累计%(n)d次排名后三名或列入黑榜（至%(period)s）。") % {
                "n": total,
                "period": f"{period:%Y-%m}",
            }
            values = {
                "period": period,
                "unit_id": unit_id,
                "step": Step.SUMMON,
                "streak": total,
                "basis": basis,
            }
            keep(summonses.get(unit_id), values)
    withdrawn += [
        e.pk
        for e in summonses.values()
        if e.status == pending and e.period == period and e.unit_id not in due
    ]
    Escalation.objects.filter(pk__in=withdrawn, status=pending).delete()
    Escalation.objects.bulk_create(new)
    stamp = timezone.now()
    for escalation in changed:
        escalation.updated_at = stamp
    Escalation.objects.bulk_update(changed, ["period", "step", "streak", "basis", "updated_at"])
    return made


@transaction.atomic
def escalation_confirm(*, escalation: Escalation, actor: User) -> Escalation:
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.status != EscalationStatus.PENDING:
        return escalation
    escalation.status = EscalationStatus.CONFIRMED
    escalation.confirmed_by, escalation.confirmed_at = actor, timezone.now()
    escalation.save(update_fields=["status", "confirmed_by", "confirmed_at", "updated_at"])
    return escalation


@transaction.atomic
def escalation_done(
    *, escalation: Escalation, actor: User, carried_out_on: dt.date, note: str
) -> Escalation:
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.status == EscalationStatus.PENDING:
        raise ApplicationError(_("请先确认该问责措施。"))
    if carried_out_on > timezone.localdate():
        raise ValidationError({"carried_out_on": _("落实日期不能晚于今天。")})
    if not (note or "").strip():
        raise ValidationError({"note": _("请填写落实情况。")})
    escalation.status, escalation.carried_out_on = EscalationStatus.DONE, carried_out_on
    escalation.note = note.strip()
    escalation.save(update_fields=["status", "carried_out_on", "note", "updated_at"])
    return escalation


# --- yearly assessment (年度考核) ------------------------------------------------------------

SCHEME_FIELDS = (
    *(f"{indicator}_weight" for indicator in Indicator.values),
    "minor_deduction",
    "general_deduction",
    "serious_deduction",
    "major_deduction",
    "overdue_deduction",
    "top_quota",
    "quota_rounding",
    "note",
)
NON_NEGATIVE = SCHEME_FIELDS[:-3]
GRADED_FIELDS = [
    "version",
    "total",
    "score_grade",
    "ceiling_grade",
    "ceiling_reason",
    "adjusted_rank",
    "adjusted_grade",
    "adjust_reason",
    "grade",
    "grade_rank",
]


def _clean_grades(grades: Sequence[tuple[str, Any]]) -> list[YearlyGrade]:
    """Best first: each a name and the minimum total; strictly falling; the last is 0."""
    made, names = [], set()
    for rank, (name, minimum) in enumerate(grades, 1):
        name = (name or "").strip()
        try:
            minimum = Decimal(str(minimum))
        except (InvalidOperation, ValueError):
            raise ValidationError({"grades": _("等次“%s”的最低分不是数字。") % name}) from None
        if not name or len(name) > 16:
            raise ValidationError({"grades": _("等次名称不能为空，且不超过16个字。")})
        if name in names:
            raise ValidationError({"grades": _("等次名称“%s”重复。") % name})
        if not Decimal(0) <= minimum <= Decimal(100):
            raise ValidationError({"grades": _("等次“%s”的最低分应在0到100之间。") % name})
        if made and minimum >= made[-1].min_score:
            raise ValidationError(
                {"grades": _("等次应从高到低排列，最低分依次递减（“%s”）。") % name}
            )
        names.add(name)
        made.append(YearlyGrade(rank=rank, name=name, min_score=minimum))
    if len(made) < 2:
        raise ValidationError({"grades": _("至少设置两个等次。")})
    if made[-1].min_score != 0:
        raise ValidationError(
            {"grades": _("最低等次“%s”的最低分应为0，使任何总分都有等次。") % made[-1].name}
        )
    return made


def _clean_ceilings(
    ceilings: Sequence[tuple[int, str]], grades: list[YearlyGrade]
) -> list[YearlyCeiling]:
    """Each: a number of unexplained absences and the best grade then allowed (by name, not
    the top grade); more absences never allow a better grade."""
    rank_of = {g.name: g.rank for g in grades}
    try:
        ceilings = sorted(((int(count), (name or "").strip()) for count, name in ceilings))
    except (TypeError, ValueError):
        raise ValidationError({"ceilings": _("缺勤次数应为正整数。")}) from None
    made = []
    for count, name in ceilings:
        if count < 1:
            raise ValidationError({"ceilings": _("缺勤次数应为正整数。")})
        if any(c.absences == count for c in made):
            raise ValidationError({"ceilings": _("缺勤%d次的封顶重复。") % count})
        if name not in rank_of:
            raise ValidationError({"ceilings": _("封顶等次“%s”不在等次表中。") % name})
        if rank_of[name] == 1:
            raise ValidationError({"ceilings": _("封顶等次不能是最高等次“%s”。") % name})
        if made and rank_of[name] < made[-1].grade_rank:
            raise ValidationError(
                {"ceilings": _("缺勤次数越多，封顶等次不能越高（%d次）。") % count}
            )
        made.append(YearlyCeiling(absences=count, grade_rank=rank_of[name]))
    return made


def yearly_scale_check(
    *, grades: Sequence[tuple[str, Any]], ceilings: Sequence[tuple[int, str]]
) -> None:
    """Check a grade scale and its ceilings as `yearly_scheme_set` will (for forms)."""
    _clean_ceilings(ceilings, _clean_grades(grades))


@transaction.atomic
def yearly_scheme_set(
    *,
    region: Region,
    from_year: int,
    name: str,
    grades: Sequence[tuple[str, Any]],
    ceilings: Sequence[tuple[int, str]] = (),
    **values: Any,
) -> YearlyScheme:
    """Create or change a region's yearly scheme from a year on: the weights, the deductions
    per finding, the quota on the top grade, the grade scale (best first: name, minimum
    total) and the ceilings (absences → best grade allowed). A scheme that graded a
    submitted or finalized assessment never changes; the drafts it grades are graded again
    at once."""
    unknown = set(values) - set(SCHEME_FIELDS)
    if unknown:
        raise ApplicationError(_("这些字段不能填写：%s") % ", ".join(sorted(unknown)))
    scheme = (
        YearlyScheme.objects.select_for_update().filter(region=region, from_year=from_year).first()
    )
    if scheme is not None and scheme.assessments.exclude(state=AssessmentState.DRAFT).exists():
        raise ApplicationError(
            _("该方案已用于已提交或已定格的考核，不能修改；如需调整，请新建以后年度起的方案。")
        )
    scheme = scheme or YearlyScheme(region=region, from_year=from_year)
    scheme.prefix = significant_prefix(region.code, region.level)
    scheme.name = (name or "").strip()
    for key, value in values.items():
        setattr(scheme, key, value)
    if any(getattr(scheme, k) is not None and getattr(scheme, k) < 0 for k in NON_NEGATIVE):
        raise ValidationError(_("权重、扣分和比例不能为负数。"))
    grade_rows = _clean_grades(grades)
    ceiling_rows = _clean_ceilings(ceilings, grade_rows)
    scheme.full_clean()
    scheme.save()
    scheme.grades.all().delete()
    scheme.ceilings.all().delete()
    for row in (*grade_rows, *ceiling_rows):
        row.scheme = scheme
    YearlyGrade.objects.bulk_create(grade_rows)
    YearlyCeiling.objects.bulk_create(ceiling_rows)
    scheme = YearlyScheme.objects.prefetch_related("grades", "ceilings").get(pk=scheme.pk)
    drafts = list(
        scheme.assessments.select_for_update()
        .filter(state=AssessmentState.DRAFT)
        .prefetch_related("scores")
    )
    for assessment in drafts:
        _grade(assessment, scheme, {s.indicator: s.score for s in assessment.scores.all()})
    Assessment.objects.bulk_update(drafts, [*GRADED_FIELDS, "updated_at"])
    return scheme


def _grade(assessment: Assessment, scheme: YearlyScheme, scores: dict) -> None:
    """Set the total and grades of an assessment from its scores (not saved)."""
    names = {g.rank: g.name for g in scheme.grades.all()}
    if assessment.adjusted_rank not in names:  # a scale that changed under a draft
        assessment.adjusted_rank, assessment.adjust_reason = None, ""
    result = grading(scheme, scores, assessment.absence_days, assessment.adjusted_rank)
    assessment.total = result.total
    assessment.score_grade = result.score_grade.name if result.score_grade else ""
    assessment.ceiling_grade = result.ceiling_grade.name if result.ceiling_grade else ""
    assessment.ceiling_reason = result.ceiling_reason
    assessment.adjusted_grade = names.get(assessment.adjusted_rank, "")
    assessment.grade = result.grade.name if result.grade else ""
    assessment.grade_rank = result.grade.rank if result.grade else None
    _touch(assessment)


def _touch(assessment: Assessment) -> None:
    assessment.version += 1
    assessment.updated_at = timezone.now()


def _step(
    assessment: Assessment, action: str, old: str, actor: User | None, note: str = ""
) -> AssessmentEvent:
    return AssessmentEvent.objects.create(
        assessment=assessment,
        action=action,
        old=old,
        new=assessment.state,
        actor=actor,
        note=(note or "").strip(),
    )


def _county_in_scope(county: Region, actor: User | None) -> None:
    if actor is not None and not Region.objects.visible_to(actor).filter(pk=county.pk).exists():
        raise ApplicationError(_("未找到该县。"))


def assessment_fill_request(
    *, county: Region, year: int, actor: User | None = None
) -> AssessmentRun:
    """Queue the filling of a county's yearly assessments from the data (after commit).
    Asking again while one is queued or running returns that one."""
    if county.level != Level.COUNTY:
        raise ValidationError({"county": _("请选择县。")})
    if not 2000 <= year <= timezone.localdate().year:
        raise ValidationError({"year": _("年度不能晚于今年。")})
    _county_in_scope(county, actor)
    with transaction.atomic():
        run = AssessmentRun.objects.filter(
            county=county,
            year=year,
            status__in=[RankingRunStatus.PENDING, RankingRunStatus.RUNNING],
        ).first()
        if run is not None:
            return run
        run = AssessmentRun.objects.create(county=county, year=year, requested_by=actor)
    from .tasks import assessment_fill_task

    transaction.on_commit(lambda: assessment_fill_task.delay(run.pk))
    return run


def assessment_fill_run(*, run_id: int) -> None:
    """Claim a queued fill and run it; a second delivery of the task finds it claimed."""
    claimed = AssessmentRun.objects.filter(pk=run_id, status=RankingRunStatus.PENDING).update(
        status=RankingRunStatus.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return
    run = AssessmentRun.objects.select_related("county", "requested_by").get(pk=run_id)
    audit_actor(run.requested_by)  # the history names who asked for the fill
    try:
        result = assessment_fill(county=run.county, year=run.year, actor=run.requested_by)
    except (ApplicationError, ValidationError) as exc:
        AssessmentRun.objects.filter(pk=run_id).update(
            status=RankingRunStatus.FAILED, error=user_message(exc), finished_at=timezone.now()
        )
        return
    AssessmentRun.objects.filter(pk=run_id).update(
        status=RankingRunStatus.SUCCEEDED,
        finished_at=timezone.now(),
        **result,
    )


@transaction.atomic
def assessment_fill(
    *, county: Region, year: int, today: dt.date | None = None, actor: User | None = None
) -> dict[str, int]:
    """Fill (or fill again) a county's yearly assessments of every cadre and team it assesses
    from the data; entered scores and adjustments stay. Submitted and finalized assessments
    are left as they are; drafts of subjects the county no longer assesses are removed.
    Returns the counts: created, updated, kept (not drafts), removed."""
    today = today or timezone.localdate()
    if year > today.year:
        raise ValidationError({"year": _("年度不能晚于今年。")})
    scheme = yearly_scheme_for(county, year)
    if scheme is None:
        raise ApplicationError(
            _("%(county)s尚未设置%(year)d年度的年度考核方案。")
            % {"county": county.name, "year": year}
        )
    filled = county_fill(county, year, scheme, today)
    _first, last = year_bounds(year, today)
    cadre_ids = [item.cadre.pk for item in filled if item.cadre]
    existing = (
        Assessment.objects.select_for_update()
        .filter(year=year)
        .filter(Q(county=county) | Q(kind=SubjectKind.CADRE, cadre_id__in=cadre_ids))
        .order_by("pk")
    )
    by_key = {(a.kind, a.cadre_id or a.team_id): a for a in existing}
    entered: dict[int, dict] = defaultdict(dict)
    for assessment_id, indicator, value in AssessmentScore.objects.filter(
        assessment__in=[a.pk for a in by_key.values() if a.state == AssessmentState.DRAFT],
        indicator__in=ENTERED_INDICATORS,
    ).values_list("assessment_id", "indicator", "score"):
        entered[assessment_id][indicator] = value
    now = timezone.now()
    created, updated, kept = [], [], 0
    for item in filled:
        assessment = by_key.pop(item.key, None)
        if assessment is not None and assessment.state != AssessmentState.DRAFT:
            kept += 1
            continue
        if assessment is None:
            assessment = Assessment(year=year, kind=item.kind, cadre=item.cadre)
            created.append(assessment)
        else:
            updated.append(assessment)
        assessment.county = county
        assessment.team = item.team
        assessment.village_id = item.team.village_id
        assessment.scheme = scheme
        assessment.absence_days = item.absence_days
        assessment.data_until = last
        assessment.filled_at = now
        scores = {k: v for k, (v, _b) in item.scores.items()} | entered.get(assessment.pk, {})
        _grade(assessment, scheme, scores)
        item.assessment = assessment
    stale = [
        a.pk
        for a in by_key.values()
        if a.county_id == county.pk and a.state == AssessmentState.DRAFT
    ]
    kept += sum(1 for a in by_key.values() if a.state != AssessmentState.DRAFT)
    if stale:
        Assessment.objects.filter(pk__in=stale).delete()
    Assessment.objects.bulk_create(created)
    Assessment.objects.bulk_update(
        updated,
        [
            "county",
            "team",
            "village",
            "scheme",
            "absence_days",
            "data_until",
            "filled_at",
            *GRADED_FIELDS,
            "updated_at",
        ],
    )
    done = [item for item in filled if item.assessment is not None]
    AssessmentScore.objects.bulk_create(
        [
            AssessmentScore(
                assessment=item.assessment,
                indicator=indicator,
                score=value,
                source=ScoreSource.DATA,
                basis=basis,
            )
            for item in done
            for indicator, (value, basis) in item.scores.items()
        ],
        update_conflicts=True,
        unique_fields=["assessment", "indicator"],
        update_fields=["score", "source", "basis", "updated_at"],
    )
    AssessmentScore.objects.bulk_create(
        [
            AssessmentScore(
                assessment=item.assessment, indicator=indicator, source=ScoreSource.ENTERED
            )
            for item in done
            if item.assessment in created
            for indicator in ENTERED_INDICATORS
        ],
        ignore_conflicts=True,
    )
    note = _("按截至%s的数据计算。") % last.isoformat()
    AssessmentEvent.objects.bulk_create(
        [
            AssessmentEvent(
                assessment=item.assessment,
                action=AssessmentAction.FILL,
                old="" if item.assessment in created else AssessmentState.DRAFT,
                new=AssessmentState.DRAFT,
                actor=actor,
                note=note,
            )
            for item in done
        ]
    )
    return {"created": len(created), "updated": len(updated), "kept": kept, "removed": len(stale)}


def _locked_assessment(assessment: Assessment) -> Assessment:
    return (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("scheme", "cadre", "team")
        .get(pk=assessment.pk)
    )


def _scores(assessment: Assessment) -> dict[str, Decimal | None]:
    return dict(assessment.scores.values_list("indicator", "score"))


@transaction.atomic
def assessment_enter_scores(
    *,
    assessment: Assessment,
    actor: User,
    scores: dict[str, Any],
    note: str = "",
    expected_version: int | None = None,
) -> Assessment:
    """Enter the county's scores (the dispatching unit's and the township's evaluations and
    the satisfaction survey, 0–100; empty to clear) of a draft and grade it again. A form
    opened before someone else changed the assessment is refused rather than overwriting."""
    assessment = _locked_assessment(assessment)
    if assessment.state != AssessmentState.DRAFT:
        raise ApplicationError(
            _("只有草稿状态的考核可以录入评分（当前为%s）。") % assessment.get_state_display()
        )
    if expected_version is not None and assessment.version != expected_version:
        raise ApplicationError(_("该考核已被他人修改，请刷新页面后重新录入。"))
    unknown = set(scores) - set(ENTERED_INDICATORS)
    if unknown:
        raise ApplicationError(_("这些指标不能录入：%s") % ", ".join(sorted(unknown)))
    rows = {s.indicator: s for s in assessment.scores.all()}
    changes = []
    for indicator, value in scores.items():
        if value is not None and value != "":
            try:
                value = Decimal(str(value))
            except (InvalidOperation, ValueError):
                raise ValidationError({indicator: _("请填写数字。")}) from None
            if not Decimal(0) <= value <= Decimal(100):
                raise ValidationError({indicator: _("得分应在0到100之间。")})
            value = value.quantize(Decimal("0.01"))
        else:
            value = None
        row = rows.get(indicator) or AssessmentScore(
            assessment=assessment, indicator=indicator, source=ScoreSource.ENTERED
        )
        if row.pk is not None and row.score == value:
            continue
        changes.append(
            f"{Indicator(indicator).label}：{'-' if row.score is None else row.score}"
            f" → {'-' if value is None else value}"
        )
        row.score, row.entered_by, row.source = value, actor, ScoreSource.ENTERED
        row.basis = _("%(name)s录入。") % {"name": actor.get_full_name() or actor.username}
        row.save()
    if not changes:
        return assessment
    _grade(assessment, assessment.scheme, _scores(assessment))
    assessment.save(update_fields=[*GRADED_FIELDS, "updated_at"])
    note = "；".join([*changes, *([note.strip()] if (note or "").strip() else [])])
    _step(assessment, AssessmentAction.SCORE, assessment.state, actor, note)
    return assessment


@transaction.atomic
def assessment_adjust_grade(
    *, assessment: Assessment, actor: User, grade: str | None, reason: str
) -> Assessment:
    """Lower a draft's grade below what its total and the ceiling give (e.g. for the quota,
    or a discipline breach), with the reason; an empty grade removes the adjustment. A grade
    is never raised above what the data give."""
    assessment = _locked_assessment(assessment)
    if assessment.state != AssessmentState.DRAFT:
        raise ApplicationError(
            _("只有草稿状态的考核可以调整等次（当前为%s）。") % assessment.get_state_display()
        )
    reason = (reason or "").strip()
    if not grade and assessment.adjusted_rank is None:
        return assessment
    if not reason:
        raise ValidationError({"adjust_reason": _("请说明调整等次的原因。")})
    grades = {g.name: g.rank for g in assessment.scheme.grades.all()}
    scores = _scores(assessment)
    if grade:
        if grade not in grades:
            raise ValidationError({"adjusted_grade": _("等次“%s”不在考核方案中。") % grade})
        computed = grading(assessment.scheme, scores, assessment.absence_days).grade
        if computed is None:
            raise ApplicationError(_("请先录入全部评分，再调整等次。"))
        if grades[grade] < computed.rank:
            raise ApplicationError(
                _("调整只能降低等次：按总分和封顶为“%(computed)s”，不能调为“%(grade)s”。")
                % {"computed": computed.name, "grade": grade}
            )
        if assessment.adjusted_rank == grades[grade] and assessment.adjust_reason == reason:
            return assessment
        assessment.adjusted_rank, assessment.adjust_reason = grades[grade], reason
        note = _("调整为“%(grade)s”：%(reason)s") % {"grade": grade, "reason": reason}
    else:
        assessment.adjusted_rank, assessment.adjust_reason = None, ""
        note = _("取消等次调整：%s") % reason
    _grade(assessment, assessment.scheme, scores)
    assessment.save(update_fields=[*GRADED_FIELDS, "updated_at"])
    _step(assessment, AssessmentAction.ADJUST, assessment.state, actor, note)
    return assessment


def _missing_entries(assessment: Assessment) -> list[str]:
    scores = _scores(assessment)
    return [
        str(Indicator(i).label)
        for i in ENTERED_INDICATORS
        if assessment.scheme.weight(i) > 0 and scores.get(i) is None
    ]


@transaction.atomic
def assessment_submit(*, assessment: Assessment, actor: User, note: str = "") -> Assessment:
    """草稿 → 已提交, once every weighted entered score is in. Submitting twice changes
    nothing."""
    assessment = _locked_assessment(assessment)
    if assessment.state == AssessmentState.SUBMITTED:
        return assessment
    if assessment.state != AssessmentState.DRAFT:
        raise ApplicationError(_("已定格的考核不能再提交。"))
    missing = _missing_entries(assessment)
    if missing or assessment.grade_rank is None:
        raise ApplicationError(
            _("%(subject)s尚未录入：%(missing)s，不能提交。")
            % {"subject": assessment, "missing": "、".join(missing) or _("评分")}
        )
    assessment.state = AssessmentState.SUBMITTED
    assessment.submitted_by, assessment.submitted_at = actor, timezone.now()
    _touch(assessment)
    assessment.save(
        update_fields=["state", "submitted_by", "submitted_at", "version", "updated_at"]
    )
    _step(assessment, AssessmentAction.SUBMIT, AssessmentState.DRAFT, actor, note)
    return assessment


@transaction.atomic
def assessment_return(*, assessment: Assessment, actor: User, note: str) -> Assessment:
    """已提交 → 草稿 for a correction, with the reason. Returning a draft changes nothing;
    a finalized assessment is never returned."""
    assessment = _locked_assessment(assessment)
    if assessment.state == AssessmentState.DRAFT:
        return assessment
    if assessment.state != AssessmentState.SUBMITTED:
        raise ApplicationError(_("已定格的考核不能退回。"))
    if not (note or "").strip():
        raise ValidationError({"note": _("请填写退回原因。")})
    assessment.state = AssessmentState.DRAFT
    assessment.submitted_by = assessment.submitted_at = None
    _touch(assessment)
    assessment.save(
        update_fields=["state", "submitted_by", "submitted_at", "version", "updated_at"]
    )
    _step(assessment, AssessmentAction.RETURN, AssessmentState.SUBMITTED, actor, note)
    return assessment


def _quota_refusal(county, year, kind, scheme, base, allowed, done, asked) -> ApplicationError:
    top = scheme.grades.all()[0].name
    facts = {
        "grade": top,
        "county": county.name,
        "year": year,
        "kind": SubjectKind(kind).label,
        "base": base,
        "quota": number(scheme.top_quota),
        "rounding": scheme.get_quota_rounding_display(),
        "allowed": allowed,
        "done": done,
        "asked": asked,
    }
    return ApplicationError(
        _(
            "“%(grade)s”超出名额：%(county)s%(year)d年度%(kind)s考核共%(base)d个，"
            "“%(grade)s”不超过%(quota)s%%（%(rounding)s），最多%(allowed)d个；"
            "已定格%(done)d个，本次申请定格%(asked)d个。请先调整等次，本次未定格任何考核。"
        )
        % facts,
        extra={k: v for k, v in facts.items() if isinstance(v, int)},
    )


@transaction.atomic
def assessment_finalize(
    *, assessments: Iterable[Assessment], actor: User, note: str = ""
) -> list[Assessment]:
    """已提交 → 已定格, by the county, all of them or none. The top grade is capped per county,
    year and kind (cadres, teams): the finalized top grades with those asked now may not
    exceed the scheme's quota of all the county's assessments of that year and kind; the
    refusal says how many are allowed and how many were asked. Finalizing locks that year
    of the cadres and of the villages (teams.locks). Finalizing twice changes nothing."""
    if not actor.has_perm("assessments.finalize_assessment"):
        raise ApplicationError(_("只有县级考核管理人员可以定格年度考核。"))
    ids = sorted({a.pk for a in assessments})
    rows = list(
        Assessment.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("county", "cadre", "team", "scheme")
        .order_by("pk")
    )
    if len(rows) != len(ids):
        raise ApplicationError(_("未找到所选的部分考核。"))
    todo = [a for a in rows if a.state != AssessmentState.FINALIZED]
    if not todo:
        return rows
    drafts = [str(a) for a in todo if a.state != AssessmentState.SUBMITTED]
    if drafts:
        raise ApplicationError(
            _("只有已提交的考核才能定格，尚未提交：%s。") % "、".join(drafts[:10])
        )
    groups: dict[tuple, list[Assessment]] = defaultdict(list)
    for a in todo:
        groups[(a.county_id, a.year, a.kind)].append(a)
    for (county_id, year, kind), batch in sorted(groups.items()):
        county = batch[0].county
        scheme = yearly_scheme_for(county, year)
        stale = [str(a) for a in batch if scheme is None or a.scheme_id != scheme.pk]
        if stale:
            raise ApplicationError(
                _("考核方案已变更，请重新计算、提交后再定格：%s。") % "、".join(stale[:10])
            )
        # Lock the county's whole year of this kind: two finalizations never share a quota.
        group = list(
            Assessment.objects.select_for_update()
            .filter(county_id=county_id, year=year, kind=kind)
            .values_list("state", "grade_rank")
        )
        allowed = top_quota(scheme, len(group))
        if allowed is None:
            continue
        done = sum(1 for state, rank in group if state == AssessmentState.FINALIZED and rank == 1)
        asked = sum(1 for a in batch if a.grade_rank == 1)
        if done + asked > allowed:
            raise _quota_refusal(county, year, kind, scheme, len(group), allowed, done, asked)
    now = timezone.now()
    for a in todo:
        a.state, a.finalized_by, a.finalized_at = AssessmentState.FINALIZED, actor, now
        _touch(a)
        a.save(update_fields=["state", "finalized_by", "finalized_at", "version", "updated_at"])
        _step(a, AssessmentAction.FINALIZE, AssessmentState.SUBMITTED, actor, note)
    for year in sorted({a.year for a in todo}):
        year_lock_set(
            year=year,
            reason=_("%d年度考核定格") % year,
            cadre_ids=sorted({a.cadre_id for a in todo if a.year == year and a.cadre_id}),
            village_ids=sorted({a.village_id for a in todo if a.year == year}),
            actor=actor,
        )
    return rows


@transaction.atomic
def assessment_quota_apply(
    *, county: Region, year: int, kind: str, actor: User
) -> list[Assessment]:
    """Bring a county's top grades of a year within the quota the way the rule says: the
    drafts with the top grade keep it in order of total, as many as the quota leaves after
    the submitted and finalized ones; the others are lowered one grade with the reason. A tie
    at the last place is refused (the county decides it). Returns the drafts lowered."""
    _county_in_scope(county, actor)
    scheme = yearly_scheme_for(county, year)
    if scheme is None:
        raise ApplicationError(
            _("%(county)s尚未设置%(year)d年度的年度考核方案。")
            % {"county": county.name, "year": year}
        )
    group = list(
        Assessment.objects.select_for_update(of=("self",))
        .filter(county=county, year=year, kind=kind)
        .select_related("cadre", "team")
        .order_by("-total", "pk")
    )
    allowed = top_quota(scheme, len(group))
    if allowed is None:
        return []
    top = scheme.grades.all()[0].name
    fixed = sum(1 for a in group if a.state != AssessmentState.DRAFT and a.grade_rank == 1)
    slots = allowed - fixed
    if slots < 0:
        raise ApplicationError(
            _(
                "已提交或已定格的“%(grade)s”已有%(fixed)d个，超过名额%(allowed)d个；"
                "请先退回部分已提交的考核。"
            )
            % {"grade": top, "fixed": fixed, "allowed": allowed}
        )
    drafts = [a for a in group if a.state == AssessmentState.DRAFT and a.grade_rank == 1]
    if len(drafts) <= slots:
        return []
    if slots > 0 and drafts[slots - 1].total == drafts[slots].total:
        tied = [str(a) for a in drafts if a.total == drafts[slots].total]
        raise ApplicationError(
            _("第%(n)d名总分并列（%(total)s分）：%(names)s，请人工调整等次。")
            % {"n": slots + fixed, "total": drafts[slots].total, "names": "、".join(tied)}
        )
    second = scheme.grades.all()[1].name
    lowered = []
    for place, assessment in enumerate(drafts[slots:], slots + fixed + 1):
        reason = _(
            "超出“%(grade)s”名额（%(county)s%(year)d年度%(kind)s最多%(allowed)d个），"
            "按总分排序第%(place)d名。"
        ) % {
            "grade": top,
            "county": county.name,
            "year": year,
            "kind": SubjectKind(kind).label,
            "allowed": allowed,
            "place": place,
        }
        lowered.append(
            assessment_adjust_grade(assessment=assessment, actor=actor, grade=second, reason=reason)
        )
    return lowered
