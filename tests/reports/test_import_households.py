"""Households with their members from Excel: every bad row reported, all or nothing, the same
file twice changes nothing, an export round-trips, scope, audit and concurrency."""

import datetime as dt
import threading

import pghistory.models
import pytest
from django.db import connections

from households import services as hs
from households.models import Household, HouseholdStatusChange, Member
from reports.imports import services
from reports.imports.layouts import HOUSEHOLDS_SYSTEM
from reports.models import ImportJob, ImportProblem

from .. import factories as f
from .import_builders import Formula, Number, exported, headers, member_row, upload, xlsx

HEADER_ROW = 3  # two title rows above the header


def thousand_rows(village, first_code=1):
    """1 000 member rows: 250 households of 4 (head, spouse, son, daughter)."""
    rows = []
    for n in range(250):
        code = f"Q{village.code}{first_code + n:04d}"
        rows.append(member_row(village, code, f"户主{n}", f.id_number(village.code[:6]), "户主"))
        rows.append(member_row(village, code, f"配偶{n}", f.id_number(village.code[:6]), "配偶"))
        rows.append(member_row(village, code, f"儿子{n}", f.id_number(village.code[:6]), "之子"))
        rows.append(member_row(village, code, f"女儿{n}", f.id_number(village.code[:6]), "之女"))
    return rows


def book(rows, **kwargs):
    return xlsx(
        rows,
        headers=headers(),
        title_rows=[["清徐县帮扶户及家庭成员名单"], ["填报单位：清源镇"]],
        **kwargs,
    )


def column(name):
    return next(
        i
        for i, c in enumerate(HOUSEHOLDS_SYSTEM.columns)
        if c.key == name and (c.level == "member" or name in ("village_code", "code"))
    )


def check(user, content, layout="households", name="帮扶户.xlsx"):
    """Upload and dry-run, as the Celery task would (the task body, synchronously)."""
    job = services.import_job_create(user=user, layout=layout, upload=upload(content, name))
    services.import_job_check(job_id=job.pk)
    job.refresh_from_db()
    return job


def commit(job, user):
    services.import_job_confirm(job=job, user=user)
    services.import_job_commit(job_id=job.pk)
    job.refresh_from_db()
    return job


def problem_rows(job):
    return sorted(ImportProblem.objects.filter(job=job).values_list("row", flat=True))


def events():
    return pghistory.models.Events.objects.count()


@pytest.fixture
def rows(world):
    return thousand_rows(world.village_a)


def test_seven_bad_rows_of_a_thousand_commit_nothing_and_are_each_reported(world, rows):
    rows = [list(r) for r in rows]
    id_col, eth_col, join_col = column("id_number"), column("ethnicity"), column("joined_on")
    village_col = column("village_code")
    bad = {}
    # 1. an ID number with a wrong check digit
    number = rows[10][id_col]
    rows[10][id_col] = number[:17] + ("0" if number[17] != "0" else "1")
    bad[10] = "身份证号校验位不正确"
    # 2. an ID number stored as a number (Excel keeps 15 digits)
    rows[101][id_col] = Number(float(rows[101][id_col][:17]))
    bad[101] = "被存成了数字"
    # 3. a code outside its list
    rows[202][eth_col] = "火星族"
    bad[202] = "不是有效的民族"
    # 4. a date that does not exist
    rows[303][join_col] = "2016-02-30"
    bad[303] = "不是有效的日期"
    # 5. a formula in a data column
    rows[404][column("name")] = Formula('=CONCATENATE("张","三")')
    bad[404] = "不接受公式"
    # 6. the same person twice
    rows[505][id_col] = rows[501][id_col]
    bad[505] = "重复"
    # 7. a one-person household in a village outside the importer's scope
    rows.append(member_row(world.village_b, "OUT0001", "外县人", f.id_number("140122"), "户主"))
    rows[-1][village_col] = world.village_b.code
    bad[len(rows) - 1] = "不在您的管辖范围内"
    assert len(rows) == 1001
    before = (Household.objects.count(), Member.objects.count(), events())

    job = check(world.official_a, book(rows))

    assert job.status == "invalid"
    expected = sorted(HEADER_ROW + 1 + i for i in bad)
    assert problem_rows(job) == expected  # exactly those 7 rows, each once
    for i, text in bad.items():
        problem = ImportProblem.objects.get(job=job, row=HEADER_ROW + 1 + i)
        assert text in problem.message, (i, problem.message)
    # Values are shown masked: never a full ID number.
    shown = ImportProblem.objects.get(job=job, row=HEADER_ROW + 1 + 10)
    assert shown.column == "身份证号"
    assert "*" in shown.value
    assert len(shown.value) == 18
    assert number[3:14] not in "".join(ImportProblem.objects.values_list("value", flat=True))
    # Nothing is written, and nothing can be confirmed.
    assert (Household.objects.count(), Member.objects.count(), events()) == before
    with pytest.raises(Exception, match="只有校验通过的导入才能确认"):
        services.import_job_confirm(job=job, user=world.official_a)
    # The report marks the bad cells.
    assert job.report


def test_the_fixed_workbook_imports_every_row_and_again_changes_nothing(world, rows):
    job = check(world.official_a, book(rows))
    assert (job.status, job.problem_count) == ("ready", 0)
    assert job.counts == {
        "households": {"created": 250, "updated": 0, "unchanged": 0},
        "members": {"created": 1000, "updated": 0, "unchanged": 0},
    }
    assert not Household.objects.filter(code__startswith="Q").exists()

    job = commit(job, world.official_a)

    assert job.status == "done", job.error
    imported = Household.objects.filter(code__startswith="Q")
    assert imported.count() == 250
    assert Member.objects.filter(household__in=imported).count() == 1000
    household = imported.get(code=f"Q{world.village_a.code}0007")
    assert household.head_name == "户主6"
    assert household.status_id == "lifted"
    head = household.members.get(relation="head")
    assert (head.name, head.sex in "MF", head.birth_date.year) == ("户主6", True, 1980)
    assert HouseholdStatusChange.objects.filter(household=household, reason="导入建档").count() == 1

    # Every written row is audited with the importing user and the source "import".
    contexts = {
        (e.pgh_context or {}).get("source")
        for e in pghistory.models.Events.objects.filter(pgh_obj_model="households.Member").filter(
            pgh_obj_id__in=[
                str(m)
                for m in Member.objects.filter(household__in=imported).values_list("pk", flat=True)
            ]
        )
    }
    assert contexts == {"import"}
    event = pghistory.models.Events.objects.filter(
        pgh_obj_model="households.Household", pgh_obj_id=str(household.pk)
    ).get()
    assert event.pgh_context["actor"] == world.official_a.username
    assert event.pgh_context["import_job"] == job.pk

    # The same file again: nothing changes, not even the audit trail.
    before = events()
    again = check(world.official_a, book(rows))
    assert again.counts["households"] == {"created": 0, "updated": 0, "unchanged": 250}
    assert again.counts["members"] == {"created": 0, "updated": 0, "unchanged": 1000}
    again = commit(again, world.official_a)
    assert again.status == "done"
    assert events() == before
    assert imported.count() == 250


def test_an_export_of_the_result_reimports_cleanly(world, rows):
    """The member list exported with full values (export jobs, member_system) is the
    system's import layout: imported back, it changes nothing."""
    commit(check(world.official_a, book(rows)), world.official_a)
    content = exported(world.official_a, "member_system")
    before = events()

    job = check(world.official_a, content, name="导出.xlsx")

    assert (job.status, job.problem_count) == ("ready", 0)
    assert job.rows == 1001  # and the world's own household
    assert job.counts["households"] == {"created": 0, "updated": 0, "unchanged": 251}
    assert job.counts["members"] == {"created": 0, "updated": 0, "unchanged": 1001}
    assert commit(job, world.official_a).status == "done"
    assert events() == before


def test_the_national_list_layout_round_trips(world, rows):
    commit(check(world.official_a, book(rows)), world.official_a)
    content = exported(world.official_a, "member_national")
    job = check(world.official_a, content, layout="households_national")
    assert (job.status, job.problem_count) == ("ready", 0), list(
        ImportProblem.objects.filter(job=job).values_list("message", flat=True)[:5]
    )
    assert job.counts["members"]["unchanged"] == 1001


def test_a_change_updates_only_what_changed(world, rows):
    commit(check(world.official_a, book(rows)), world.official_a)
    rows = [list(r) for r in rows]
    rows[0][column("ethnicity")] = "回族"  # the first household's head
    rows[1][column("relation")] = "户主"  # its spouse becomes head ...
    rows[0][column("relation")] = "配偶"  # ... and the head steps down, in one import
    before = events()

    job = commit(check(world.official_a, book(rows)), world.official_a)

    assert job.status == "done", job.error
    assert job.counts["members"] == {"created": 0, "updated": 2, "unchanged": 998}
    assert job.counts["households"] == {"created": 0, "updated": 1, "unchanged": 249}
    household = Household.objects.get(code=f"Q{world.village_a.code}0001")
    assert household.head_name == "配偶0"
    assert household.members.get(name="户主0").ethnicity == "03"
    assert events() - before == 3  # two members and the household's head name


def test_household_rules_each_reported(world):
    v = world.village_a
    taken = world.person_a  # a member of household A in the database
    rows = [
        member_row(v, "H1", "无户主", f.id_number(), "配偶"),  # a household without a head
        member_row(v, "H2", "甲", f.id_number(), "户主"),
        member_row(v, "H2", "乙", f.id_number(), "户主"),  # two heads
        member_row(v, "H3", "丙", taken.id_number, "户主"),  # in another household already
        member_row(v, "H4", "丁", f.id_number(), "户主", migrant_months=13),
        member_row(v, "H5", "戊", f.id_number(), "户主", **{"member.phone": "12345"}),
        member_row(v, "H6", "己", f.id_number(), "户主", other_causes="因病、因学"),
        member_row(v, "H7", "庚", f.id_number(), "户主", year_lifted=2014),
        member_row(v, world.household_b.code, "辛", f.id_number(), "户主"),  # B's code
    ]
    job = check(world.official_a, book(rows))
    messages = dict(ImportProblem.objects.filter(job=job).values_list("row", "message"))
    first = HEADER_ROW + 1
    assert "没有户主" in messages[first]
    assert "2 名户主" in messages[first + 1]
    assert f"已是户 {world.household_a.code} 的在册成员" in messages[first + 3]
    assert "12" in messages[first + 4]  # at most 12 months
    assert "电话号码格式不正确" in messages[first + 5]
    assert "不能与主要致贫原因相同" in messages[first + 6]
    assert "脱贫年份不能早于识别年份" in messages[first + 7]
    assert "管辖范围以外" in messages[first + 8]
    assert len(messages) == 8


def test_cleaning_before_validation(world):
    v = world.village_a
    number = f.id_number()
    messy = number[:17] + ("x" if number[17] == "X" else number[17])
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in messy)
    rows = [
        member_row(
            v,
            " Ｈ１ ",
            "张　三",
            " " + full_width + " ",
            " 户主 ",
            **{"member.phone": "１３９ 1234 5678"},
        )
    ]
    job = commit(check(world.official_a, book(rows)), world.official_a)
    assert job.status == "done", list(ImportProblem.objects.values_list("message", flat=True))
    member = Member.objects.get(household__code="H1")
    assert (member.name, member.id_number, member.phone) == ("张三", number, "13912345678")


def test_missing_required_columns_are_named(world):
    names = [h for h in headers() if h not in ("户编号", "身份证号")]
    job = check(world.official_a, xlsx([["x"] * len(names)], headers=names))
    assert job.status == "invalid"
    (problem,) = ImportProblem.objects.filter(job=job)
    assert "缺少必填列：户编号、身份证号" in problem.message


def test_more_rows_than_one_import_takes_are_refused_with_the_count(world, settings):
    settings.ZHUCUN_IMPORT_MAX_ROWS = 3
    v = world.village_a
    relations = ["户主", "配偶", "之子", "之女"]
    rows = [member_row(v, "L1", f"成员{n}", f.id_number(), r) for n, r in enumerate(relations)]
    before = (Household.objects.count(), Member.objects.count())
    job = check(world.official_a, xlsx(rows, headers=headers()))
    assert job.status == "failed"
    assert job.error == "文件约有 4 行数据，超过单次导入的上限 3 行，请分成几个文件导入。"
    assert not ImportProblem.objects.filter(job=job).exists()
    assert (Household.objects.count(), Member.objects.count()) == before
    assert check(world.official_a, xlsx(rows[:3], headers=headers())).status == "ready"


def test_header_below_titles_merged_two_rows_any_order_extra_columns(world):
    v = world.village_a
    wanted = [
        "行政村代码",
        "户编号",
        "户状态",
        "主要致贫原因",
        "识别年份",
        "姓名",
        "身份证号",
        "与户主关系",
        "入户日期",
    ]
    number = f.id_number()
    values = [v.code, "H1", "已脱贫", "因病", 2016, "张三", number, "户主", "2016-01-01"]
    order = [8, 7, 6, 5, 0, 1, 2, 3, 4]  # any order
    group = ["", "", "", "", "户的信息", "", "", "", "", "备注"]
    header = [wanted[i] for i in order] + ["备注"]  # an extra column
    data = [values[i] for i in order] + ["自行添加的列"]
    content = xlsx(
        [data],
        title_rows=[["清徐县帮扶户名单"], group],
        headers=header,
        merges=["A1:J1", "E2:I2"],
    )
    job = commit(check(world.official_a, content), world.official_a)
    assert job.status == "done", list(ImportProblem.objects.values_list("message", flat=True))
    assert Member.objects.get(household__code="H1").name == "张三"


def test_household_columns_merged_over_the_members_rows(world):
    v = world.village_a
    rows = [
        member_row(v, "H1", "张三", f.id_number(), "户主"),
        member_row(v, "H1", "李四", f.id_number(), "配偶"),
        member_row(v, "H1", "张五", f.id_number(), "之子"),
    ]
    for r in rows[1:]:  # household cells left empty under the merge
        for i, c in enumerate(HOUSEHOLDS_SYSTEM.columns):
            if c.level == "household":
                r[i] = None
    first = HEADER_ROW + 1
    merges = []
    for i, c in enumerate(HOUSEHOLDS_SYSTEM.columns):
        if c.level == "household":
            letter = chr(65 + i) if i < 26 else "A" + chr(65 + i - 26)
            merges.append(f"{letter}{first}:{letter}{first + 2}")
    job = commit(check(world.official_a, book(rows, merges=merges)), world.official_a)
    assert job.status == "done", list(ImportProblem.objects.values_list("message", flat=True))
    assert Household.objects.get(code="H1").members.count() == 3


def test_inconsistent_household_values_are_reported(world):
    v = world.village_a
    rows = [
        member_row(v, "H1", "张三", f.id_number(), "户主", main_cause="因病"),
        member_row(v, "H1", "李四", f.id_number(), "配偶", main_cause="因学"),
    ]
    job = check(world.official_a, book(rows))
    (problem,) = ImportProblem.objects.filter(job=job)
    assert (problem.row, problem.column) == (HEADER_ROW + 2, "主要致贫原因")
    assert "不一致" in problem.message


def test_a_township_official_outside_their_township(world):
    from tests import factories

    other_township = factories.region("140121101000", "柳杜乡", 4, world.county_a)
    other = factories.village("140121101201", "西楚王村", other_township)
    rows = [member_row(other, "H1", "张三", f.id_number(), "户主")]
    job = check(world.township_official_a, book(rows))
    (problem,) = ImportProblem.objects.filter(job=job)
    assert "不在您的管辖范围内" in problem.message
    assert not Household.objects.filter(code="H1").exists()


def test_a_change_made_after_the_dry_run_is_caught_at_commit(world, rows):
    job = check(world.official_a, book(rows))
    assert job.status == "ready"
    # Meanwhile someone registers one of the file's people in household A.
    number = rows[2][column("id_number")]
    hs.member_add(
        household=world.household_a,
        name="抢先登记",
        id_number=number,
        relation="son",
        joined_on=dt.date(2020, 1, 1),
    )
    job = commit(job, world.official_a)
    assert job.status == "invalid"
    assert problem_rows(job) == [HEADER_ROW + 3]
    assert not Household.objects.filter(code__startswith="Q").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_overlapping_imports_at_once_never_duplicate(world, monkeypatch):
    from reports import tasks

    # The jobs are run here, in two threads; nothing is sent to a broker.
    monkeypatch.setattr(tasks.import_job_check_task, "delay", lambda *a: None)
    monkeypatch.setattr(tasks.import_job_commit_task, "delay", lambda *a: None)
    v = world.village_a
    people = [f.id_number() for _ in range(60)]
    first = [member_row(v, f"H{n:03d}", f"人{n}", people[n], "户主") for n in range(40)]
    second = [member_row(v, f"H{n:03d}", f"人{n}", people[n], "户主") for n in range(20, 60)]
    jobs = []
    for content in (book(first), book(second)):
        job = check(world.official_a, content)
        assert job.status == "ready"
        services.import_job_confirm(job=job, user=world.official_a)
        jobs.append(job)
    barrier = threading.Barrier(2)
    errors = []

    def run(job):
        try:
            barrier.wait()
            services.import_job_commit(job_id=job.pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    statuses = sorted(
        ImportJob.objects.filter(pk__in=[j.pk for j in jobs]).values_list("status", flat=True)
    )
    assert statuses == ["done", "done"]
    assert Household.objects.filter(code__startswith="H").count() == 60
    assert Member.objects.filter(household__code__startswith="H").count() == 60
    counts = [ImportJob.objects.get(pk=j.pk).counts["households"] for j in jobs]
    # Between them: 60 created, and the 20 both files hold found unchanged by the second.
    assert sum(c["created"] for c in counts) == 60
    assert sum(c["unchanged"] for c in counts) == 20
