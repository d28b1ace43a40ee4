"""Demo oversight (seed_demo's third part): an indicator scheme per county, last month's
inspection of a few villages per county with findings at every stage of the ledger (one of
them an absence found in the village, one serious), last month's ranking with the escalation
steps it leads to, and a yearly scheme (the four grades of domain.md §1 with the absence
ceilings and a 25 % quota on 优秀) with this year's assessments filled as drafts. Everything
goes through the services, like a county's work.
"""

import datetime as dt
import random
from decimal import Decimal

from teams.models import Assignment, AssignmentStatus
from villages.models import Level, Region

from . import services
from .models import Category, InspectionKind, Severity, Subject

FINDINGS = (
    # category, severity, subject, what was found, how far the ledger got
    (Category.RECORDS, Severity.GENERAL, Subject.TEAM, "走访台账记录不全，部分农户无走访记录", 0),
    (Category.VISITS, Severity.MINOR, Subject.TEAM, "部分监测户本月未走访", 1),
    (Category.INCOME, Severity.GENERAL, Subject.HOUSEHOLD, "收入登记与实际务工收入不符", 2),
    (Category.ABSENT, Severity.SERIOUS, Subject.CADRE, "暗访时队员不在村，未请假", 0),
    (Category.POLICY, Severity.GENERAL, Subject.VILLAGE, "政策明白卡未张贴到户", 2),
    (Category.DISCIPLINE, Severity.MAJOR, Subject.TEAM, "工作队长期走读，群众反映强烈", 1),
)


YEARLY = {
    "name": "驻村干部年度考核",
    "presence_weight": Decimal(30),
    "visits_weight": Decimal(20),
    "findings_weight": Decimal(10),
    "income_weight": Decimal(10),
    "unit_weight": Decimal(10),
    "township_weight": Decimal(10),
    "survey_weight": Decimal(10),
    "minor_deduction": Decimal(2),
    "general_deduction": Decimal(5),
    "serious_deduction": Decimal(10),
    "major_deduction": Decimal(20),
    "overdue_deduction": Decimal(5),
    "top_quota": Decimal(25),
    "quota_rounding": "floor",
    "grades": [("优秀", 90), ("称职", 75), ("基本称职", 60), ("不称职", 0)],
    "ceilings": [(1, "称职"), (2, "基本称职"), (3, "不称职")],
}


class OversightSeeder:
    def __init__(self, *, rnd: random.Random, today: dt.date):
        self.rnd, self.today = rnd, today
        self.period = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

    def seed(self) -> dict[str, int]:
        counts = {"schemes": 0, "inspections": 0, "findings": 0, "rankings": 0, "assessments": 0}
        for county in Region.objects.filter(level=Level.COUNTY).order_by("code"):
            self.scheme(county)
            counts["schemes"] += 1
            counts["findings"] += self.inspection(county)
            counts["inspections"] += 1
            rankings = services.ranking_compute(county=county, period=self.period, today=self.today)
            services.escalation_derive(county=county, period=self.period)
            counts["rankings"] += len(rankings)
            services.yearly_scheme_set(region=county, from_year=self.today.year, **YEARLY)
            filled = services.assessment_fill(county=county, year=self.today.year, today=self.today)
            counts["assessments"] += filled["created"]
        return counts

    def scheme(self, county: Region) -> None:
        rnd = self.rnd
        services.scheme_set(
            region=county,
            effective_from=dt.date(self.today.year, 1, 1),
            name="驻村工作月度积分",
            presence_weight=rnd.choice((30, 40)),
            visit_weight=30,
            bianfang_weight=10,
            income_weight=20,
            open_penalty=1,
            overdue_penalty=2,
            serious_penalty=5,
        )

    def inspection(self, county: Region) -> int:
        rnd = self.rnd
        serving = list(
            Assignment.objects.filter(
                status=AssignmentStatus.ACTIVE, team__village__code__startswith=county.prefix
            )
            .select_related("cadre", "team__village")
            .order_by("team__village__code", "is_leader", "pk")
        )
        by_village: dict[int, Assignment] = {}
        for assignment in serving:
            by_village.setdefault(assignment.team.village_id, assignment)
        chosen = rnd.sample(sorted(by_village.values(), key=lambda a: a.pk), len(FINDINGS))
        on = self.period + dt.timedelta(days=rnd.randint(8, 20))
        inspection = services.inspection_create(
            region=county,
            kind=rnd.choice(InspectionKind.values),
            on=on,
            title=f"{on:%Y年%m月}驻村工作督查",
            inspectors="县驻村工作联席办督查组",
            villages=[a.team.village for a in chosen],
        )
        for assignment, (category, severity, subject, what, stage) in zip(
            chosen, FINDINGS, strict=True
        ):
            village = assignment.team.village
            household = village.households.order_by("pk").first()
            finding = services.finding_create(
                inspection=inspection,
                village=village,
                subject=subject,
                team=assignment.team,
                cadre=assignment.cadre if subject == Subject.CADRE else None,
                household=household if subject == Subject.HOUSEHOLD else None,
                category=category,
                severity=severity,
                description=what,
                deadline=on + dt.timedelta(days=rnd.choice((10, 15, 30))),
                absence_day=on if category == Category.ABSENT else None,
            )
            if stage >= 1:
                services.finding_start(
                    finding=finding, actor=None, measures="制定整改方案，限期整改"
                )
            if stage >= 2:
                services.finding_rectify(
                    finding=finding,
                    actor=None,
                    evidence="已补齐台账并入户核实，附照片和签字记录",
                    on=on + dt.timedelta(days=5),
                )
        return len(FINDINGS)
