"""Builders for test data. They write through the services, as the product does."""

import datetime as dt
import itertools
import random

from accounts.models import User
from accounts.services import user_create
from common.people import id_check_char
from teams import services as team_services
from teams.models import Assignment, Cadre, DispatchingUnit, WorkTeam
from villages import services as village_services
from villages.models import Level, Region, Village

PASSWORD = "Test#pass2026"
_serial = itertools.count(1)
_rnd = random.Random(7)


def id_number(area: str = "140121", birth: dt.date = dt.date(1980, 5, 17)) -> str:
    """A valid ID number, different on every call."""
    serial = next(_serial)
    birth = birth + dt.timedelta(days=serial // 1000)
    first17 = f"{area}{birth:%Y%m%d}{serial % 1000:03d}"
    return first17 + id_check_char(first17)


def phone() -> str:
    return f"139{_rnd.randrange(0, 10**8):08d}"


def region(code: str, name: str, level: int, parent: Region | None = None) -> Region:
    return village_services.region_create(code=code, name=name, level=level, parent=parent)


def village(code: str, name: str, township: Region) -> Village:
    return village_services.village_create(
        region=region(code, name, Level.VILLAGE, township), name=name
    )


def unit(name: str, reg: Region, level: str = "county") -> DispatchingUnit:
    return team_services.unit_create(
        name=name,
        level=level,
        kind="agency",
        region=reg,
        principal_leader="王主任",
        contact_phone=phone(),
    )


def team(
    vil: Village,
    lead: DispatchingUnit,
    start: dt.date = dt.date(2025, 3, 1),
    end: dt.date = dt.date(2027, 3, 1),
    name: str = "",
) -> WorkTeam:
    return team_services.team_create(
        village=vil,
        name=name or f"{vil.name}工作队",
        lead_unit=lead,
        term_start=start,
        term_end=end,
    )


def cadre(name: str, u: DispatchingUnit, reg: Region, **kwargs) -> Cadre:
    kwargs.setdefault("id_number", id_number(reg.code[:6]))
    kwargs.setdefault("phone", phone())
    return team_services.cadre_create(name=name, unit=u, region=reg, **kwargs)


def assign(
    c: Cadre,
    t: WorkTeam,
    *,
    leader: bool = False,
    secretary: bool = False,
    start: dt.date = dt.date(2025, 3, 1),
    end: dt.date = dt.date(2027, 3, 1),
) -> Assignment:
    return team_services.assignment_create(
        cadre=c,
        team=t,
        start=start,
        planned_end=end,
        is_leader=leader,
        is_first_secretary=secretary,
    )


def user(username: str, role: str, reg: Region | None, **kwargs) -> User:
    return user_create(username=username, password=PASSWORD, role=role, region=reg, **kwargs)


def household(vil: Village, code: str, **kwargs):
    from households.services import household_create

    kwargs.setdefault("status", "lifted")
    kwargs.setdefault("main_cause", "illness")
    kwargs.setdefault("year_identified", 2016)
    return household_create(village=vil, code=code, **kwargs)


def member(
    hh, name: str, relation: str = "spouse", joined_on: dt.date = dt.date(2016, 1, 1), **kwargs
):
    from households.services import member_add

    kwargs.setdefault("id_number", id_number(hh.village.code[:6]))
    return member_add(household=hh, name=name, relation=relation, joined_on=joined_on, **kwargs)


def income(
    hh, month: dt.date, wage=0, business=0, property_income=0, transfer=0, production_cost=0
):
    from households.services import income_record_save

    return income_record_save(
        household=hh,
        month=month,
        wage=wage,
        business=business,
        property_income=property_income,
        transfer=transfer,
        production_cost=production_cost,
    )


def png_bytes(size: tuple[int, int] = (4, 3)) -> bytes:
    """A small real PNG image."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()
