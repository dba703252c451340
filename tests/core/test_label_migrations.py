"""Every AlterFieldLabels (apps.core.migration_operations) changes only labels: Django's own
schema-editor test (`_field_should_be_altered`, which ignores `non_db_attrs` such as verbose_name,
help_text and choices) finds nothing to alter between the field before the operation and after.
If one ever changed a column, it would have to be an AlterField again."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from apps.core.migration_operations import AlterFieldLabels

pytestmark = pytest.mark.django_db


def _bound(field, name):
    field = field.clone()
    field.set_attributes_from_name(name)
    return field


def _db_differs(editor, old, new) -> bool:
    """Django's test; for a relation in the migration state (whose target is still a name, not a
    model) the same comparison made by hand, the target compared by name."""
    if not (old.is_relation or new.is_relation):
        return editor._field_should_be_altered(old, new)
    _, old_path, old_args, old_kwargs = old.deconstruct()
    _, new_path, new_args, new_kwargs = new.deconstruct()
    for kwargs, field in ((old_kwargs, old), (new_kwargs, new)):
        for attr in field.non_db_attrs:
            kwargs.pop(attr, None)
        kwargs["to"] = str(kwargs.get("to", "")).lower()
    return old.column != new.column or (old_path, old_args, old_kwargs) != (new_path, new_args, new_kwargs)


def _label_operations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for key, migration in sorted(loader.disk_migrations.items()):
        if any(isinstance(operation, AlterFieldLabels) for operation in migration.operations):
            yield loader, key, migration


def test_every_label_operation_changes_nothing_the_database_stores():
    checked = 0
    with connection.schema_editor(collect_sql=True) as editor:
        for loader, key, migration in _label_operations():
            state = loader.project_state(key, at_end=False)
            for operation in migration.operations:
                if isinstance(operation, AlterFieldLabels):
                    before = state.models[key[0], operation.model_name_lower].fields[operation.name]
                    old, new = _bound(before, operation.name), _bound(operation.field, operation.name)
                    assert not _db_differs(editor, old, new), (key, operation.describe())
                    checked += 1
                operation.state_forwards(key[0], state)
    assert checked >= 240


def test_a_column_change_would_be_seen():
    """Control: the same check notices a change the database stores (a longer CharField)."""
    loader, key, migration = next(_label_operations())
    state = loader.project_state(key, at_end=False)
    operation = next(op for op in migration.operations if isinstance(op, AlterFieldLabels))
    before = state.models[key[0], operation.model_name_lower].fields[operation.name]
    changed = before.clone()
    changed.null = not before.null
    with connection.schema_editor(collect_sql=True) as editor:
        assert _db_differs(editor, _bound(before, operation.name), _bound(changed, operation.name))


def test_the_final_state_is_the_models_state():
    """The label operations leave the same state as before: no migration is missing."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
