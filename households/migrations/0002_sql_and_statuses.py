"""Derived data in SQL: the yearly income refresh function and the village income lines kept
by triggers; and the registry statuses, which are data."""

from django.db import migrations

REFRESH = """
CREATE OR REPLACE FUNCTION households_refresh_years(hids bigint[]) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM households_householdyear y
     USING (SELECT DISTINCT unnest(hids) AS id) h
     WHERE y.household_id = h.id;
    INSERT INTO households_householdyear (household_id, year, net_income, months, person_months)
    SELECT i.household_id,
           EXTRACT(YEAR FROM i.month)::int,
           SUM(i.wage + i.business + i.property_income + i.transfer - i.production_cost),
           COUNT(*),
           SUM((SELECT COUNT(*) FROM households_member m
                 WHERE m.household_id = i.household_id
                   AND m.joined_on < (i.month + INTERVAL '1 month')::date
                   AND (m.left_on IS NULL OR m.left_on >= i.month)))
      FROM households_incomerecord i
      JOIN (SELECT DISTINCT unnest(hids) AS id) h ON h.id = i.household_id
     GROUP BY i.household_id, EXTRACT(YEAR FROM i.month);
$$;
"""

VILLAGE_LINES = """
CREATE OR REPLACE FUNCTION households_refresh_village_lines() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM households_villageincomeline;
    INSERT INTO households_villageincomeline (village_id, year, amount, line_id)
    SELECT DISTINCT ON (v.id, l.year) v.id, l.year, l.amount, l.id
      FROM villages_village v
      JOIN households_incomeline l ON l.prefix = left(v.code, length(l.prefix))
     ORDER BY v.id, l.year, length(l.prefix) DESC;
    RETURN NULL;
END;
$$;
CREATE TRIGGER households_village_lines_on_lines
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON households_incomeline
    FOR EACH STATEMENT EXECUTE FUNCTION households_refresh_village_lines();
CREATE TRIGGER households_village_lines_on_villages
    AFTER INSERT OR UPDATE OF code OR DELETE ON villages_village
    FOR EACH STATEMENT EXECUTE FUNCTION households_refresh_village_lines();
"""

DROP_VILLAGE_LINES = """
DROP TRIGGER IF EXISTS households_village_lines_on_villages ON villages_village;
DROP TRIGGER IF EXISTS households_village_lines_on_lines ON households_incomeline;
DROP FUNCTION IF EXISTS households_refresh_village_lines();
"""

STATUSES = [
    ("new", "新识别贫困户", True, False, 1),
    ("not_lifted", "未脱贫", True, False, 2),
    ("pre_lifted", "预脱贫", True, False, 3),
    ("lifted", "已脱贫", False, False, 4),
    ("returned", "返贫", True, False, 5),
    ("cancelled", "注销", False, True, 6),
]


def add_statuses(apps, schema_editor):
    status = apps.get_model("households", "HouseholdStatus")
    for code, name, is_poor, is_closed, order in STATUSES:
        status.objects.update_or_create(
            code=code, defaults={"name": name, "is_poor": is_poor, "is_closed": is_closed,
                                 "order": order})


class Migration(migrations.Migration):
    dependencies = [("households", "0001_initial")]

    operations = [
        migrations.RunSQL(REFRESH, "DROP FUNCTION IF EXISTS households_refresh_years(bigint[]);"),
        migrations.RunSQL(VILLAGE_LINES, DROP_VILLAGE_LINES),
        migrations.RunPython(add_statuses, migrations.RunPython.noop),
    ]
