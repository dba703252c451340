"""On PostgreSQL the audit log refuses UPDATE (except setting published_at once) and DELETE."""

from __future__ import annotations

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_transition_append_only() RETURNS trigger AS $$
BEGIN
    -- The event relay may stamp published_at once; nothing else may change or go.
    IF TG_OP = 'UPDATE' AND OLD.published_at IS NULL AND NEW.published_at IS NOT NULL
       AND (to_jsonb(NEW) - 'published_at') = (to_jsonb(OLD) - 'published_at') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_transition is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_transition_append_only
    BEFORE UPDATE OR DELETE ON audit_transition
    FOR EACH ROW EXECUTE FUNCTION audit_transition_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_transition_append_only ON audit_transition;
DROP FUNCTION IF EXISTS audit_transition_append_only();
"""


def _run(sql: str):
    def apply(apps, schema_editor):  # noqa: ANN001, ANN202
        if schema_editor.connection.vendor == "postgresql":
            # params=None: without it the PostgreSQL schema editor interpolates client-side
            # and the `%` placeholder of RAISE EXCEPTION breaks the statement.
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
