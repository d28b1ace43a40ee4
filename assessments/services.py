"""Every write of inspections and findings; each status change checks its from-state, does
nothing when nothing changes, and writes a FindingEvent (actor, old, new, note)."""

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from common.errors import ApplicationError, user_message
from households.models import Household
from teams.models import Assignment, Cadre, DispatchingUnit, WorkTeam
from teams.presence import attendance_record_absence
from villages.models import Level, Region, Village, significant_prefix

from .models import (
    ABSENCE_CATEGORIES,
    TEAM_STEPS,
    Escalation,
    EscalationStatus,
    Finding,
    FindingEvent,
    FindingStatus,
    IndicatorScheme,
    Inspection,
    InspectionKind,
    MonthlyRanking,
    RankingRun,
    RankingRunStatus,
    Step,
    Subject,
)
from .ranking import county_metrics, order, scheme_for, score


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
    """Derive the steps reached in `period` from the stored rankings: a month among the last
    three or on a published black list counts. Pending steps follow a recomputed ranking;
    confirmed ones stand."""
    period = period.replace(day=1)
    bottom_rows = MonthlyRanking.objects.filter(county=county, period__lte=period).filter(
        Q(rank__gt=F("of") - 3) | Q(black_listed=True)
    )
    bottom = set(bottom_rows.values_list("team_id", "period"))
    now_bottom = (
        bottom_rows.filter(period=period).select_related("team", "team__lead_unit").order_by("rank")
    )
    Escalation.objects.filter(
        county=county, period=period, status=EscalationStatus.PENDING, team__isnull=False
    ).exclude(team__in=[r.team_id for r in now_bottom]).delete()
    made = []
    for row in now_bottom:
        streak = 1
        while (row.team_id, _months_back(period, streak)) in bottom:
            streak += 1
        step = TEAM_STEPS[min(streak, 3) - 1]
        leader = (
            Assignment.objects.filter(team=row.team, status="active", is_leader=True)
            .values_list("cadre_id", flat=True)
            .first()
        )
        facts = {"period": f"{period:%Y-%m}", "rank": row.rank, "of": row.of, "n": streak}
        if row.bottom and row.black_listed:
            basis = _("%(period)s 月度排名第%(rank)d/%(of)d名（后三名），列入黑榜，连续%(n)d个月。")
        elif row.bottom:
            basis = _("%(period)s 月度排名第%(rank)d/%(of)d名（后三名），连续%(n)d个月。")
        else:
            basis = _("%(period)s 列入黑榜（月度排名第%(rank)d/%(of)d名），连续%(n)d个月。")
        basis %= facts
        escalation, _created = Escalation.objects.get_or_create(
            team=row.team,
            period=period,
            defaults={
                "county": county,
                "step": step,
                "leader_id": leader,
                "streak": streak,
                "basis": basis,
            },
        )
        if escalation.status == EscalationStatus.PENDING and (
            escalation.step != step or escalation.streak != streak or escalation.basis != basis
        ):
            escalation.step, escalation.streak, escalation.basis = step, streak, basis
            escalation.save(update_fields=["step", "streak", "basis", "updated_at"])
        made.append(escalation)
    units = {r.team.lead_unit for r in now_bottom}
    for unit in units:
        named = sum(1 for team_id, _p in bottom if team_id in _unit_team_ids(unit))
        if named >= UNIT_NAMED_LIMIT:
            escalation, created = Escalation.objects.get_or_create(
                unit=unit,
                step=Step.SUMMON,
                defaults={
                    "county": county,
                    "period": period,
                    "streak": named,
                    "basis": _("所派工作队累计%(n)d次排名后三名或列入黑榜（至%(period)s）。")
                    % {"n": named, "period": f"{period:%Y-%m}"},
                },
            )
            if created:
                made.append(escalation)
    return made


def _unit_team_ids(unit: DispatchingUnit) -> set[int]:
    return set(WorkTeam.objects.filter(lead_unit=unit).values_list("pk", flat=True))


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
