"""The workbench shows a team the published circulars that name it: a panel on the home page
and the circular with the team's own entry. Drafts, superseded circulars, circulars that do
not name the team and other counties' circulars are 404, like a missing id."""

import datetime as dt

import pytest

from reports import services

from .builders import OCTOBER, add_teams, place


@pytest.fixture
def member(client, world):
    client.force_login(world.member_a)
    return client


def page(client, circular):
    return client.get(f"/work/circulars/{circular.pk}/")


def test_a_team_sees_the_circular_that_names_it(member, world, crafted):
    circular = services.circular_build(county=world.county_a, period=OCTOBER)
    assert page(member, circular).status_code == 404  # a draft: never shown
    assert "红黑榜通报" not in member.get("/work/").content.decode()
    services.circular_publish(circular=circular, actor=world.official_a)
    home = member.get("/work/").content.decode()
    assert "清驻组〔2026〕1号 · 2026年10月 · 列入黑榜" in home
    assert f'href="/work/circulars/{circular.pk}/"' in home
    response = page(member, circular)
    html = response.content.decode()
    assert response.status_code == 200
    assert circular.title in html
    assert "东于村工作队：列入黑榜" in html
    assert "擅自离岗三天" in html
    assert "年终考核扣分，约谈工作队长。" in html
    for other in crafted[1:]:  # the other teams' entries are not the team's business here
        assert other.name not in html


def test_404_like_a_missing_id(member, world, crafted):
    missing = member.get("/work/circulars/987654321/")
    assert missing.status_code == 404
    # County A's September circular does not name team A (fourth of seven).
    for rank, team in enumerate([*crafted[1:4], world.team_a, *crafted[4:]], 1):
        place(world, team, dt.date(2026, 9, 1), rank, 7)
    september = services.circular_build(county=world.county_a, period=dt.date(2026, 9, 1))
    services.circular_publish(circular=september, actor=world.official_a)
    assert not september.entries.filter(team=world.team_a).exists()
    assert page(member, september).status_code == 404
    # County B's published circular naming team B.
    (other,) = add_teams(world, 1, township=world.township_b)
    place(world, world.team_b, OCTOBER, 2, 2)
    place(world, other, OCTOBER, 1, 2)
    b = services.circular_build(county=world.county_b, period=OCTOBER)
    services.circular_publish(circular=b, actor=world.official_b)
    assert page(member, b).status_code == 404
    assert page(member, b).content == missing.content


def test_a_superseded_circular_gives_way_to_its_correction(member, world, crafted):
    old = services.circular_build(county=world.county_a, period=OCTOBER)
    services.circular_publish(circular=old, actor=world.official_a)
    correction = services.circular_correct(circular=old, actor=world.official_a, reason="复核")
    assert page(member, correction).status_code == 404  # still a draft
    services.circular_publish(circular=correction, actor=world.official_a)
    assert page(member, old).status_code == 404
    assert page(member, correction).status_code == 200
    home = member.get("/work/").content.decode()
    assert "清驻组〔2026〕2号" in home
    assert "清驻组〔2026〕1号" not in home


def test_another_team_sees_its_own_entry(client, world, crafted):
    from accounts.roles import Role
    from teams.models import Assignment
    from teams.services import cadre_link_user

    from .. import factories as f

    circular = services.circular_build(county=world.county_a, period=OCTOBER)
    services.circular_publish(circular=circular, actor=world.official_a)
    last = crafted[6]
    leader = Assignment.objects.get(team=last, is_leader=True).cadre
    user = f.user("leader_last", Role.TEAM_LEADER, None)
    cadre_link_user(cadre=leader, user=user)
    client.force_login(user)
    html = page(client, circular).content.decode()
    assert f"{last.name}：列入黑榜" in html
    assert "全县第7名（共7个工作队）" in html
    assert world.team_a.name not in html
