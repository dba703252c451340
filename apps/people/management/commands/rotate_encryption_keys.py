"""`rotate_encryption_keys [--batch-size N] [--model app.Model] [--dry-run]`: re-encrypt every
encrypted value with the newest key of FIELD_ENCRYPTION_KEYS.

Run it after deploying FIELD_ENCRYPTION_KEYS="<new>,<old>" everywhere; once it reports no
value left on an old key, the old key can be removed (docs/data-protection.md).

Every Encrypted*Field of every model is found by its class, so a new encrypted field is
rotated without anyone remembering to list it. Rows are walked in primary-key order, one
batch per transaction, each batch's rows locked (SELECT ... FOR UPDATE) while they are
rewritten, so the portal keeps running. A value already readable with the newest key is
left alone: the command is idempotent, and an interrupted run is resumed by running it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, models, router, transaction
from tqdm import tqdm

from apps.core import crypto
from apps.core.encrypted_fields import EncryptedTextField


@dataclass
class Tally:
    rows: int = 0
    values: int = 0
    rotated: int = 0
    current: int = 0
    columns: list[str] = field(default_factory=list)


def encrypted_models() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    """Each concrete model with the encrypted fields stored in its own table."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        fields = [f for f in meta.local_concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return sorted(found, key=lambda pair: pair[0]._meta.label)


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the newest key in FIELD_ENCRYPTION_KEYS, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")
        parser.add_argument(
            "--model",
            action="append",
            default=[],
            metavar="APP_LABEL.MODEL",
            help="Only this model (repeatable); default: every model with an encrypted field.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would be re-encrypted; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        keys = [k.strip() for k in settings.FIELD_ENCRYPTION_KEYS if k.strip()]
        if not keys:
            raise CommandError("FIELD_ENCRYPTION_KEYS is empty.")
        newest = Fernet(keys[0])
        targets = encrypted_models()
        if options["model"]:
            wanted = {label.lower() for label in options["model"]}
            unknown = wanted - {m._meta.label_lower for m, _ in targets}
            if unknown:
                raise CommandError(f"No model with encrypted fields: {', '.join(sorted(unknown))}.")
            targets = [(m, f) for m, f in targets if m._meta.label_lower in wanted]
        if len(keys) == 1:
            self.stderr.write(
                "FIELD_ENCRYPTION_KEYS holds one key: values are only checked (a value on any other key "
                "cannot be read and is reported)."
            )

        tallies = {}
        for model, fields in targets:
            tallies[model._meta.label] = self._rotate_model(
                model, fields, newest, batch_size=batch_size, dry_run=options["dry_run"], show=options["verbosity"] > 0
            )

        verb = "would re-encrypt" if options["dry_run"] else "re-encrypted"
        for label, tally in tallies.items():
            self.stdout.write(
                f"{label}: {tally.rows} rows, {tally.values} values in {', '.join(tally.columns)}; "
                f"{verb} {tally.rotated}, already on the newest key {tally.current}"
            )
        total = sum(t.rotated for t in tallies.values())
        self.stdout.write(self.style.SUCCESS(f"Done: {verb} {total} values in {len(tallies)} models."))

    def _rotate_model(
        self,
        model: type[models.Model],
        fields: list[EncryptedTextField],
        newest: Fernet,
        *,
        batch_size: int,
        dry_run: bool,
        show: bool,
    ) -> Tally:
        connection = connections[router.db_for_write(model)]
        quote = connection.ops.quote_name
        meta = model._meta
        columns = [f.column for f in fields if f.column is not None]
        if meta.pk is None or meta.pk.column is None or len(columns) != len(fields):
            raise CommandError(f"{meta.label} has a field without a column.")
        table, pk = quote(meta.db_table), quote(meta.pk.column)
        selected = ", ".join([pk, *(quote(c) for c in columns)])
        lock = " FOR UPDATE" if connection.features.has_select_for_update and not dry_run else ""
        tally = Tally(columns=columns)
        total = model._base_manager.using(connection.alias).count()
        last: Any = None
        # The wrapped stream itself: OutputWrapper would end each of tqdm's redraws with a newline.
        stream = getattr(self.stderr, "_out", self.stderr)
        with tqdm(total=total, desc=meta.label, unit="rows", file=stream, disable=not show, leave=True) as bar:
            while True:
                with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                    where = "" if last is None else f" WHERE {pk} > %s"
                    cursor.execute(
                        f"SELECT {selected} FROM {table}{where} ORDER BY {pk} LIMIT %s{lock}",  # noqa: S608 - quoted names
                        ([] if last is None else [last]) + [batch_size],
                    )
                    rows = cursor.fetchall()
                    for row in rows:
                        changes = self._rotate_row(meta.label, row, columns, newest, tally)
                        if changes and not dry_run:
                            assignments = ", ".join(f"{quote(c)} = %s" for c in changes)
                            cursor.execute(
                                f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608 - quoted names
                                [*changes.values(), row[0]],
                            )
                tally.rows += len(rows)
                bar.update(len(rows))
                if len(rows) < batch_size:
                    return tally
                last = rows[-1][0]

    def _rotate_row(
        self, label: str, row: tuple[Any, ...], columns: list[str], newest: Fernet, tally: Tally
    ) -> dict[str, str]:
        changes = {}
        for column, token in zip(columns, row[1:], strict=True):
            if token is None or token == "":
                continue
            tally.values += 1
            try:
                newest.decrypt(token.encode())
            except InvalidToken:
                pass
            else:
                tally.current += 1
                continue
            try:
                changes[column] = crypto.rotate(token)
            except InvalidToken as exc:
                raise CommandError(
                    f"{label} {row[0]}: {column} cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS. "
                    "Batches before this one are committed; add the missing key and run again."
                ) from exc
            tally.rotated += 1
        return changes
