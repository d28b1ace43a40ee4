"""Who goes on the red and black lists: ranks, serious findings, N and the flags from the rule
in force (most specific region, then the latest date)."""

import datetime as dt

from reports import services
from reports.circulars import rule_for
from reports.models import EntryKind

from .builders import OCTOBER, add_teams, place, serious_finding


def lists(circular):
    entries = list(circular.entries.order_by("kind", "order"))
    red = [(e.order, e.rank) for e in entries if e.kind == EntryKind.RED]
    black = [(e.order, e.rank, e.by_rank, e.by_finding) for e in entries if e.kind == "black"]
    return red, black


def build(world):
    return services.circular_build(county=world.county_a, period=OCTOBER)


def test_red_skips_the_serious_finding_which_puts_it_on_black(world, crafted):
    circular = build(world)
    red, black = lists(circular)
    # Seven teams, N = 3: red from the upper half (ranks 1-3) without rank 1; black the last
    # three places and rank 1 for its serious finding.
    assert red == [(1, 2), (2, 3)]
    assert black == [
        (1, 1, False, True),
        (2, 5, True, False),
        (3, 6, True, False),
        (4, 7, True, False),
    ]
    first = circular.entries.get(rank=1)
    assert first.team == world.team_a
    assert "全县第1名（共7个工作队）" in first.facts
    assert "2026-10-15 暗访发现严重问题（作风纪律）：工作队长擅自离岗三天。" in first.facts
    assert first.findings[0]["on"] == "2026-10-15"
    assert first.consequence == "年终考核扣分，约谈工作队长。"
    last = circular.entries.get(rank=7)
    assert "排名靠后" in last.facts
    assert last.metrics["presence_rate"] == "0.9500"
    assert "在岗达标率95.0%" in last.facts
    second = circular.entries.get(rank=2)
    assert second.consequence == "年终考核加分，评先评优优先考虑。"
    assert (second.team_name, second.unit_name) == (crafted[1].name, crafted[1].lead_unit.name)


def test_n_comes_from_the_rule_in_force(world, crafted):
    services.circular_rule_set(
        region=world.county_a,
        effective_from=dt.date(2026, 10, 1),
        name="十月起",
        red_count=1,
        black_count=1,
        issuer="清徐县驻村办",
        number_prefix="清驻办",
        red_consequence="表扬",
        black_consequence="约谈",
    )
    # A later rule (November) does not apply to October.
    services.circular_rule_set(
        region=world.county_a,
        effective_from=dt.date(2026, 11, 1),
        name="十一月起",
        red_count=3,
        black_count=3,
        issuer="新机关",
        number_prefix="新",
        red_consequence="表扬",
        black_consequence="约谈",
    )
    circular = build(world)
    assert lists(circular) == ([(1, 2)], [(1, 1, False, True), (2, 7, True, False)])
    assert (circular.issuer, circular.number_prefix) == ("清徐县驻村办", "清驻办")


def test_the_most_specific_region_wins(world, crafted):
    city_rule = services.circular_rule_set(
        region=world.city,
        effective_from=dt.date(2026, 9, 1),  # later than the county's, but less specific
        name="全市",
        red_count=1,
        black_count=1,
        issuer="太原市驻村办",
        number_prefix="并驻办",
        red_consequence="表扬",
        black_consequence="约谈",
    )
    assert rule_for(world.county_a, OCTOBER) == world.circular_rule_a
    assert rule_for(world.county_b, OCTOBER) == world.circular_rule_b
    world.circular_rule_a.delete()
    assert rule_for(world.county_a, OCTOBER) == city_rule
    assert rule_for(world.county_a, dt.date(2026, 8, 1)) is None


def test_flags_off_a_serious_finding_neither_bars_nor_forces(world, crafted):
    services.circular_rule_set(
        region=world.county_a,
        effective_from=dt.date(2026, 1, 1),
        name="月度红黑榜",
        red_count=3,
        black_count=3,
        serious_bars_red=False,
        serious_forces_black=False,
        issuer="清徐县驻村工作领导小组办公室",
        number_prefix="清驻组",
        red_consequence="表扬",
        black_consequence="约谈",
    )
    red, black = lists(build(world))
    assert red == [(1, 1), (2, 2), (3, 3)]
    assert black == [(1, 5, True, False), (2, 6, True, False), (3, 7, True, False)]


def test_barred_but_not_forced(world, crafted):
    services.circular_rule_set(
        region=world.county_a,
        effective_from=dt.date(2026, 1, 1),
        name="月度红黑榜",
        red_count=3,
        black_count=3,
        serious_bars_red=True,
        serious_forces_black=False,
        issuer="清徐县驻村工作领导小组办公室",
        number_prefix="清驻组",
        red_consequence="表扬",
        black_consequence="约谈",
    )
    red, black = lists(build(world))
    assert red == [(1, 2), (2, 3)]
    assert [b[1] for b in black] == [5, 6, 7]


def test_which_findings_count(world, crafted):
    """Serious or major, inspected in the month, about the team's village: one about the
    village itself counts; a general one, or one of September, does not."""
    teams = crafted
    serious_finding(
        world,
        teams[1],
        severity="major",
        subject="village",
        team=None,
        category="policy",
        description="政策落实严重不到位",
    )
    serious_finding(world, teams[2], severity="general")
    serious_finding(world, teams[3], on=dt.date(2026, 9, 28))
    red, black = lists(build(world))
    assert red == [(1, 3)]  # rank 2 barred (major, about its village), rank 3 fine
    assert [(b[1], b[3]) for b in black] == [
        (1, True),
        (2, True),
        (5, False),
        (6, False),
        (7, False),
    ]


def test_small_counties(world):
    """One team is on neither list; two teams: one red, one black."""
    assert world.circular_b.entries.count() == 0  # the world's county B has one team
    (other,) = add_teams(world, 1, township=world.township_b)
    place(world, world.team_b, OCTOBER, 1, 2)
    place(world, other, OCTOBER, 2, 2)
    circular = services.circular_build(county=world.county_b, period=OCTOBER)
    assert circular == world.circular_b  # the same draft, rebuilt
    assert [(e.kind, e.team) for e in circular.entries.order_by("kind")] == [
        ("black", other),
        ("red", world.team_b),
    ]
