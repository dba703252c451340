"""Key rotation (issue 10, item 6): values written with an old key are re-encrypted with the
new one by `manage.py rotate_encryption_keys`, in batches, resumably; afterwards the old key
can go and everything still reads."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from apps.core import crypto
from apps.people.management.commands.rotate_encryption_keys import encrypted_models
from apps.people.models import PersonalDetail, User
from tests.reliability.test_data_protection import build_world

pytestmark = pytest.mark.django_db

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
OTHER = Fernet.generate_key().decode()

EXPECTED_MODELS = {
    "people.User",
    "people.PersonalDetail",
    "identities.ExternalPersonalIdentity",
    "activities.SharedSnapshot",
    "activities.ConsentReceipt",
    "transfers.TransferSession",
    "identifications.OtpIdentification",
    "identifications.OtpMessage",
    "api.IdempotencyRecord",
}


@pytest.fixture
def old_world(org, api):
    """The world of the data-protection tests, every value encrypted with OLD only."""
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        build_world(api)
    return _tokens()


def _tokens() -> dict[str, list[str]]:
    """Every stored token, by model label, straight from the tables."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for model, fields in encrypted_models():
            columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
            cursor.execute(f"SELECT {columns} FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
            found[model._meta.label] = [v for row in cursor.fetchall() for v in row if v]
    return found


def _rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _on_key(key: str, token: str) -> bool:
    try:
        Fernet(key.encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def _read_everything() -> int:
    """Load every row of every model with an encrypted field and read each value."""
    read = 0
    for model, fields in encrypted_models():
        for obj in model._base_manager.all():
            for f in fields:
                getattr(obj, f.attname)
                read += 1
    return read


def test_it_finds_every_encrypted_field_of_every_model():
    labels = {model._meta.label for model, _ in encrypted_models()}

    assert labels >= EXPECTED_MODELS
    # Abstract parents are rotated through their concrete children.
    assert "webhooks.WebhookEndpoint" in labels and "webhooks.SigningSecrets" not in labels


def test_it_reencrypts_everything_with_the_new_key_so_the_old_one_can_go(old_world):
    assert all(_on_key(OLD, t) for tokens in old_world.values() for t in tokens)
    populated = {label for label, tokens in old_world.items() if tokens}
    assert populated >= EXPECTED_MODELS

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        output = _rotate("--batch-size", "2")

    after = _tokens()
    assert all(_on_key(NEW, t) and not _on_key(OLD, t) for tokens in after.values() for t in tokens)
    for label in populated:
        values = len(old_world[label])
        assert f"{label}: " in output
        assert f"re-encrypted {values}, already on the newest key 0" in output.split(f"{label}: ")[1].split("\n")[0]
    assert f"Done: re-encrypted {sum(len(t) for t in old_world.values())} values" in output

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        assert _read_everything() >= sum(len(t) for t in old_world.values())
        assert (
            User.objects.get_by_natural_key("zephyrinqa.quill@example.org").details.get(name="address").value
            == "Calle Imaginaria 4217, Xquerta"
        )


def test_a_second_run_changes_nothing(old_world):
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        _rotate()
        before = _tokens()
        output = _rotate("--batch-size", "3")

    assert _tokens() == before
    assert "Done: re-encrypted 0 values" in output


def test_an_interrupted_run_is_resumed_by_running_it_again(old_world, monkeypatch):
    total = sum(len(t) for t in old_world.values())
    real_rotate = crypto.rotate
    calls = []

    def failing_rotate(token: str) -> str:
        calls.append(token)
        if len(calls) > 5:
            raise RuntimeError("the machine went down")
        return real_rotate(token)

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        monkeypatch.setattr(crypto, "rotate", failing_rotate)
        with pytest.raises(RuntimeError):
            _rotate("--batch-size", "2")
        monkeypatch.setattr(crypto, "rotate", real_rotate)
        midway = _tokens()
        done_before = sum(_on_key(NEW, t) for tokens in midway.values() for t in tokens)
        # Whole batches were committed; the failing batch rolled back.
        assert 0 < done_before < total

        output = _rotate("--batch-size", "2")

    assert f"Done: re-encrypted {total - done_before} values" in output
    assert all(_on_key(NEW, t) for tokens in _tokens().values() for t in tokens)


def test_a_dry_run_counts_and_changes_nothing(old_world):
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        output = _rotate("--dry-run")

    assert _tokens() == old_world
    assert f"Done: would re-encrypt {sum(len(t) for t in old_world.values())} values" in output


def test_it_rotates_only_the_models_named(old_world):
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        output = _rotate("--model", "people.PersonalDetail")

    after = _tokens()
    assert all(_on_key(NEW, t) for t in after["people.PersonalDetail"])
    assert all(_on_key(OLD, t) for t in after["people.User"])
    assert output.count(" rows, ") == 1
    assert PersonalDetail.objects.count() > 0


def test_it_stops_at_a_value_no_key_reads_and_changes_nothing_in_that_batch(old_world):
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OTHER]), pytest.raises(CommandError) as failure:
        _rotate("--batch-size", "2")

    assert "cannot be decrypted with any key" in str(failure.value)
    assert _tokens() == old_world


def test_it_refuses_an_unknown_model_and_a_bad_batch_size():
    with pytest.raises(CommandError, match=r"No model with encrypted fields: people\.nothing"):
        _rotate("--model", "people.Nothing")
    with pytest.raises(CommandError, match="at least 1"):
        _rotate("--batch-size", "0")


def test_it_shows_a_progress_bar_on_stderr(old_world):
    err = StringIO()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        call_command("rotate_encryption_keys", "--batch-size", "2", stdout=StringIO(), stderr=err)

    assert "people.User" in err.getvalue() and "rows" in err.getvalue() and "100%" in err.getvalue()
