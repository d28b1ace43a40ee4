# A dispatching unit's summons belongs to the county that names it, once a calendar year
# (it was once per unit ever, whichever county named it first).

import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0007_api_sync_assessment"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="escalation",
            name="escalation_unit_summon_once",
        ),
        migrations.AddConstraint(
            model_name="escalation",
            constraint=models.UniqueConstraint(
                models.F("county"),
                models.F("unit"),
                django.db.models.functions.datetime.ExtractYear("period"),
                condition=models.Q(("step", "summon")),
                name="escalation_unit_summon_year",
                violation_error_message="该县本年度已约谈过该派出单位主要负责人。",
            ),
        ),
    ]
