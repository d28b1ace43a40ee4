"""The sync horizon counts client backends only (see common/sync.py): an autovacuum worker
that analyzes a table holds a transaction id while it runs but never writes a synced row, so
it must not hold the feed back (it did, for seconds, while busy tables were analyzed)."""

from django.db import migrations

HORIZON_FUNCTION = """
CREATE OR REPLACE FUNCTION common_sync_horizon() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
-- The oldest transaction id of this database that may still commit, as a 64-bit id; or the
-- snapshot's xmax when none is running. Rows stamped below it can no longer appear or change
-- without being restamped. See common/sync.py.
DECLARE
    own bigint;
    ref bigint;
    low bigint;
    oldest bigint;
BEGIN
    IF pg_is_in_recovery() THEN
        RETURN pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
    END IF;
    PERFORM pg_stat_clear_snapshot();
    -- The caller's own writes (a request inside a write transaction, a test) are visible
    -- to it: the reference point is past its own id as well as past the snapshot's xmax.
    own := pg_current_xact_id_if_assigned()::text::bigint;
    ref := greatest(pg_snapshot_xmax(pg_current_snapshot())::text::bigint, own + 1);
    low := ref % 4294967296;
    -- 32-bit ids of the other running writers of this database (and prepared transactions),
    -- read as the nearest id below ref; ids at or above ref are held back by ref anyway.
    -- Only client backends write rows: an autovacuum worker's ANALYZE holds an id (it
    -- writes pg_statistic) for as long as it runs, and must not hold the feed back.
    SELECT min(ref - d) INTO oldest FROM (
        SELECT (low - x::text::bigint + 4294967296) % 4294967296 AS d
          FROM (
              SELECT backend_xid AS x FROM pg_stat_activity
               WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
                 AND backend_type = 'client backend'
                 AND datid = (SELECT oid FROM pg_database WHERE datname = current_database())
              UNION ALL
              SELECT transaction FROM pg_prepared_xacts WHERE database = current_database()
          ) running
    ) distances
    WHERE d > 0 AND d < 2147483648;
    RETURN least(ref, coalesce(oldest, ref));
END;
$$;
"""

PREVIOUS_FUNCTION = """
CREATE OR REPLACE FUNCTION common_sync_horizon() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
-- The oldest transaction id of this database that may still commit, as a 64-bit id; or the
-- snapshot's xmax when none is running. Rows stamped below it can no longer appear or change
-- without being restamped. See common/sync.py.
DECLARE
    own bigint;
    ref bigint;
    low bigint;
    oldest bigint;
BEGIN
    IF pg_is_in_recovery() THEN
        RETURN pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
    END IF;
    PERFORM pg_stat_clear_snapshot();
    -- The caller's own writes (a request inside a write transaction, a test) are visible
    -- to it: the reference point is past its own id as well as past the snapshot's xmax.
    own := pg_current_xact_id_if_assigned()::text::bigint;
    ref := greatest(pg_snapshot_xmax(pg_current_snapshot())::text::bigint, own + 1);
    low := ref % 4294967296;
    -- 32-bit ids of the other running writers of this database (and prepared transactions),
    -- read as the nearest id below ref; ids at or above ref are held back by ref anyway.
    SELECT min(ref - d) INTO oldest FROM (
        SELECT (low - x::text::bigint + 4294967296) % 4294967296 AS d
          FROM (
              SELECT backend_xid AS x FROM pg_stat_activity
               WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
                 AND datid = (SELECT oid FROM pg_database WHERE datname = current_database())
              UNION ALL
              SELECT transaction FROM pg_prepared_xacts WHERE database = current_database()
          ) running
    ) distances
    WHERE d > 0 AND d < 2147483648;
    RETURN least(ref, coalesce(oldest, ref));
END;
$$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("common", "0002_api_sync"),
    ]

    operations = [
        migrations.RunSQL(HORIZON_FUNCTION, PREVIOUS_FUNCTION),
    ]
