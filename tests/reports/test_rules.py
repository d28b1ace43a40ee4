"""Circular rules are data per region with an effective date, set through the service and the
admin; bad input gets a clear Chinese message and changes nothing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from reports import services
from reports.models import CircularRule

from .builders import OCTOBER

RULE = {
    "name": "月度红黑榜",
    "red_count": 3,
    "black_count": 3,
    "issuer": "清徐县驻村工作领导小组办公室",
    "number_prefix": "清驻组",
    "red_consequence": "表扬",
    "black_consequence": "约谈",
}


def test_templates_word_the_draft(world, crafted):
    services.circular_rule_set(
        region=world.county_a,
        effective_from=dt.date(2026, 1, 1),
        **RULE
        | {
            "title_template": "{county}{year}年第{month}期驻村工作红黑榜",
            "body_template": "现将{month}月情况通报如下。",
            "recipients": "各乡镇：",
        },
    )
    circular = services.circular_build(county=world.county_a, period=OCTOBER)
    assert circular.title == "清徐县2026年第10期驻村工作红黑榜"
    assert circular.body == "现将10月情况通报如下。"
    assert circular.recipients == "各乡镇："
    assert circular.closing.startswith("希望列入红榜的工作队")  # the default closing


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"title_template": "关于{county.name}的通报"}, "不能使用 {county.name}"),
        ({"body_template": "{foo}"}, "不能使用 {foo}"),
        ({"closing_template": "{year!r}"}, "不能使用 {year}"),
        ({"red_count": 0, "black_count": 0}, "红榜和黑榜名额不能都为0"),
        ({"issuer": ""}, "此字段不能为空"),
    ],
)
def test_bad_rules_are_refused(world, values, message):
    before = CircularRule.objects.count()
    with pytest.raises(ValidationError, match=message):
        services.circular_rule_set(
            region=world.county_a, effective_from=dt.date(2026, 6, 1), **RULE | values
        )
    assert CircularRule.objects.count() == before


def test_a_township_cannot_hold_a_rule(world):
    with pytest.raises(ValidationError, match="通报规则应设在县级或以上区划"):
        services.circular_rule_set(
            region=world.township_a, effective_from=dt.date(2026, 6, 1), **RULE
        )


def test_admin_adds_a_rule_and_reports_a_bad_template(client, world):
    client.force_login(world.official_a)
    url = reverse("admin:reports_circularrule_add")
    data = {
        "region": world.county_a.pk,
        "effective_from": "2026-06-01",
        "serious_bars_red": "on",
        "serious_forces_black": "on",
        "recipients": "",
        "title_template": "",
        "body_template": "",
        "closing_template": "",
    } | RULE
    response = client.post(url, data | {"title_template": "{county"}, follow=True)
    assert "模板中只能使用" in response.content.decode()
    assert not CircularRule.objects.filter(effective_from=dt.date(2026, 6, 1)).exists()
    assert client.post(url, data).status_code == 302
    rule = CircularRule.objects.get(effective_from=dt.date(2026, 6, 1))
    assert (rule.prefix, rule.red_count, rule.serious_bars_red) == ("140121", 3, True)
    # County A cannot change the city's rule it can see.
    city_rule = services.circular_rule_set(
        region=world.city, effective_from=dt.date(2026, 6, 1), **RULE
    )
    change = reverse("admin:reports_circularrule_change", args=[city_rule.pk])
    assert client.get(change).status_code == 200
    client.post(change, data | {"name": "改名"})
    city_rule.refresh_from_db()
    assert city_rule.name == "月度红黑榜"
