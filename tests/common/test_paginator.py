from django.test import override_settings

from common.paginator import CappedCount, FastCountPaginator
from teams.models import Cadre
from tests import factories as f


def test_counts_exactly_below_the_cap_and_caps_above(world):
    for i in range(4):
        f.cadre(f"干部{i}", world.unit_a, world.county_a)
    qs = Cadre.objects.filter(region=world.county_a).order_by("pk")
    assert FastCountPaginator(qs, 2).count == 5
    with override_settings(ZHUCUN_ADMIN_COUNT_CAP=3):
        count = FastCountPaginator(qs, 2).count
        assert isinstance(count, CappedCount)
        assert (int(count), str(count)) == (3, "3+")
        assert FastCountPaginator(qs, 2).num_pages == 2
