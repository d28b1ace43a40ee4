"""Export → edit → import, as county staff do it: the export jobs' member lists (system and
national layout), cadres and units, exported with full values, opened in Excel (openpyxl),
one cell edited, saved and imported through the import jobs (dry run, then commit). Exactly
the edited value changes; the unedited file changes nothing; a masked export is refused row
by row and writes nothing."""

import datetime as dt
import io

import openpyxl
import pghistory.models
import pytest

from common.crypto import keyed_hash
from households import services as hs
from households.models import Household, Member
from reports.imports import services as imports
from reports.models import ImportProblem
from teams.models import Assignment, Cadre, DispatchingUnit

from .. import factories as f
from .import_builders import exported
from .test_import_households import check, commit

TRACKED = (Household, Member, DispatchingUnit, Cadre, Assignment)
NOT_COMPARED = {"updated_at", "sync_xid"}


def state() -> dict:
    """Every stored value of the rows an import may write (ID numbers and phones decrypted)."""
    return {
        (model.__name__, row["id"]): {k: v for k, v in row.items() if k not in NOT_COMPARED}
        for model in TRACKED
        for row in model.objects.values()
    }


def new_values(before: dict, after: dict) -> dict:
    """{(model, id, field): new value} of every value that differs."""
    return {key: new for key, (_old, new) in changed(before, after).items()}


def changed(before: dict, after: dict) -> dict:
    """{(model, id, field): (old, new)} of every value that differs; no row came or went."""
    assert before.keys() == after.keys()
    return {
        (*key, name): (value, after[key][name])
        for key, row in before.items()
        for name, value in row.items()
        if after[key][name] != value
    }


def events() -> int:
    return pghistory.models.Events.objects.count()


def edit(content: bytes, where: dict[str, str], header: str, value) -> bytes:
    """The workbook with the `header` cell of the one row matching `where` set to `value`,
    saved again by openpyxl (as Excel would)."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.active
    titles = [cell.value for cell in sheet[1]]
    hits = 0
    for row in sheet.iter_rows(min_row=2):
        cells = dict(zip(titles, row, strict=True))
        if all(cells[k].value == v for k, v in where.items()):
            cells[header].value = value
            hits += 1
    assert hits == 1, (where, hits)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def cell_values(content: bytes, header: str) -> list:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    titles = [cell.value for cell in sheet[1]]
    return [row[titles.index(header)] for row in sheet.iter_rows(min_row=2, values_only=True)]


def messages(job) -> list[str]:
    return list(ImportProblem.objects.filter(job=job).values_list("message", flat=True))


@pytest.fixture
def households(world):
    """Besides the world's: a family of four (one of them left in 2025) with most fields
    filled, and a household of one."""
    v = world.village_a
    family = f.household(
        v,
        f"{v.code}0002",
        household_type="dibao",
        other_causes=["schooling", "labour"],
        year_lifted=2019,
        card_colour="yellow",
        medical_secure=False,
        housing_grade="B",
        relocated=True,
        relocation_year=2018,
        phone="0351-5721234",
    )
    head = f.member(family, "王建国", relation="head", phone="13812345678", ethnicity="03")
    spouse = f.member(family, "李秀英", health="chronic", labour="weak", migrant_months=6)
    son = f.member(
        family,
        "王小明",
        relation="son",
        education="primary",
        school_status="primary",
        disability_grade="2",
        medical_insured=False,
        joined_on=dt.date(2016, 3, 1),
    )
    daughter = f.member(family, "王小红", relation="daughter")
    hs.member_leave(member=daughter, left_on=dt.date(2025, 6, 1), reason="出嫁")
    single = f.household(v, f"{v.code}0003", card_colour="red", main_cause="disability")
    alone = f.member(single, "赵孤老", relation="head", labour="lost")
    return {
        "family": family,
        "single": single,
        "head": head,
        "spouse": spouse,
        "son": son,
        "daughter": daughter,
        "alone": alone,
    }


def import_back(world, content: bytes, layout: str):
    """Dry run and commit, as the admin does; both must find no problem."""
    job = check(world.official_a, content, layout=layout, name="导出修改.xlsx")
    assert (job.status, job.problem_count) == ("ready", 0), messages(job)
    dry_run = job.counts
    job = commit(job, world.official_a)
    assert job.status == "done", job.error
    return dry_run


# --- the member list in the system's layout ------------------------------------------------


def test_member_system_export_imports_back_unchanged(world, households):
    content = exported(world.official_a, "member_system")
    assert world.person_a.id_number in cell_values(content, "身份证号")  # full values
    assert "王小红" in cell_values(content, "姓名")  # the former member is listed too
    before, audit = state(), events()

    counts = import_back(world, content, "households")

    assert counts == {
        "households": {"created": 0, "updated": 0, "unchanged": 3},
        "members": {"created": 0, "updated": 0, "unchanged": 6},
    }
    assert changed(before, state()) == {}
    assert events() == audit  # not a row written


@pytest.mark.parametrize(
    ("where", "header", "value", "expected"),
    [
        # A member's phone (a person's column) ...
        (
            {"姓名": "李秀英"},
            "联系电话",
            "13900001111",
            lambda h: {
                ("Member", h["spouse"].pk, "phone"): "13900001111",
                ("Member", h["spouse"].pk, "phone_hash"): keyed_hash("13900001111"),
            },
        ),
        # ... a name ...
        (
            {"姓名": "王小明"},
            "姓名",
            "王晓明",
            lambda h: {("Member", h["son"].pk, "name"): "王晓明"},
        ),
        # ... and a household's card colour (the household of one: its only row).
        (
            {"姓名": "赵孤老"},
            "帮扶卡",
            "蓝卡",
            lambda h: {("Household", h["single"].pk, "card_colour"): "blue"},
        ),
    ],
    ids=["member-phone", "member-name", "household-card-colour"],
)
def test_member_system_edit_changes_exactly_the_edited_value(
    world, households, where, header, value, expected
):
    content = edit(exported(world.official_a, "member_system"), where, header, value)
    before = state()

    counts = import_back(world, content, "households")

    assert sum(c["updated"] for c in counts.values()) == 1
    assert sum(c["created"] for c in counts.values()) == 0
    assert new_values(before, state()) == expected(households)


def test_a_former_members_row_cannot_be_edited_into_the_household(world, households):
    content = exported(world.official_a, "member_system")
    renamed = edit(content, {"姓名": "王小红"}, "姓名", "王晓红")
    moved_back = edit(content, {"姓名": "王小红"}, "离户日期", dt.datetime(2025, 7, 1))  # noqa: DTZ001
    before = state()
    for changed_file, text in (
        (renamed, "已离户成员的信息不能通过导入修改（姓名与系统不一致）"),
        (moved_back, "系统中没有此人于 2025-07-01 离开户"),
    ):
        job = check(world.official_a, changed_file)
        assert job.status == "invalid"
        (problem,) = ImportProblem.objects.filter(job=job)
        assert text in problem.message
    assert changed(before, state()) == {}


# --- the member list in the national list's layout -------------------------------------------


def test_member_national_export_imports_back_unchanged(world, households):
    content = exported(world.official_a, "member_national", active=True)
    assert "王小红" not in cell_values(content, "姓名")  # members in the household only
    before, audit = state(), events()

    counts = import_back(world, content, "households_national")

    assert counts == {
        "households": {"created": 0, "updated": 0, "unchanged": 3},
        "members": {"created": 0, "updated": 0, "unchanged": 5},
    }
    assert changed(before, state()) == {}
    assert events() == audit


@pytest.mark.parametrize(
    ("where", "header", "value", "expected"),
    [
        (
            {"姓名": "李秀英"},
            "人联系电话",
            "13900002222",
            lambda h: {
                ("Member", h["spouse"].pk, "phone"): "13900002222",
                ("Member", h["spouse"].pk, "phone_hash"): keyed_hash("13900002222"),
            },
        ),
        (
            {"姓名": "赵孤老"},
            "是否解决安全饮用水",
            "否",
            lambda h: {("Household", h["single"].pk, "safe_water"): False},
        ),
    ],
    ids=["member-phone", "household-safe-water"],
)
def test_member_national_edit_changes_exactly_the_edited_value(
    world, households, where, header, value, expected
):
    content = exported(world.official_a, "member_national", active=True)
    before = state()

    import_back(world, edit(content, where, header, value), "households_national")

    assert new_values(before, state()) == expected(households)


# --- cadres and units --------------------------------------------------------------------------


@pytest.fixture
def roster(world):
    """Besides the world's team leader: a team member of village A and a cadre not posted."""
    member = f.cadre("王队员", world.unit_a, world.county_a, position="科员", rank="一级科员")
    f.assign(member, world.team_a, start=dt.date(2025, 4, 1), end=dt.date(2027, 4, 1))
    idle = f.cadre("赵待岗", world.unit_a, world.county_a, phone="")
    unit = f.unit("清徐县人社局", world.county_a)
    return {"member": member, "idle": idle, "unit": unit}


def test_cadres_export_imports_back_unchanged(world, roster):
    content = exported(world.official_a, "cadres")
    roles = dict(zip(cell_values(content, "姓名"), cell_values(content, "任职身份"), strict=True))
    assert roles == {"张建国": "队长兼第一书记", "王队员": "队员", "赵待岗": None}  # A's only
    before, audit = state(), events()

    counts = import_back(world, content, "cadres")

    assert counts == {"cadres": {"created": 0, "updated": 0, "unchanged": 3}}
    assert changed(before, state()) == {}
    assert events() == audit


@pytest.mark.parametrize(
    ("where", "header", "value", "expected"),
    [
        (
            {"姓名": "王队员"},
            "手机号",
            "13900003333",
            lambda r: {
                ("Cadre", r["member"].pk, "phone"): "13900003333",
                ("Cadre", r["member"].pk, "phone_hash"): keyed_hash("13900003333"),
            },
        ),
        (
            {"姓名": "赵待岗"},
            "职务",
            "副科长",
            lambda r: {("Cadre", r["idle"].pk, "position"): "副科长"},
        ),
    ],
    ids=["phone", "position"],
)
def test_cadres_edit_changes_exactly_the_edited_value(
    world, roster, where, header, value, expected
):
    content = edit(exported(world.official_a, "cadres"), where, header, value)
    before = state()

    counts = import_back(world, content, "cadres")

    assert counts == {"cadres": {"created": 0, "updated": 1, "unchanged": 2}}
    assert new_values(before, state()) == expected(roster)


def test_units_export_imports_back_and_an_edit_changes_exactly_it(world, roster):
    content = exported(world.official_a, "units")
    assert sorted(cell_values(content, "单位名称")) == ["清徐县人社局", "清徐县农业农村局"]
    before, audit = state(), events()
    assert import_back(world, content, "units") == {
        "units": {"created": 0, "updated": 0, "unchanged": 2}
    }
    assert (changed(before, state()), events()) == ({}, audit)

    content = edit(content, {"单位名称": "清徐县人社局"}, "主要负责人", "刘局长")
    assert import_back(world, content, "units") == {
        "units": {"created": 0, "updated": 1, "unchanged": 1}
    }
    assert changed(before, state()) == {
        ("DispatchingUnit", roster["unit"].pk, "principal_leader"): ("王主任", "刘局长")
    }


def test_the_provinces_unit_and_cadre_in_the_county_import_back(world):
    """A team sent by a provincial unit, led by a cadre the province registered: both are in
    the county's lists and exports (they serve there), and the county's file imports back;
    the county may edit them as in the admin, never move them to a region it does not have."""
    village = f.village("140121100202", "西于村", world.township_a)
    unit = f.unit("山西省农业农村厅", world.province, level="province")
    cadre = f.cadre("省派干部", unit, world.province)
    f.assign(cadre, f.team(village, unit), leader=True, secretary=True)
    units, cadres = exported(world.official_a, "units"), exported(world.official_a, "cadres")
    assert "山西省农业农村厅" in cell_values(units, "单位名称")
    assert "省派干部" in cell_values(cadres, "姓名")
    before, audit = state(), events()

    assert import_back(world, units, "units")["units"]["unchanged"] == 2
    assert import_back(world, cadres, "cadres")["cadres"]["unchanged"] == 2
    assert (changed(before, state()), events()) == ({}, audit)

    edited = edit(cadres, {"姓名": "省派干部"}, "职务", "处长")
    import_back(world, edited, "cadres")
    assert new_values(before, state()) == {("Cadre", cadre.pk, "position"): "处长"}
    # Moving the province's cadre to a region the county does not have is refused.
    elsewhere = edit(cadres, {"姓名": "省派干部"}, "管理区划代码", world.county_b.code)
    job = check(world.official_a, elsewhere, layout="cadres")
    assert job.status == "invalid"
    assert "管理区划不存在或不在您的管辖范围内" in messages(job)[0]


# --- a masked export ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "layout", "rows"),
    [("member_system", "households", 6), ("cadres", "cadres", 3)],
)
def test_a_masked_export_is_refused_row_by_row_and_writes_nothing(
    world, households, roster, profile, layout, rows
):
    content = exported(world.official_a, profile, unmasked=False)
    assert not any(world.person_a.id_number == v for v in cell_values(content, "身份证号"))
    before, audit = state(), events()

    job = check(world.official_a, content, layout=layout)

    assert job.status == "invalid"
    masked = ImportProblem.objects.filter(job=job, message__contains="身份证号已脱敏（含*）")
    assert sorted(masked.values_list("row", flat=True)) == list(range(2, 2 + rows))
    assert set(masked.values_list("column", flat=True)) == {"身份证号"}
    assert all("*" in value for value in masked.values_list("value", flat=True))
    # The masked phones are named too, with the way out (an empty column keeps the phones).
    phones = ImportProblem.objects.filter(job=job, message__contains="电话号码已脱敏")
    assert phones.exists()
    assert all("空白表示保持不变" in p.message for p in phones)
    # No other kind of problem: the masks are the only thing wrong with the file.
    assert set(ImportProblem.objects.filter(job=job).values_list("code", flat=True)) == {"masked"}
    with pytest.raises(Exception, match="只有校验通过的导入才能确认"):
        imports.import_job_confirm(job=job, user=world.official_a)
    assert changed(before, state()) == {}
    assert events() == audit
