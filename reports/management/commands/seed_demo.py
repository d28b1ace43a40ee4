"""Deterministic demo data: the roster (teams.demo), the households (households.demo), the
oversight of last month (assessments.demo) and its circulars (reports.demo). The command
lives in the rightmost app so that it may call every app's seeder.

    python manage.py seed_demo --scale county|city|province --seed N [--if-empty]

The roster and households are written with bulk inserts, the oversight through the
services, all inside one transaction; the audit triggers record them with source "command".
"""

import random

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from assessments.demo import OversightSeeder
from common.audit import Source, audit_context
from households.demo import HouseholdSeeder
from reports.demo import CircularSeeder
from teams.demo import SCALES, TODAY, RosterSeeder
from villages.models import Region


class Command(BaseCommand):
    help = "Load deterministic demo data (roster and households)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="county")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when regions already exist (a second `make run`).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=2000,
            help="Rows per INSERT (1 = row by row, the benchmark's baseline).",
        )
        parser.add_argument(
            "--households-per-village", type=int, nargs=2, default=(80, 120), metavar=("MIN", "MAX")
        )
        parser.add_argument("--no-households", action="store_true", help="The roster only.")
        parser.add_argument(
            "--no-oversight",
            action="store_true",
            help="No schemes, inspections, findings or rankings.",
        )

    def handle(
        self,
        *args,
        scale,
        seed,
        if_empty,
        batch_size,
        households_per_village,
        no_households,
        no_oversight,
        **options,
    ):
        if Region.objects.exists():
            if if_empty:
                self.stdout.write("demo data already loaded; keeping it")
                return
            raise CommandError("The database already holds regions; seed an empty database.")
        rnd = random.Random(seed)
        with audit_context(source=Source.COMMAND, command="seed_demo"), transaction.atomic():
            roster = RosterSeeder(batch_size=batch_size, stderr=self.stderr)
            counts = roster.seed(SCALES[scale], rnd)
            if not no_households:
                by_village = {
                    team.village_id: roster.team_cadres.get(team.pk, []) for team in roster.teams
                }
                counts |= HouseholdSeeder(
                    rnd=rnd,
                    today=TODAY,
                    batch_size=batch_size,
                    per_village=tuple(households_per_village),
                    stderr=self.stderr,
                ).seed(roster.villages, by_village, roster.counties)
                if not no_oversight:
                    counts |= OversightSeeder(rnd=rnd, today=TODAY).seed()
                    counts |= CircularSeeder(today=TODAY).seed()
        self.stdout.write(
            self.style.SUCCESS("seeded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        )
