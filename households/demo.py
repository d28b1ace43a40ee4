"""Demo households (seed_demo's second part): about 80-120 per village, 3.4 members each,
two years of monthly incomes with a realistic spread (some under the line, some falling),
monitoring for about 6 %, measures and pairings.

Members are encrypted in Python (the keys never reach SQL); the monthly incomes are generated
in one server-side INSERT from per-household figures, with deterministic noise, so that the
county scale stays fast. The yearly figures follow from the triggers like any other write.
"""

import datetime as dt
import random
import time
import uuid
from decimal import Decimal

from django.db import connection

from common.people import id_check_char
from common.progress import Progress
from teams.demo import Namer, make_phone
from villages.models import Level, Region

from .codes import Cause, Education, Health, Labour, MeasureKind, Relation, SchoolStatus
from .models import (
    Household,
    HouseholdStatusChange,
    IncomeLine,
    Measure,
    Member,
    Monitoring,
    MonitoringEvent,
    Pairing,
    ReportBand,
)

CAUSE_WEIGHTS = {
    Cause.ILLNESS: 30,
    Cause.DISABILITY: 12,
    Cause.SCHOOLING: 8,
    Cause.DISASTER: 4,
    Cause.LAND: 3,
    Cause.WATER: 2,
    Cause.SKILLS: 12,
    Cause.LABOUR: 10,
    Cause.FUNDS: 12,
    Cause.TRANSPORT: 2,
    Cause.MOTIVATION: 3,
    Cause.OTHER: 2,
}


DIARY_WORK = ("入户走访农户", "召开村两委会议", "协调产业项目", "整理帮扶台账")


class HouseholdSeeder:
    def __init__(
        self,
        *,
        rnd: random.Random,
        today: dt.date,
        batch_size: int = 2000,
        per_village: tuple[int, int] = (80, 120),
        stderr=None,
    ):
        self.rnd, self.today, self.batch_size = rnd, today, batch_size
        self.per_village, self.stderr = per_village, stderr
        self.namer = Namer(rnd)
        self.used_ids: set[str] = set()
        self.started = time.monotonic()

    def step(self, label: str) -> None:
        if self.stderr is not None:
            self.stderr.write(f"{label:<12} done at {time.monotonic() - self.started:6.1f}s\n")

    def seed(self, villages, team_cadres_by_village, counties) -> dict[str, int]:
        rnd = self.rnd
        province = Region.objects.get(level=Level.PROVINCE)
        for year, amount in (
            (self.today.year - 1, Decimal("6800")),
            (self.today.year, Decimal("7000")),
        ):
            IncomeLine.objects.create(
                year=year, region=province, prefix=province.prefix, amount=amount, note="省定监测线"
            )
        IncomeLine.objects.create(
            year=self.today.year,
            region=counties[0],
            prefix=counties[0].prefix,
            amount=Decimal("7200"),
            note="县定监测线（高于省线）",
        )
        for county in counties:
            for amount in (Decimal("7500"), Decimal("4500")):
                ReportBand.objects.create(region=county, prefix=county.prefix, amount=amount)
        colour_county = counties[0].code[:6]

        households, plans, families = [], [], []
        progress = Progress("households", len(villages), stream=self.stderr)
        for village in villages:
            for n in range(rnd.randint(*self.per_village)):
                household = self.household(village, n, village.code[:6] == colour_county)
                family = self.family(household)
                household.head_name = family[0].name
                households.append(household)
                families.append(family)
                plans.append(village)
            progress.advance()
        households = Household.objects.bulk_create(households, batch_size=self.batch_size)
        self.step("households")
        members = []
        for household, family in zip(households, families, strict=True):
            for member in family:
                member.household = household
                members.append(member)
        Member.objects.bulk_create(members, batch_size=self.batch_size)
        self.step("members")
        HouseholdStatusChange.objects.bulk_create(
            [
                HouseholdStatusChange(
                    household=h,
                    new_id=h.status_id,
                    reason="建档",
                    changed_on=dt.date(h.year_identified, 10, 1),
                )
                for h in households
            ],
            batch_size=self.batch_size,
        )

        self.step("statuses")
        incomes = self.incomes(households)
        self.step("incomes")
        self.monitoring_measures_pairings(households, plans, team_cadres_by_village)
        self.step("monitoring")
        work = self.work(households, plans, counties)
        self.step("work")
        return {"households": len(households), "members": len(members), "incomes": incomes} | work

    def work(self, households, villages, counties) -> dict[str, int]:
        """Presence rules (五天四夜 in the first county, ≥20 days a month elsewhere), five
        weeks of check-ins, some leave, diaries, and last month's visits (about 70 %)."""
        from teams.models import (
            Assignment,
            AssignmentStatus,
            Attendance,
            DiaryEntry,
            LeaveRequest,
            PresenceRule,
        )

        from .models import VisitLog

        rnd = self.rnd
        for i, county in enumerate(counties):
            weekly = i % 2 == 0
            PresenceRule.objects.create(
                region=county,
                prefix=county.prefix,
                effective_from=dt.date(self.today.year, 1, 1),
                name="五天四夜" if weekly else "每月不少于20天",
                days_per_week=5 if weekly else None,
                nights_per_week=4 if weekly else None,
                days_per_month=None if weekly else 20,
                days_per_year=200,
                counted_kinds=["meeting", "training", "project"],
                township_leave_days=3 if weekly else 5,
            )
        serving = list(
            Assignment.objects.filter(status=AssignmentStatus.ACTIVE).values_list(
                "cadre_id", "team_id", "team__village_id"
            )
        )
        by_village: dict[int, list[tuple[int, int]]] = {}
        attendance, diaries, leaves = [], [], []
        first = self.today - dt.timedelta(days=35)
        for cadre_id, team_id, village_id in serving:
            by_village.setdefault(village_id, []).append((cadre_id, team_id))
            diligence = rnd.choice((0.95, 0.9, 0.85, 0.6))
            day = first
            while day < self.today:
                if rnd.random() < (diligence if day.weekday() < 5 else 0.3):
                    attendance.append(
                        Attendance(
                            cadre_id=cadre_id,
                            team_id=team_id,
                            day=day,
                            status="present",
                            source="checkin",
                            overnight=rnd.random() < 0.8,
                            checked_in_at=dt.datetime.combine(
                                day, dt.time(8, rnd.randint(0, 59)), tzinfo=dt.UTC
                            ),
                        )
                    )
                    if rnd.random() < 0.3:
                        diaries.append(
                            DiaryEntry(
                                cadre_id=cadre_id,
                                team_id=team_id,
                                day=day,
                                work_done=rnd.choice(DIARY_WORK),
                                next_plan="继续走访监测户",
                            )
                        )
                day += dt.timedelta(days=1)
            if rnd.random() < 0.1:
                start = self.today + dt.timedelta(days=rnd.randint(2, 20))
                length = rnd.randint(1, 6)
                leaves.append(
                    LeaveRequest(
                        cadre_id=cadre_id,
                        team_id=team_id,
                        kind=rnd.choice(("personal", "sick", "training")),
                        start=start,
                        end=start + dt.timedelta(days=length - 1),
                        days=length,
                        reason="家中有事",
                        status="pending",
                        approver_level="township" if length <= 3 else "county",
                    )
                )
        for leave in leaves:
            if leave.kind == "training":
                leave.status, leave.approver_level = "filed", ""
        Attendance.objects.bulk_create(attendance, batch_size=self.batch_size)
        DiaryEntry.objects.bulk_create(diaries, batch_size=self.batch_size)
        LeaveRequest.objects.bulk_create(leaves, batch_size=self.batch_size)
        last_month = (self.today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        visits = []
        for household, village in zip(households, villages, strict=True):
            team = by_village.get(village.pk)
            if not team or rnd.random() > 0.7:
                continue
            cadre_id, team_id = rnd.choice(team)
            visits.append(
                VisitLog(
                    household=household,
                    cadre_id=cadre_id,
                    team_id=team_id,
                    visited_on=last_month + dt.timedelta(days=rnd.randint(0, 27)),
                    kind="in_person" if rnd.random() < 0.85 else "phone",
                    seen=rnd.choice(("家庭生活正常", "住房安全，饮水正常", "主要劳动力外出务工")),
                    client_key=uuid.UUID(int=rnd.getrandbits(128)),
                )
            )
        VisitLog.objects.bulk_create(visits, batch_size=self.batch_size)
        return {
            "attendance": len(attendance),
            "visits": len(visits),
            "diaries": len(diaries),
            "leave": len(leaves),
        }

    def household(self, village, n: int, colours: bool) -> Household:
        rnd = self.rnd
        main = rnd.choices(list(CAUSE_WEIGHTS), weights=list(CAUSE_WEIGHTS.values()))[0]
        others = rnd.sample([c for c in Cause if c != main], k=rnd.choice((0, 0, 1, 1, 2)))
        status = rnd.choices(
            ("lifted", "returned", "cancelled", "not_lifted"), weights=(93, 2, 3, 2)
        )[0]
        identified = rnd.choice((2014, 2015, 2016))
        return Household(
            village=village,
            code=f"{village.code}{n + 1:04d}",
            head_name="",
            phone=make_phone(rnd) if rnd.random() < 0.8 else "",
            household_type=rnd.choices(
                ("general", "dibao", "wubao", "dibao_poor"), weights=(70, 20, 5, 5)
            )[0],
            standard="national",
            status_id=status,
            main_cause=main,
            other_causes=others,
            year_identified=identified,
            year_lifted=rnd.choice((2017, 2018, 2019, 2020)) if status != "not_lifted" else None,
            card_colour=rnd.choices(("red", "blue", "yellow"), weights=(15, 45, 40))[0]
            if colours
            else "",
            food_clothing_secure=True,
            education_secure=rnd.random() > 0.01,
            medical_secure=rnd.random() > 0.02,
            housing_grade=rnd.choices("ABCD", weights=(70, 27, 2, 1))[0],
            safe_water=rnd.random() > 0.02,
            relocated=rnd.random() < 0.08,
        )

    def person(self, household, relation, born: dt.date, sex: str, surname: str | None = None):
        rnd = self.rnd
        while True:
            seq = rnd.randrange(0, 500) * 2 + (1 if sex == "M" else 0)
            first17 = f"{household.village.code[:6]}{born:%Y%m%d}{seq:03d}"
            number = first17 + id_check_char(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                break
        age = self.today.year - born.year
        name = self.namer.person()
        if surname:
            name = surname + name[1:]
        if age < 6:
            education, school, labour = Education.PRESCHOOL, SchoolStatus.PRESCHOOL, Labour.NONE
        elif age < 16:
            education = Education.PRIMARY if age < 12 else Education.JUNIOR
            school = SchoolStatus.PRIMARY if age < 12 else SchoolStatus.JUNIOR
            labour = Labour.NONE
        elif age < 19 and rnd.random() < 0.7:
            education, school, labour = Education.JUNIOR, SchoolStatus.SENIOR, Labour.NONE
        else:
            education = rnd.choices(
                (Education.ILLITERATE, Education.PRIMARY, Education.JUNIOR, Education.SENIOR),
                weights=(8, 30, 45, 17),
            )[0]
            school = SchoolStatus.NONE
            labour = (
                Labour.LOST
                if age > 70
                else rnd.choices(
                    (Labour.ORDINARY, Labour.SKILLED, Labour.WEAK, Labour.LOST),
                    weights=(60, 12, 20, 8),
                )[0]
            )
        health = rnd.choices(
            (Health.HEALTHY, Health.CHRONIC, Health.SERIOUS, Health.DISABLED),
            weights=(72, 18, 5, 5),
        )[0]
        return Member(
            household=household,
            name=name,
            id_number=number,
            relation=relation,
            sex=sex,
            birth_date=born,
            education=education,
            school_status=school,
            health=health,
            disability_grade=rnd.choice("1234") if health == Health.DISABLED else "",
            labour=labour,
            migrant_months=rnd.choice((0, 0, 0, 3, 6, 9, 12))
            if labour in (Labour.ORDINARY, Labour.SKILLED)
            else 0,
            medical_insured=True,
            serious_illness_insured=rnd.random() > 0.03,
            pension_insured=age >= 16 and rnd.random() < 0.8,
            joined_on=dt.date(household.year_identified, 1, 1),
        )

    def family(self, household) -> list[Member]:
        rnd = self.rnd
        day = lambda y: dt.date(y, rnd.randint(1, 12), rnd.randint(1, 28))  # noqa: E731
        head_born = day(rnd.randint(1945, 1985))
        head_sex = "M" if rnd.random() < 0.85 else "F"
        head = self.person(household, Relation.HEAD, head_born, head_sex)
        surname = head.name[0]
        out = [head]
        if rnd.random() < 0.82:
            out.append(
                self.person(
                    household,
                    Relation.SPOUSE,
                    day(min(head_born.year + rnd.randint(-3, 3), 1990)),
                    "F" if head_sex == "M" else "M",
                )
            )
        for _child in range(rnd.choices((0, 1, 2, 3), weights=(20, 35, 35, 10))[0]):
            born = day(min(head_born.year + rnd.randint(22, 35), self.today.year - 1))
            sex = rnd.choice("MF")
            out.append(
                self.person(
                    household, Relation.SON if sex == "M" else Relation.DAUGHTER, born, sex, surname
                )
            )
        if head_born.year > 1965 and rnd.random() < 0.3:
            out.append(
                self.person(
                    household,
                    Relation.PARENT,
                    day(head_born.year - rnd.randint(22, 30)),
                    rnd.choice("MF"),
                )
            )
        return out

    def incomes(self, households) -> int:
        """Two years of monthly incomes, generated in one INSERT … SELECT.

        Each household gets a per-capita level (about 7 % under the line), a trend from last
        year to this one (about 10 % falling), and per-month noise from a hash, so the same
        seed gives the same figures.
        """
        rnd = self.rnd
        ids, levels, trends, skips = [], [], [], []
        for household in households:
            ids.append(household.pk)
            levels.append(round(rnd.lognormvariate(9.4, 0.35), 2))  # annual per capita
            trends.append(
                round(rnd.uniform(0.75, 0.95) if rnd.random() < 0.1 else rnd.uniform(1.0, 1.15), 3)
            )
            skips.append(rnd.random() < 0.03)  # last month not registered yet
        last_month = (self.today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        first_month = dt.date(self.today.year - 1, 1, 1)
        sql = """
            INSERT INTO households_incomerecord
                (household_id, month, wage, business, property_income, transfer,
                 production_cost, created_at, updated_at)
            SELECT p.id, m::date,
                   round((p.level * sizes.n / 12 * f.trend * 0.55 * f.noise)::numeric, 2),
                   round((p.level * sizes.n / 12 * f.trend * 0.30 * f.noise)::numeric, 2),
                   round((p.level * sizes.n / 12 * 0.03)::numeric, 2),
                   round((p.level * sizes.n / 12 * 0.22)::numeric, 2),
                   round((p.level * sizes.n / 12 * 0.10 * f.noise)::numeric, 2),
                   now(), now()
              FROM unnest(%s::bigint[], %s::float8[], %s::float8[],
                          %s::bool[]) AS p(id, level, trend, skip)
              JOIN LATERAL (SELECT count(*) AS n FROM households_member mm
                             WHERE mm.household_id = p.id) sizes ON true
             CROSS JOIN generate_series(%s::date, %s::date, '1 month') AS m
             CROSS JOIN LATERAL (
                   SELECT CASE WHEN extract(year FROM m) = %s THEN p.trend ELSE 1 END
                              AS trend,
                          0.8 + (abs(hashtext(p.id::text || m::text)) %% 400) / 1000.0 AS noise
             ) f
             WHERE NOT (p.skip AND m::date = %s::date)
        """
        with connection.cursor() as cursor:
            params = [
                ids,
                levels,
                trends,
                skips,
                first_month,
                last_month,
                self.today.year,
                last_month,
            ]
            cursor.execute(sql, params)
            return cursor.rowcount

    def monitoring_measures_pairings(self, households, villages, team_cadres_by_village):
        rnd = self.rnd
        monitorings, measures, pairings = [], [], []
        for household, village in zip(households, villages, strict=True):
            monitored = rnd.random() < 0.065
            if monitored:
                identified = self.today - dt.timedelta(days=rnd.randint(30, 700))
                eliminated = rnd.random() < 0.3 and identified < self.today - dt.timedelta(days=200)
                monitorings.append(
                    Monitoring(
                        household=household,
                        category=rnd.choices(
                            ("unstable", "marginal", "sudden"), weights=(45, 35, 20)
                        )[0],
                        risk_types=rnd.sample(
                            [
                                "illness",
                                "disability",
                                "schooling",
                                "disaster",
                                "employment",
                                "income_drop",
                                "expenses",
                            ],
                            k=rnd.randint(1, 2),
                        ),
                        discovery=rnd.choices(("self", "visit", "screening"), weights=(20, 60, 20))[
                            0
                        ],
                        identified_on=identified,
                        eliminated_on=identified + dt.timedelta(days=rnd.randint(190, 260))
                        if eliminated
                        else None,
                        status="eliminated" if eliminated else "monitoring",
                    )
                )
            if (monitored and rnd.random() < 0.9) or rnd.random() < 0.25:
                for _ in range(rnd.randint(1, 2)):
                    start = self.today - dt.timedelta(days=rnd.randint(20, 900))
                    measures.append(
                        Measure(
                            household=household,
                            kind=rnd.choice(list(MeasureKind)),
                            start=start,
                            end=start + dt.timedelta(days=365) if rnd.random() < 0.4 else None,
                            owner=rnd.choice(("县人社局", "县农业农村局", "乡镇政府", "县卫健局")),
                            note="",
                        )
                    )
            cadres = team_cadres_by_village.get(village.pk) or []
            if cadres and rnd.random() < 0.95:
                pairings.append(
                    Pairing(
                        household=household,
                        cadre=rnd.choice(cadres),
                        start=dt.date(2025, 1, 1),
                        reason="驻村结对",
                    )
                )
        monitorings = Monitoring.objects.bulk_create(monitorings, batch_size=self.batch_size)
        steps = []
        for m in monitorings:
            steps.append(MonitoringEvent(monitoring=m, kind="identified", on=m.identified_on))
            if m.eliminated_on:
                steps.append(MonitoringEvent(monitoring=m, kind="eliminated", on=m.eliminated_on))
        MonitoringEvent.objects.bulk_create(steps, batch_size=self.batch_size)
        Measure.objects.bulk_create(measures, batch_size=self.batch_size)
        Pairing.objects.bulk_create(pairings, batch_size=self.batch_size)
