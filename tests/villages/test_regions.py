import pytest
from django.core.exceptions import ValidationError

from villages.models import Level
from villages.services import region_create, region_rename


@pytest.mark.parametrize(
    ("code", "level", "parent_code", "message"),
    [
        ("14012110000", Level.TOWNSHIP, "140121000000", "12位"),  # 11 digits
        ("14012110000A", Level.TOWNSHIP, "140121000000", "12位"),
        ("140122100000", Level.TOWNSHIP, "140121000000", "上级代码"),  # another county's prefix
        ("140121000000", Level.TOWNSHIP, "140121000000", "不能全为0"),  # no township digits
        ("140121100201", Level.TOWNSHIP, "140121000000", "应为0"),  # village digits set
        ("140121100201", Level.VILLAGE, "140121000000", "上级区划应为"),  # wrong parent level
    ],
)
def test_bad_region_codes_are_refused(world, code, level, parent_code, message):
    from villages.models import Region

    parent = Region.objects.get(code=parent_code)
    with pytest.raises(ValidationError) as exc:
        region_create(code=code, name="测试", level=level, parent=parent)
    assert message in str(exc.value)


def test_province_has_no_parent_and_others_need_one(db):
    province = region_create(code="610000000000", name="陕西省", level=Level.PROVINCE)
    with pytest.raises(ValidationError, match="请选择上级区划"):
        region_create(code="610100000000", name="西安市", level=Level.CITY)
    city = region_create(code="610100000000", name="西安市", level=Level.CITY, parent=province)
    assert city.prefix == "6101"


def test_rename_keeps_the_code(world):
    region_rename(region=world.county_a, name="清徐县（新）")
    world.county_a.refresh_from_db()
    assert (world.county_a.code, world.county_a.name) == ("140121000000", "清徐县（新）")


def test_scope_prefix_selects_everything_below(world):
    from villages.models import Village

    assert world.official_a.scope_prefix == "140121"
    assert world.township_official_a.scope_prefix == "140121100"
    assert world.member_a.scope_prefix == "140121100201"
    assert list(Village.objects.visible_to(world.official_a)) == [world.village_a]
    assert list(Village.objects.visible_to(world.member_a)) == [world.village_a]
