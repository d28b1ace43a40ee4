"""Demo roster: regions, villages, units, teams, cadres and assignments (seed_demo's first part).

County scale: two counties, about 200 villages, 200 teams, 700 cadres. Province scale is the
benchmark world of DESIGN.md section 5 (about 10 000 villages and teams, 35 000 cadres).
"""

import datetime as dt
import random
from dataclasses import dataclass

from common.people import id_check_char
from common.progress import Progress
from teams.models import (
    Assignment,
    Cadre,
    DispatchingUnit,
    PoliticalStatus,
    UnitKind,
    UnitLevel,
    WorkTeam,
)
from villages.models import Level, PovertyStatus, Region, Village


@dataclass(frozen=True)
class Scale:
    cities: int
    counties_per_city: int
    townships_per_county: int
    villages_per_township: int


SCALES = {
    "county": Scale(
        cities=1, counties_per_city=2, townships_per_county=10, villages_per_township=10
    ),
    "city": Scale(cities=1, counties_per_city=8, townships_per_county=10, villages_per_township=10),
    "province": Scale(
        cities=10, counties_per_city=10, townships_per_county=10, villages_per_township=10
    ),
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱武"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强玉兰红梅海燕文"
    "斌鹏辉波宁琳雪莉慧颖晨浩宇子涵欣怡博文雨轩晓东永红德明春生秋菊振华国庆卫东"
)
PLACE = (
    "东西南北中上下前后新老大小高平安和兴隆丰盛永宁泉水山河川沟岭坪峪庄堡寨店铺营屯湾坡"
    "红星青石白马黄土柳林杏花桃园梨树枣林槐树松柏龙凤云阳川口峰"
)
PROVINCE = ("14", "山西省")
CITY_NAMES = (
    "太原",
    "大同",
    "阳泉",
    "长治",
    "晋城",
    "朔州",
    "晋中",
    "运城",
    "忻州",
    "临汾",
    "吕梁",
)
UNIT_SUFFIX = (
    "县委组织部",
    "县农业农村局",
    "县自然资源局",
    "县教育局",
    "县卫生健康局",
    "县财政局",
    "县交通运输局",
    "县水利局",
    "县人社局",
    "县乡村振兴局",
    "县农商银行",
    "县供电公司",
)
UPPER_UNITS = (
    ("省委组织部", UnitLevel.PROVINCE, UnitKind.PARTY_GOVERNMENT),
    ("省农业农村厅", UnitLevel.PROVINCE, UnitKind.PARTY_GOVERNMENT),
    ("省人民医院", UnitLevel.PROVINCE, UnitKind.INSTITUTION),
    ("省能源集团", UnitLevel.PROVINCE, UnitKind.STATE_ENTERPRISE),
    ("省农业大学", UnitLevel.PROVINCE, UnitKind.UNIVERSITY),
    ("市委宣传部", UnitLevel.CITY, UnitKind.PARTY_GOVERNMENT),
    ("市住房城乡建设局", UnitLevel.CITY, UnitKind.PARTY_GOVERNMENT),
    ("市中心医院", UnitLevel.CITY, UnitKind.INSTITUTION),
)
RANKS = (
    "科员",
    "副主任科员",
    "主任科员",
    "四级主任科员",
    "三级主任科员",
    "副科级",
    "正科级",
    "副处级",
)
TODAY = dt.date(2026, 11, 1)  # fixed: the same seed gives the same data on any day


class Namer:
    def __init__(self, rnd: random.Random):
        self.rnd = rnd
        self.used: set[str] = set()

    def person(self) -> str:
        given = self.rnd.choice(GIVEN) + (self.rnd.choice(GIVEN) if self.rnd.random() < 0.7 else "")
        return self.rnd.choice(SURNAMES) + given

    def place(self, suffix: str) -> str:
        for _attempt in range(50):
            name = "".join(self.rnd.sample(PLACE, 2)) + suffix
            if name not in self.used:
                self.used.add(name)
                return name
        name = "".join(self.rnd.sample(PLACE, 3)) + suffix
        self.used.add(name)
        return name


def make_id_number(rnd: random.Random, area: str, used: set[str]) -> str:
    """A valid, unused ID number for someone born 1965-1997 in `area`."""
    while True:
        birth = dt.date(1965, 1, 1) + dt.timedelta(days=rnd.randrange(0, 365 * 33))
        first17 = f"{area}{birth:%Y%m%d}{rnd.randrange(0, 1000):03d}"
        number = first17 + id_check_char(first17)
        if number not in used:
            used.add(number)
            return number


def make_phone(rnd: random.Random) -> str:
    return rnd.choice(("13", "15", "18", "17", "19")) + f"{rnd.randrange(0, 10**9):09d}"


class RosterSeeder:
    """Regions, villages, units, teams, cadres and assignments, with bulk inserts."""

    def __init__(self, *, batch_size: int = 2000, stderr=None):
        self.batch_size = max(batch_size, 1)
        self.stderr = stderr

    def seed(self, scale: Scale, rnd: random.Random) -> dict[str, int]:
        namer = Namer(rnd)
        province = Region.objects.create(
            code=PROVINCE[0] + "0" * 10, name=PROVINCE[1], level=Level.PROVINCE
        )
        cities = Region.objects.bulk_create(
            [
                Region(
                    code=f"{PROVINCE[0]}{i + 1:02d}" + "0" * 8,
                    name=CITY_NAMES[i % len(CITY_NAMES)] + "市",
                    level=Level.CITY,
                    parent=province,
                )
                for i in range(scale.cities)
            ]
        )
        counties = Region.objects.bulk_create(
            [
                Region(
                    code=f"{city.code[:4]}{j + 21:02d}" + "0" * 6,
                    name=namer.place("县"),
                    level=Level.COUNTY,
                    parent=city,
                )
                for city in cities
                for j in range(scale.counties_per_city)
            ]
        )
        townships = Region.objects.bulk_create(
            [
                Region(
                    code=f"{county.code[:6]}{k + 100:03d}" + "000",
                    name=namer.place("镇" if k % 3 else "乡"),
                    level=Level.TOWNSHIP,
                    parent=county,
                )
                for county in counties
                for k in range(scale.townships_per_county)
            ]
        )
        progress = Progress("villages", len(townships), stream=self.stderr)
        village_regions = []
        for township in townships:
            village_regions += [
                Region(
                    code=f"{township.code[:9]}{v + 200:03d}",
                    name=namer.place("村"),
                    level=Level.VILLAGE,
                    parent=township,
                )
                for v in range(scale.villages_per_township)
            ]
            progress.advance()
        village_regions = Region.objects.bulk_create(village_regions, batch_size=self.batch_size)
        villages = Village.objects.bulk_create(
            [self.village(rnd, r) for r in village_regions], batch_size=self.batch_size
        )

        units = self.units(rnd, province, cities, counties)
        county_units = {}
        for unit in units:
            county_units.setdefault(unit.region.code[:6], []).append(unit)
        upper_units = [u for u in units if u.level != UnitLevel.COUNTY]

        teams = []
        for village in villages:
            start = dt.date(2024, 12, 1) + dt.timedelta(days=rnd.randrange(0, 540))
            lead = (
                rnd.choice(upper_units)
                if rnd.random() < 0.25
                else rnd.choice(county_units[village.code[:6]])
            )
            teams.append(
                WorkTeam(
                    village=village,
                    name=f"{lead.name}驻{village.name}工作队",
                    lead_unit=lead,
                    term_start=start,
                    term_end=start.replace(year=start.year + 2),
                )
            )
        teams = WorkTeam.objects.bulk_create(teams, batch_size=self.batch_size)

        progress = Progress("cadres", len(teams), stream=self.stderr)
        cadres, plans, used_ids = [], [], set()
        for team in teams:
            size = rnd.choices((2, 3, 4, 5), weights=(6, 60, 28, 6))[0]
            county_code = team.village.code[:6]
            for position in range(size):
                unit = (
                    team.lead_unit
                    if position == 0 or rnd.random() < 0.5
                    else rnd.choice(county_units[county_code])
                )
                number = make_id_number(rnd, county_code, used_ids)
                cadres.append(
                    Cadre(
                        name=namer.person(),
                        id_number=number,
                        birth_date=dt.date(
                            int(number[6:10]), int(number[10:12]), int(number[12:14])
                        ),
                        gender="M" if int(number[16]) % 2 else "F",
                        phone=make_phone(rnd),
                        political_status=PoliticalStatus.CPC_MEMBER
                        if rnd.random() < 0.85
                        else PoliticalStatus.MASSES,
                        unit=unit,
                        position=rnd.choice(("干部", "科长", "副科长", "主任")),
                        rank=rnd.choice(RANKS),
                        region_id=team.village.region.parent.parent_id,
                    )
                )
                plans.append((team, position))
            progress.advance()
        cadres = Cadre.objects.bulk_create(cadres, batch_size=self.batch_size)

        assignments = []
        for cadre, (team, position) in zip(cadres, plans, strict=True):
            no_secretary = position == 0 and rnd.random() < 0.04
            start = team.term_start + dt.timedelta(days=rnd.randrange(0, 20))
            planned_end = team.term_end
            if rnd.random() < 0.03:  # a few cadres serve past their planned end
                planned_end = TODAY - dt.timedelta(days=rnd.randrange(5, 60))
                start = min(start, planned_end - dt.timedelta(days=400))
            assignments.append(
                Assignment(
                    cadre=cadre,
                    team=team,
                    is_leader=position == 0,
                    is_first_secretary=position == 0 and not no_secretary,
                    start=start,
                    planned_end=planned_end,
                )
            )
        Assignment.objects.bulk_create(assignments, batch_size=self.batch_size)
        self.villages, self.teams, self.counties = villages, teams, counties
        self.team_cadres: dict[int, list[Cadre]] = {}
        for cadre, (team, _position) in zip(cadres, plans, strict=True):
            self.team_cadres.setdefault(team.pk, []).append(cadre)
        return {
            "regions": Region.objects.count(),
            "villages": len(villages),
            "units": len(units),
            "teams": len(teams),
            "cadres": len(cadres),
        }

    def village(self, rnd: random.Random, region: Region) -> Village:
        households = rnd.randrange(180, 650)
        status = rnd.choices(list(PovertyStatus), weights=(35, 25, 40))[0]
        return Village(
            region=region,
            code=region.code,
            name=region.name,
            township_id=region.parent_id,
            poverty_status=status,
            exit_year=rnd.choice((2018, 2019, 2020)) if status == PovertyStatus.EXITED else None,
            is_deep_poverty=rnd.random() < 0.15,
            is_weak_organisation=rnd.random() < 0.06,
            is_relocation_site=rnd.random() < 0.05,
            household_count=households,
            population=int(households * rnd.uniform(2.8, 3.6)),
            collective_income=rnd.randrange(20_000, 600_000),
        )

    def units(self, rnd, province, cities, counties) -> list[DispatchingUnit]:
        rows = []
        for name, level, kind in UPPER_UNITS:
            region = province if level == UnitLevel.PROVINCE else cities[0]
            rows.append(
                DispatchingUnit(
                    name=name,
                    level=level,
                    kind=kind,
                    region=region,
                    principal_leader=Namer(rnd).person(),
                )
            )
        for county in counties:
            for suffix in UNIT_SUFFIX:
                kind = (
                    UnitKind.FINANCIAL
                    if "银行" in suffix
                    else (
                        UnitKind.STATE_ENTERPRISE if "公司" in suffix else UnitKind.PARTY_GOVERNMENT
                    )
                )
                rows.append(
                    DispatchingUnit(
                        name=county.name + suffix.removeprefix("县"),
                        level=UnitLevel.COUNTY,
                        kind=kind,
                        region=county,
                        principal_leader=Namer(rnd).person(),
                        contact_name=Namer(rnd).person(),
                        contact_phone=make_phone(rnd),
                    )
                )
        return DispatchingUnit.objects.bulk_create(rows, batch_size=self.batch_size)
