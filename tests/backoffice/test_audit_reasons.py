"""The audit trail keeps each reason as written (English, append-only) and the back office shows
the fixed ones in the reader's language; what staff typed stays as they typed it."""

from __future__ import annotations

import pytest
from django.utils import translation

from apps.audit import reasons
from apps.audit.models import Transition
from apps.audit.reasons import reason_display
from apps.audit.services import Actor
from apps.verifications.services import process_cancel, process_redact
from tests.backoffice.conftest import make_process

pytestmark = pytest.mark.django_db

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}


def _catalogue() -> list[str]:
    return sorted(reasons.REASONS | set(reasons.TEMPLATES))


@pytest.mark.parametrize("reason", _catalogue())
def test_every_fixed_reason_has_a_spanish_translation(reason):
    with translation.override("es"):
        spanish = translation.gettext(reason)
    assert spanish != reason


@pytest.mark.parametrize("code", sorted(reasons.FAIL_TYPES))
def test_every_fail_type_reads_as_words_in_both_languages(code):
    label = reasons.FAIL_TYPES[code]
    with translation.override("en"):
        english = str(label)
    with translation.override("es"):
        spanish = str(label)
    assert spanish != english
    assert "_" not in english and "_" not in spanish


def test_a_stored_reason_is_shown_translated_its_free_text_kept_and_anything_else_unchanged():
    with translation.override("es"):
        assert reason_display(reasons.CANCELED_BY_ORGANIZATION) == "cancelado por la organización"
        assert reason_display("redacted by staff: wrong person") == "datos borrados por el personal: wrong person"
        assert reason_display("provider_error") == "el proveedor informó de un error"
        assert reason_display("the customer called") == "the customer called"
        assert reason_display("") == ""
    with translation.override("en"):
        assert reason_display("redacted by staff: wrong person") == "redacted by staff: wrong person"


def test_the_spanish_audit_trail_shows_the_reasons_translated(staff_client, org):
    process = make_process(org)
    process_redact(process=process, actor=Actor.system("test"), reason=reasons.reason_redacted_by_staff("wrong person"))
    process_cancel(process=process, actor=Actor.system("test"), reason=reasons.CANCELED_BY_ORGANIZATION)
    stored = list(Transition.objects.filter(object_id=str(process.pk)).values_list("reason", flat=True))
    assert stored == ["created", "redacted by staff: wrong person", "canceled by the organization"]

    client = staff_client("viewer")
    page = client.get(f"/admin/verifications/verificationprocess/{process.pk}/change/", **SPANISH)
    assert page.status_code == 200
    text = page.content.decode()
    assert "datos borrados por el personal: wrong person" in text
    assert "cancelado por la organización" in text
    assert "canceled by the organization" not in text and "redacted by staff" not in text

    audit_log = client.get(f"/admin/audit/transition/?q={process.pk}", **SPANISH).content.decode()
    assert "cancelado por la organización" in audit_log
    assert "datos borrados por el personal: wrong person" in audit_log
    entry = Transition.objects.filter(object_id=str(process.pk)).last()
    detail = client.get(f"/admin/audit/transition/{entry.pk}/change/", **SPANISH).content.decode()
    assert "cancelado por la organización" in detail
