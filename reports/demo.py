"""Demo circulars (seed_demo's last part): a red/black-list rule per county, last month's
circular built from the ranking, published in the first county (so the workbench shows it to
the teams it names) and left as a draft in the others."""

import datetime as dt

from villages.models import Level, Region

from . import services


class CircularSeeder:
    def __init__(self, *, today: dt.date):
        self.today = today
        self.period = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

    def seed(self) -> dict[str, int]:
        counts = {"circulars": 0, "published": 0}
        for n, county in enumerate(Region.objects.filter(level=Level.COUNTY).order_by("code")):
            services.circular_rule_set(
                region=county,
                effective_from=dt.date(self.today.year, 1, 1),
                name="驻村工作月度红黑榜",
                red_count=3,
                black_count=3,
                issuer=f"中共{county.name}委驻村工作领导小组办公室",
                number_prefix=f"{county.name[:1]}驻组",
                red_consequence="年终考核加分，评先评优优先考虑。",
                black_consequence="年终考核扣分，由县委组织部约谈工作队长。",
            )
            circular = services.circular_build(county=county, period=self.period)
            counts["circulars"] += 1
            if n == 0:
                services.circular_publish(circular=circular, actor=None, published_on=self.today)
                counts["published"] += 1
        return counts
