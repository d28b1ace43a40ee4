"""Trigger helper functions without per-row subtransactions, installed after every migrate.

pgtrigger's _pgtrigger_should_ignore() and pghistory's _pgh_attach_context() run for every
audited row and read their settings inside a PL/pgSQL EXCEPTION block, which opens a
subtransaction each time. Past 64 subtransactions in one transaction PostgreSQL's cache of
them overflows and bulk writes slow down more than linearly (88 000 income rows: 40 s instead
of a few). `current_setting(name, true)` returns NULL for a missing setting, so the blocks are
not needed; behaviour is otherwise the same. pgtrigger re-creates its function whenever it
installs a trigger, hence a post_migrate hook rather than a migration.
"""

from django.db import connections

FUNCTIONS = """
CREATE OR REPLACE FUNCTION _pgtrigger_should_ignore(trigger_name NAME) RETURNS BOOLEAN AS $$
    DECLARE
        _pgtrigger_ignore TEXT[] := NULLIF(current_setting('pgtrigger.ignore', true), '')::text[];
    BEGIN
        IF _pgtrigger_ignore IS NOT NULL THEN
            RETURN trigger_name = ANY(_pgtrigger_ignore);
        END IF;
        RETURN FALSE;
    END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION _pgh_attach_context() RETURNS uuid AS $$
    DECLARE
        _pgh_context_id UUID := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
        _pgh_context_metadata JSONB :=
            NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    BEGIN
        IF _pgh_context_id IS NOT NULL AND _pgh_context_metadata IS NOT NULL THEN
            INSERT INTO pghistory_context (id, metadata, created_at, updated_at)
                VALUES (_pgh_context_id, _pgh_context_metadata, NOW(), NOW())
                ON CONFLICT (id) DO UPDATE
                    SET metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at
                    WHERE pghistory_context.metadata != EXCLUDED.metadata;
            RETURN _pgh_context_id;
        END IF;
        RETURN NULL;
    END;
$$ LANGUAGE plpgsql;
"""


def install_trigger_functions(using: str = "default", **kwargs) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(FUNCTIONS)
