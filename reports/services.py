"""Every write of red/black-list circulars (红黑榜通报).

A draft is built by a job from the stored ranking and findings (one draft per county and
month: building again replaces its entries and keeps its wording); staff word it; publishing
numbers it (`清驻组〔2026〕5号`), freezes it and records its black list on the rankings, which
re-derives the escalations; a correction is a new draft copying a published circular, and
publishing it marks the old one superseded — the only change a published circular allows.
Each lifecycle step writes a CircularEvent (actor, old, new, note).
"""

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from assessments.services import ranking_black_list
from common.errors import ApplicationError, user_message
from villages.models import Level, Region, significant_prefix

from .circulars import (
    check_template,
    default_body,
    default_closing,
    default_title,
    facts_of,
    metrics_of,
    rankings_of,
    render_template,
    rule_for,
    select,
    serious_findings,
)
from .models import (
    Circular,
    CircularEntry,
    CircularEvent,
    CircularRule,
    CircularRun,
    CircularRunStatus,
    CircularSerial,
    CircularStatus,
    EntryKind,
)

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock(namespace, county id): one build of a county at a time.
BUILD_LOCK_NAMESPACE = 7301


# --- rules ---------------------------------------------------------------------------------

RULE_FIELDS = (
    "name",
    "red_count",
    "black_count",
    "serious_bars_red",
    "serious_forces_black",
    "issuer",
    "number_prefix",
    "recipients",
    "red_consequence",
    "black_consequence",
    "title_template",
    "body_template",
    "closing_template",
)


@transaction.atomic
def circular_rule_set(*, region: Region, effective_from: dt.date, **values: Any) -> CircularRule:
    """Create or change a region's circular rule from a date on."""
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ApplicationError(_("这些字段不能填写：%s") % ", ".join(sorted(unknown)))
    if region.level > Level.COUNTY:
        raise ValidationError({"region": _("通报规则应设在县级或以上区划。")})
    rule = CircularRule.objects.filter(region=region, effective_from=effective_from).first()
    rule = rule or CircularRule(region=region, effective_from=effective_from)
    rule.prefix = significant_prefix(region.code, region.level)
    for key, value in values.items():
        setattr(rule, key, value.strip() if isinstance(value, str) else value)
    for name in ("title_template", "body_template", "closing_template"):
        bad = check_template(getattr(rule, name))
        if bad:
            raise ValidationError(
                {name: _("模板中只能使用 {county}、{year}、{month}，不能使用 %s。") % bad}
            )
    rule.full_clean()
    rule.save()
    return rule


# --- the draft: a job ----------------------------------------------------------------------


def circular_request(*, county: Region, period: dt.date, actor: User | None = None) -> CircularRun:
    """Queue the build of a county's draft for a month (after commit). Asking again while one
    is queued or running returns that one."""
    if county.level != Level.COUNTY:
        raise ValidationError({"county": _("请选择县。")})
    period = period.replace(day=1)
    if period > timezone.localdate().replace(day=1):
        raise ValidationError({"period": _("不能生成未来月份的通报。")})
    with transaction.atomic():
        run = (
            CircularRun.objects.select_for_update()
            .filter(
                county=county,
                period=period,
                status__in=[CircularRunStatus.PENDING, CircularRunStatus.RUNNING],
            )
            .first()
        )
        if run is not None:
            return run
        run = CircularRun.objects.create(county=county, period=period, requested_by=actor)
    from .tasks import circular_run_task

    transaction.on_commit(lambda: circular_run_task.delay(run.pk))
    return run


def circular_run(*, run_id: int) -> None:
    """Claim a queued build and run it; a second delivery of the task finds it claimed."""
    claimed = CircularRun.objects.filter(pk=run_id, status=CircularRunStatus.PENDING).update(
        status=CircularRunStatus.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return
    run = CircularRun.objects.select_related("county", "requested_by").get(pk=run_id)
    try:
        circular = circular_build(county=run.county, period=run.period, actor=run.requested_by)
    except (ApplicationError, ValidationError) as exc:
        _finish(run_id, CircularRunStatus.FAILED, error=user_message(exc))
        return
    except Exception:
        _finish(run_id, CircularRunStatus.FAILED, error=_("生成失败：系统内部错误，请联系管理员。"))
        raise
    _finish(run_id, CircularRunStatus.SUCCEEDED, circular_id=circular.pk)


def _finish(run_id: int, status: str, *, error: str = "", circular_id: int | None = None):
    CircularRun.objects.filter(pk=run_id).update(
        status=status,
        error=error,
        circular_id=circular_id,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _event(circular: Circular, action: str, old: str, actor: User | None, note: str = ""):
    CircularEvent.objects.create(
        circular=circular,
        action=action,
        old=old,
        new=circular.status,
        actor=actor,
        note=(note or "").strip(),
    )


@transaction.atomic
def circular_build(*, county: Region, period: dt.date, actor: User | None = None) -> Circular:
    """Build (or rebuild) the county's draft for a month from the stored ranking and the
    month's findings. There is at most one draft per county and month: building again
    replaces its entries and keeps its wording; a published circular is never touched."""
    if county.level != Level.COUNTY:
        raise ValidationError({"county": _("请选择县。")})
    period = period.replace(day=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [BUILD_LOCK_NAMESPACE, county.pk])
    rule = rule_for(county, period)
    if rule is None:
        raise ApplicationError(_("%s尚未设置红黑榜通报规则。") % county.name)
    rankings = rankings_of(county, period)
    if not rankings:
        raise ApplicationError(
            _("%(county)s %(period)s 尚无月度排名，请先计算排名。")
            % {"county": county.name, "period": f"{period:%Y-%m}"}
        )
    draft = (
        Circular.objects.select_for_update()
        .filter(county=county, period=period, status=CircularStatus.DRAFT)
        .first()
    )
    if draft is None:
        published = Circular.objects.filter(
            county=county, period=period, status=CircularStatus.PUBLISHED
        ).first()
        if published is not None:
            raise ApplicationError(
                _("%(county)s %(period)s 的通报已发布（%(number)s），如需修改请发布更正。")
                % {"county": county.name, "period": f"{period:%Y-%m}", "number": published}
            )
    picks = select(rankings, serious_findings(county, period), rule)
    now = timezone.now()
    if draft is None:
        draft = Circular(
            county=county,
            period=period,
            rule=rule,
            title=render_template(
                rule.title_template, default_title(), county=county, period=period
            ),
            recipients=rule.recipients,
            body=render_template(rule.body_template, default_body(), county=county, period=period),
            closing=render_template(
                rule.closing_template, default_closing(), county=county, period=period
            ),
            issuer=rule.issuer,
            number_prefix=rule.number_prefix,
            built_at=now,
            created_by=actor,
        )
        draft.full_clean()
        draft.save()
        action, old = CircularEvent.Action.BUILT, ""
    else:
        draft.rule, draft.issuer, draft.number_prefix = rule, rule.issuer, rule.number_prefix
        draft.built_at = now
        draft.revision += 1
        draft.full_clean()
        draft.save(
            update_fields=["rule", "issuer", "number_prefix", "built_at", "revision", "updated_at"]
        )
        draft.entries.all().delete()
        action, old = CircularEvent.Action.REBUILT, CircularStatus.DRAFT
    consequence = {EntryKind.RED: rule.red_consequence, EntryKind.BLACK: rule.black_consequence}
    entries, counters = [], {EntryKind.RED: 0, EntryKind.BLACK: 0}
    for pick in picks:
        counters[pick.kind] += 1
        r = pick.ranking
        team = r.team
        entry = CircularEntry(
            circular=draft,
            kind=pick.kind,
            order=counters[pick.kind],
            team=team,
            team_name=team.name,
            village_name=team.village.name,
            township_name=team.village.township.name,
            unit_name=team.lead_unit.name,
            rank=r.rank,
            of=r.of,
            score=r.score,
            metrics=metrics_of(r),
            findings=[{k: v for k, v in f.items() if k != "team_id"} for f in pick.findings],
            by_rank=pick.by_rank,
            by_finding=pick.by_finding,
            facts=facts_of(pick),
            consequence=consequence[pick.kind],
        )
        entry.clean_fields(exclude=["circular", "team"])  # the FKs are the rows just read
        entries.append(entry)
    CircularEntry.objects.bulk_create(entries)
    _event(
        draft,
        action,
        old,
        actor,
        _("红榜%(red)d个，黑榜%(black)d个")
        % {"red": counters[EntryKind.RED], "black": counters[EntryKind.BLACK]},
    )
    return draft


def circulars_request_due(*, period: dt.date) -> int:
    """Queue the drafts of a month for every county whose ranking of that month succeeded,
    that has a circular rule in force and no circular (or build) of that month yet.
    Returns the number queued."""
    from assessments.models import RankingRun, RankingRunStatus

    period = period.replace(day=1)
    counties = list(
        Region.objects.filter(level=Level.COUNTY)
        .filter(
            Exists(
                RankingRun.objects.filter(
                    county=OuterRef("pk"), period=period, status=RankingRunStatus.SUCCEEDED
                )
            )
        )
        .exclude(Exists(Circular.objects.filter(county=OuterRef("pk"), period=period)))
        .exclude(
            Exists(
                CircularRun.objects.filter(
                    county=OuterRef("pk"),
                    period=period,
                    status__in=[CircularRunStatus.PENDING, CircularRunStatus.RUNNING],
                )
            )
        )
        .order_by("code")
    )
    prefixes = set(
        CircularRule.objects.filter(effective_from__lte=period).values_list("prefix", flat=True)
    )
    queued = 0
    for county in counties:
        if any(county.code.startswith(p) for p in prefixes):
            circular_request(county=county, period=period)
            queued += 1
    return queued


# --- wording of a draft --------------------------------------------------------------------


def conflict_message() -> str:
    return _("该通报草稿已被他人修改或已重新生成，请刷新页面后再修改。")


def _touch(circular_id: int) -> None:
    """An entry changed: the draft changed (its revision moves on)."""
    Circular.objects.filter(pk=circular_id).update(
        revision=F("revision") + 1, updated_at=timezone.now()
    )


def _entry(pk: int) -> CircularEntry:
    entry = CircularEntry.objects.filter(pk=pk).first()
    if entry is None:
        raise ApplicationError(conflict_message())
    return entry


def _locked(pk: int) -> Circular:
    """The circular, its row locked (not its county's) until the transaction ends."""
    return Circular.objects.select_for_update(of=("self",)).select_related("county").get(pk=pk)


def _locked_draft(pk: int, refusal: str) -> Circular:
    circular = _locked(pk)
    if circular.status != CircularStatus.DRAFT:
        raise ApplicationError(refusal, extra={"status": circular.status})
    return circular


@transaction.atomic
def circular_update(
    *,
    circular: Circular,
    actor: User | None,
    title: str,
    recipients: str,
    body: str,
    closing: str,
    correction_reason: str | None = None,
    revision: int | None = None,
) -> Circular:
    """Word a draft: title, recipients, opening, closing (and, for a correction, why it
    corrects). `revision` is the draft's revision as the editor loaded it: a draft changed
    since (worded by someone else, its entries edited, or rebuilt) is refused, never
    silently overwritten."""
    circular = _locked_draft(circular.pk, _("已发布的通报不能修改；如需修改，请发布更正。"))
    if revision is not None and circular.revision != revision:
        raise ApplicationError(conflict_message(), extra={"revision": circular.revision})
    values = {"title": title, "recipients": recipients, "body": body, "closing": closing}
    if correction_reason is not None:
        if correction_reason.strip() and circular.supersedes_id is None:
            raise ValidationError({"correction_reason": _("只有更正通报才填写更正说明。")})
        if circular.supersedes_id is not None and not correction_reason.strip():
            raise ValidationError({"correction_reason": _("请填写更正说明。")})
        values["correction_reason"] = correction_reason
    changed = []
    for name, value in values.items():
        value = (value or "").strip()
        if getattr(circular, name) != value:
            setattr(circular, name, value)
            changed.append(name)
    if not changed:
        return circular
    circular.revision += 1
    circular.full_clean()
    circular.save(update_fields=[*changed, "revision", "updated_at"])
    return circular


@transaction.atomic
def circular_entry_update(
    *, entry: CircularEntry, actor: User | None, facts: str, consequence: str
) -> CircularEntry:
    """Word an entry of a draft: the facts that put the team there and the consequence."""
    _locked_draft(entry.circular_id, _("已发布的通报不能修改；如需修改，请发布更正。"))
    entry = _entry(entry.pk)
    facts, consequence = (facts or "").strip(), (consequence or "").strip()
    if not facts:
        raise ValidationError({"facts": _("请填写列入事实。")})
    if not consequence:
        raise ValidationError({"consequence": _("请填写相应后果。")})
    if (entry.facts, entry.consequence) == (facts, consequence):
        return entry
    entry.facts, entry.consequence = facts, consequence
    entry.full_clean()
    entry.save(update_fields=["facts", "consequence", "updated_at"])
    _touch(entry.circular_id)
    return entry


@transaction.atomic
def circular_entry_remove(*, entry: CircularEntry, actor: User | None) -> None:
    """Take a team off a draft's list (a staff decision, e.g. in a correction); the later
    entries of that list move up one place."""
    _locked_draft(entry.circular_id, _("已发布的通报不能修改；如需修改，请发布更正。"))
    entry = _entry(entry.pk)
    entry.delete()
    later = CircularEntry.objects.filter(
        circular_id=entry.circular_id, kind=entry.kind, order__gt=entry.order
    ).order_by("order")
    for other in later:  # one by one, upwards: the (list, order) key stays unique throughout
        other.order -= 1
        other.save(update_fields=["order", "updated_at"])
    _touch(entry.circular_id)


@transaction.atomic
def circular_delete(*, circular: Circular, actor: User | None) -> None:
    """Discard a draft (with its entries). A published circular is never deleted."""
    circular = _locked_draft(circular.pk, _("已发布的通报不能删除；如需修改，请发布更正。"))
    circular.delete()


# --- publishing and correcting -------------------------------------------------------------


def _next_serial(number_prefix: str, year: int) -> int:
    """The next serial of a prefix and year: one upsert that keeps the counter row locked
    until commit, so concurrent publishes queue on it and never share a serial."""
    table = CircularSerial._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (number_prefix, year, last) VALUES (%s, %s, 1)
            ON CONFLICT (number_prefix, year) DO UPDATE SET last = {table}.last + 1
            RETURNING last
            """,  # noqa: S608 - the table name is the model's own
            [number_prefix, year],
        )
        return cursor.fetchone()[0]


def format_number(number_prefix: str, year: int, serial: int) -> str:
    return f"{number_prefix}〔{year}〕{serial}号"


@transaction.atomic
def circular_publish(
    *, circular: Circular, actor: User | None, published_on: dt.date | None = None
) -> Circular:
    """Publish a draft: give it the next number of its prefix and year, freeze it, mark the
    circular it corrects superseded, and record its black list on the month's rankings (the
    escalations follow). Publishing again changes nothing."""
    circular = _locked(circular.pk)
    if circular.status == CircularStatus.PUBLISHED:
        return circular
    if circular.status == CircularStatus.SUPERSEDED:
        raise ApplicationError(_("该通报已被更正，不能再发布。"))
    today = timezone.localdate()
    published_on = published_on or today
    if published_on > today:
        raise ValidationError({"published_on": _("成文日期不能晚于今天。")})
    if published_on < circular.period:
        raise ValidationError({"published_on": _("成文日期不能早于通报月份。")})
    entries = list(circular.entries.all())
    if not entries:
        raise ApplicationError(_("该通报没有列入红榜或黑榜的工作队，不能发布。"))
    old = None
    if circular.supersedes_id is not None:
        old = Circular.objects.select_for_update().get(pk=circular.supersedes_id)
        if old.status != CircularStatus.PUBLISHED:
            raise ApplicationError(
                _("被更正的通报 %s 已被其他更正取代，请删除本草稿后重新发布更正。") % old
            )
    else:
        current = Circular.objects.filter(
            county=circular.county, period=circular.period, status=CircularStatus.PUBLISHED
        ).first()
        if current is not None:
            raise ApplicationError(
                _("该县该月已有发布的通报（%s），请对其发布更正。") % current.number
            )
    if old is not None:
        # Marked first: the county and month have one published circular at any time.
        old.status, old.superseded_at = CircularStatus.SUPERSEDED, timezone.now()
        old.save(update_fields=["status", "superseded_at", "updated_at"])
        _event(old, CircularEvent.Action.SUPERSEDED, CircularStatus.PUBLISHED, actor)
    serial = _next_serial(circular.number_prefix, published_on.year)
    circular.status = CircularStatus.PUBLISHED
    circular.year, circular.serial = published_on.year, serial
    circular.number = format_number(circular.number_prefix, published_on.year, serial)
    circular.published_on, circular.published_by = published_on, actor
    circular.full_clean()
    circular.save(
        update_fields=[
            "status",
            "year",
            "serial",
            "number",
            "published_on",
            "published_by",
            "updated_at",
        ]
    )
    _event(
        circular,
        CircularEvent.Action.PUBLISHED,
        CircularStatus.DRAFT,
        actor,
        _("更正 %s") % old.number if old else "",
    )
    ranking_black_list(
        county=circular.county,
        period=circular.period,
        team_ids=[e.team_id for e in entries if e.kind == EntryKind.BLACK],
    )
    return circular


@transaction.atomic
def circular_correct(*, circular: Circular, actor: User | None, reason: str) -> Circular:
    """发布更正: a new draft copying a published circular (wording and entries), which
    supersedes it once published. Asking again returns the draft already made."""
    old = _locked(circular.pk)
    if old.status == CircularStatus.DRAFT:
        raise ApplicationError(_("草稿可以直接修改，无需发布更正。"))
    if old.status == CircularStatus.SUPERSEDED:
        raise ApplicationError(_("该通报已被更正，请对最新的更正通报发布更正。"))
    existing = Circular.objects.filter(supersedes=old, status=CircularStatus.DRAFT).first()
    if existing is not None:
        return existing
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写更正说明。")})
    other = Circular.objects.filter(
        county=old.county, period=old.period, status=CircularStatus.DRAFT
    ).first()
    if other is not None:
        raise ApplicationError(_("该县该月已有通报草稿，请先发布或删除该草稿。"))
    new = Circular(
        county=old.county,
        period=old.period,
        rule=old.rule,
        title=old.title,
        recipients=old.recipients,
        body=old.body,
        closing=old.closing,
        issuer=old.issuer,
        number_prefix=old.number_prefix,
        supersedes=old,
        correction_reason=reason,
        built_at=old.built_at,
        created_by=actor,
    )
    new.full_clean()
    new.save()
    copied = []
    for entry in old.entries.all():
        entry.pk = None
        entry.circular = new
        copied.append(entry)
    CircularEntry.objects.bulk_create(copied)
    _event(new, CircularEvent.Action.CORRECTION, "", actor, reason)
    return new
