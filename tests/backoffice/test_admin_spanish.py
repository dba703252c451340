"""The back office is in Spanish for staff who read Spanish (issue 18: "Admin fully translated").

Every registered model's list, add and change page, the index and the dashboard are read in
Spanish; none may show, as a heading, column or field label, the English name of a model, of
an app or of a field whose Spanish differs (a label left outside gettext, or a translation
missing from the catalogue, shows up here as English)."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cache
from html.parser import HTMLParser

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.people.models import User
from tests.backoffice.conftest import make_identification, make_staff
from tests.backoffice.conftest import make_process as make_audited_process
from tests.dashboard.factories import make_activity, make_delivery, make_process, make_session
from tests.dashboard.factories import make_identification as make_identification_with_messages
from tests.factories import make_api_key, make_person, totp_code

pytestmark = pytest.mark.django_db

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}
# Where the back office names things: page and section headings, table captions and column
# or row headings, and form labels.
LABEL_TAGS = {"h1", "h2", "caption", "th", "label"}
REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _words(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).strip().rstrip(":").strip().casefold()


@cache
def english_labels() -> frozenset[str]:
    """The English names of every registered model, its app and its fields, each only where the
    Spanish differs (an "ID" or a "URL" reads the same in both)."""
    names = []
    for model in admin.site._registry:
        opts = model._meta
        names += [opts.verbose_name, opts.verbose_name_plural, apps.get_app_config(opts.app_label).verbose_name]
        names += [field.verbose_name for field in opts.get_fields() if hasattr(field, "verbose_name")]
    labels = set()
    for name in names:
        with translation.override("en"):
            english = str(name)
        with translation.override("es"):
            spanish = str(name)
        if _words(english) != _words(spanish):
            labels.add(_words(english))
    return frozenset(labels)


class _Labels(HTMLParser):
    """The text of every heading, caption, table heading and label on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[list[str]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in LABEL_TAGS:
            self.open.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in LABEL_TAGS and self.open:
            self.texts.append(_words("".join(self.open.pop())))

    def handle_data(self, data: str) -> None:
        for parts in self.open:
            parts.append(data)


def english_left(response) -> list[str]:
    """The labels of `response` that are a model, app or field's English name, whole or (in a
    heading such as "Select organization to change") as words of it."""
    parser = _Labels()
    parser.feed(response.content.decode())
    labels = english_labels()
    left = [text for text in parser.texts if text in labels]
    headings = " | ".join(parser.texts)
    left += [label for label in labels if " " in label and re.search(rf"(?<!\w){re.escape(label)}(?!\w)", headings)]
    return sorted(set(left))


@pytest.fixture
def superuser_client(staff_client, org):
    """A superuser reading Spanish, and one object of most kinds for the change pages."""
    client = staff_client(None, superuser=True)
    make_person("lector@example.com", first_name="Lucía")
    make_api_key(org)
    make_activity(org)
    make_process(org)
    make_audited_process(org)
    make_identification(org)
    make_identification_with_messages(org, messages=("LINK",))
    make_session(org)
    make_delivery(org)
    return client


def _superuser_request():
    request = RequestFactory().get("/admin/", **SPANISH)
    request.user = User.objects.filter(is_superuser=True).get()
    return request


def test_the_english_names_checked_are_many():
    """The check below is only worth something while most labels have a Spanish of their own."""
    assert len(english_labels()) > 150
    assert "verification process" in english_labels()
    assert "created at" in english_labels()


def test_the_index_is_in_spanish(superuser_client):
    response = superuser_client.get(reverse("admin:index"), **SPANISH)

    assert response.status_code == 200
    with translation.override("es"):
        assert str(admin.site.site_header) in response.content.decode()
    assert english_left(response) == []


def test_the_dashboard_is_in_spanish(superuser_client):
    response = superuser_client.get(reverse("dashboard:index"), **SPANISH)

    assert response.status_code == 200
    assert english_left(response) == []


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=[model._meta.label for model, _ in REGISTRY])
def test_every_back_office_page_of_a_model_is_in_spanish(superuser_client, model, model_admin):
    opts = model._meta
    request = _superuser_request()
    pages = [reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")]
    if model_admin.has_add_permission(request):
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    obj = model_admin.get_queryset(request).order_by("pk").first()
    if obj is not None:
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))

    for page in pages:
        response = superuser_client.get(page, **SPANISH)

        assert response.status_code == 200, page
        assert english_left(response) == [], page


def test_the_second_factor_pages_are_in_spanish(org):
    """The pages between the password and the back office: enrolment, a wrong code, the backup codes."""
    staff = make_staff("nueva@example.com", "viewer", org)
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.post("/admin/login/", {"username": "nueva@example.com", "password": "staff-pass-123"})

    enrolment = client.get("/admin/second-factor/").content.decode()
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    wrong = client.post("/admin/second-factor/", {"otp_token": "123456" if totp_code(device) != "123456" else "654321"})
    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        codes = client.post("/admin/second-factor/", {"otp_token": totp_code(device)}).content.decode()

    assert "Configura tu segundo factor" in enrolment and "Abre una app de autenticación" in enrolment
    assert "Signed in as" not in enrolment and "Open an authenticator app" not in enrolment
    assert "Ese código no es correcto" in wrong.content.decode()
    assert "Guarda estos códigos de respaldo" in codes and "Continuar a la administración" in codes
