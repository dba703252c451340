"""Schema operations that big tables need.

AddIndexOnline builds an index with CREATE INDEX CONCURRENTLY on PostgreSQL: the table keeps
taking writes while it is built (a plain CREATE INDEX holds a lock that blocks every INSERT,
UPDATE and DELETE for the minutes a million-row table takes). It cannot run inside a
transaction, so a migration using it sets `atomic = False`. On other databases (SQLite in
development) it is a plain AddIndex.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


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
