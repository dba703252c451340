"""Schema operations that big tables need.

AddIndexOnline builds an index with CREATE INDEX CONCURRENTLY on PostgreSQL: the table keeps
taking writes while it is built (a plain CREATE INDEX holds a lock that blocks every INSERT,
UPDATE and DELETE for the minutes a million-row table takes). It cannot run inside a
transaction, so a migration using it sets `atomic = False`. On other databases (SQLite in
development) it is a plain AddIndex.

AlterFieldLabels changes only what a field says (its verbose name, help text, the labels of its
choices): the migration state takes the new field, and nothing else happens. Django's AlterField
re-renders the model and every model related to it for each such change, which made a first
`migrate` on an empty database take about 18 s for the 247 label changes of the `*_labels`
migrations; the database never changes for a label. tests/core/test_label_migrations.py checks,
with Django's own schema-editor test, that every AlterFieldLabels changes nothing the database
stores.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex, AlterField


class AddIndexOnline(AddIndexConcurrently):
    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AlterFieldLabels(AlterField):
    def state_forwards(self, app_label: str, state: Any) -> None:
        # Django's ProjectState.alter_field, with the rendered models set aside: it re-renders
        # only when they exist. A label never changes what the database or a later operation
        # sees, and the next reload of this model renders it from the new state.
        rendered = state.__dict__.pop("apps", None)
        super().state_forwards(app_label, state)
        if rendered is not None:
            state.__dict__["apps"] = rendered

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        """Nothing: a label is not stored in the database."""

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        """Nothing: a label is not stored in the database."""

    def describe(self) -> str:
        return f"Alter the labels of field {self.name} on {self.model_name}"
