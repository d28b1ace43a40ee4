"""Dispatching units and cadres with their postings from Excel, through the teams services."""

import datetime as dt

import pghistory.models

from reports.imports.layouts import CADRES, UNITS
from reports.models import ImportProblem
from teams.models import Assignment, Cadre, DispatchingUnit

from .. import factories as f
from .import_builders import exported, headers, row, xlsx
from .test_import_households import check, commit


def unit_book(rows):
    return xlsx(rows, headers=headers(UNITS))


def cadre_book(rows):
    return xlsx(rows, headers=headers(CADRES))


def unit_row(region, name, **values):
    base = {"name": name, "level": "县", "kind": "党政机关", "region": region.code}
    return row(UNITS, **{**base, **values})


def messages(job):
    return dict(ImportProblem.objects.filter(job=job).values_list("row", "message"))


def test_units_created_updated_and_unchanged(world):
    rows = [
        unit_row(
            world.county_a, "清徐县人社局", principal_leader="刘局长", contact_phone="0351-5721234"
        ),
        unit_row(world.county_a, world.unit_a.name, principal_leader="新主任"),
    ]
    job = check(world.official_a, unit_book(rows), layout="units", name="单位.xlsx")
    assert job.counts == {"units": {"created": 1, "updated": 1, "unchanged": 0}}
    assert not DispatchingUnit.objects.filter(name="清徐县人社局").exists()  # a dry run
    job = commit(job, world.official_a)
    assert job.status == "done", job.error
    unit = DispatchingUnit.objects.get(name="清徐县人社局")
    assert (unit.level, unit.kind, unit.contact_phone) == ("county", "agency", "0351-5721234")
    world.unit_a.refresh_from_db()
    assert world.unit_a.principal_leader == "新主任"

    before = pghistory.models.Events.objects.count()
    again = commit(check(world.official_a, unit_book(rows), layout="units"), world.official_a)
    assert again.counts == {"units": {"created": 0, "updated": 0, "unchanged": 2}}
    assert pghistory.models.Events.objects.count() == before


def test_unit_rows_each_reported_and_nothing_written(world):
    rows = [
        unit_row(world.county_a, "新单位一"),
        unit_row(world.county_b, "外县单位"),  # outside the scope
        unit_row(world.county_a, "无层级", level=None),  # a new unit needs its level
        unit_row(world.county_a, "新单位一"),  # twice
        unit_row(world.county_a, "坏电话", contact_phone="12"),
    ]
    job = check(world.official_a, unit_book(rows), layout="units")
    found = messages(job)
    assert sorted(found) == [3, 4, 5, 6]
    assert "不在您的管辖范围内" in found[3]
    assert "单位层级" in found[4]
    assert "重复" in found[5]
    assert "电话号码格式不正确" in found[6]
    assert not DispatchingUnit.objects.filter(name="新单位一").exists()


def cadre_row(world, name, number, **values):
    base = {
        "name": name,
        "id_number": number,
        "political_status": "中共党员",
        "unit": world.unit_a.name,
        "region": world.county_a.code,
    }
    return row(CADRES, **{**base, **values})


def test_cadres_with_postings(world):
    newcomer = f.id_number("140121")
    rows = [
        cadre_row(
            world,
            "王队员",
            newcomer,
            phone="13912340000",
            village_code=world.village_a.code,
            role="队员",
            start=dt.date(2026, 3, 1),
            planned_end=dt.date(2028, 3, 1),
        ),
        # Already serving there as leader and first secretary: unchanged.
        cadre_row(
            world,
            world.cadre_a.name,
            world.cadre_a.id_number,
            village_code=world.village_a.code,
            role="队长兼第一书记",
        ),
    ]
    job = commit(check(world.official_a, cadre_book(rows), layout="cadres"), world.official_a)
    assert job.status == "done", (job.error, messages(job))
    assert job.counts == {"cadres": {"created": 1, "updated": 0, "unchanged": 1}}
    cadre = Cadre.objects.get(name="王队员")
    assert cadre.phone == "13912340000"
    (event,) = pghistory.models.Events.objects.filter(
        pgh_obj_model="teams.Cadre", pgh_obj_id=str(cadre.pk)
    )
    assert (event.pgh_context["source"], event.pgh_context["actor"]) == (
        "import",
        world.official_a.username,
    )
    posting = Assignment.objects.get(cadre=cadre, status="active")
    assert (posting.team_id, posting.is_leader, posting.start) == (
        world.team_a.pk,
        False,
        dt.date(2026, 3, 1),
    )
    # An export of the roster (export jobs, profile "cadres") imports back unchanged.
    again = check(world.official_a, exported(world.official_a, "cadres"), layout="cadres")
    assert (again.status, again.counts["cadres"]["created"], again.counts["cadres"]["updated"]) == (
        "ready",
        0,
        0,
    ), messages(again)


def test_cadre_rows_each_reported_and_nothing_written(world):
    rows = [
        cadre_row(world, "甲", f.id_number("140121")),  # fine
        cadre_row(world, "乙", world.cadre_b.id_number),  # registered by county B
        cadre_row(world, "丙", f.id_number("140121"), unit="不存在的局"),
        # Serving in village A already: a posting elsewhere is a workflow of its own.
        cadre_row(
            world, world.cadre_a.name, world.cadre_a.id_number, village_code=world.village_b.code
        ),
        cadre_row(world, "丁", "110101199001011235"),  # a wrong check digit
        cadre_row(
            world,
            "戊",
            f.id_number("140121"),
            village_code=world.village_a.code,
            role="队长",  # the team has its leader
            start=dt.date(2026, 3, 1),
            planned_end=dt.date(2028, 3, 1),
        ),
    ]
    job = check(world.official_a, cadre_book(rows), layout="cadres")
    found = messages(job)
    assert sorted(found) == [3, 4, 5, 6, 7]
    assert "管辖范围以外" in found[3]
    assert "找不到派出单位" in found[4]
    assert "不在您的管辖范围内" in found[5]
    assert "校验位" in found[6]
    assert "已有在岗队长" in found[7]
    assert not Cadre.objects.filter(name="甲").exists()


def test_units_export_round_trips(world):
    job = check(world.official_a, exported(world.official_a, "units"), layout="units")
    assert job.rows == 1
    assert job.counts == {"units": {"created": 0, "updated": 0, "unchanged": 1}}, messages(job)


def test_a_roster_of_more_rows_than_one_import_takes_is_refused(world, settings):
    settings.ZHUCUN_IMPORT_MAX_ROWS = 2
    rows = [unit_row(world.county_a, f"清徐县第{n}局") for n in range(3)]
    job = check(world.official_a, unit_book(rows), layout="units")
    assert job.status == "failed"
    assert "超过单次导入的上限 2 行" in job.error
    assert not DispatchingUnit.objects.filter(name__startswith="清徐县第").exists()
