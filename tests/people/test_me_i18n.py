"""Pages speak English by default and Spanish when asked; the Spanish catalogue is complete and compiled."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

from apps.people.models import DetailSource
from apps.people.services import person_set_details
from tests.factories import make_person

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\}")


def _po_entries(text: str) -> list[dict]:
    """A small reader of the .po format: one dict per entry with its flags and fields."""
    entries = []
    for block in re.split(r"\n\s*\n", text.strip()):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        key = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[key] += ast.literal_eval(line)
            else:
                key, rest = line.split(" ", 1)
                fields[key] = ast.literal_eval(rest)
        entries.append({"flags": flags, "fields": fields})
    return entries


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    entries = _po_entries((CATALOGUE / "django.po").read_text(encoding="utf-8"))
    assert entries[0]["fields"]["msgid"] == ""  # the header
    return entries[1:]


def test_the_catalogue_has_no_fuzzy_or_untranslated_entry(entries):
    assert len(entries) > 250
    fuzzy = [e["fields"]["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [
        e["fields"]["msgid"]
        for e in entries
        if any(not value for key, value in e["fields"].items() if key.startswith("msgstr"))
    ]
    assert fuzzy == [] and empty == []


def test_every_translation_keeps_the_placeholders(entries):
    for entry in entries:
        fields = entry["fields"]
        for key, value in fields.items():
            if key.startswith("msgstr"):
                source = fields["msgid_plural"] if key in ("msgstr[1]", "msgstr[2]") else fields["msgid"]
                assert sorted(PLACEHOLDER.findall(value)) == sorted(PLACEHOLDER.findall(source)), fields["msgid"]


def test_the_compiled_catalogue_matches_the_po(entries):
    with (CATALOGUE / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    expected: dict[object, str] = {}
    for entry in entries:
        fields = entry["fields"]
        msgid = fields["msgid"] if "msgctxt" not in fields else f"{fields['msgctxt']}\x04{fields['msgid']}"
        if "msgid_plural" in fields:
            for index in range(3):
                expected[(msgid, index)] = fields[f"msgstr[{index}]"]
        else:
            expected[msgid] = fields["msgstr"]
    compiled = {key: value for key, value in compiled.items() if key != ""}
    assert compiled == expected, "run: manage.py compilemessages -l es"


# --- Pages ------------------------------------------------------------------------------


@pytest.fixture
def eva(db):
    person = make_person("eva@example.com", first_name="Eva")
    person_set_details(person=person, details={"last_name": "Smit"}, source=DetailSource.VERIFIED, provider="onfido")
    return person


def test_pages_are_english_by_default(client, eva):
    client.force_login(eva)

    html = client.get("/me/").content.decode()

    assert '<html lang="en">' in html
    assert "<h1>My page</h1>" in html and "First name" in html


def test_pages_are_spanish_when_the_browser_asks_for_it(client, eva):
    client.force_login(eva)

    html = client.get("/me/", headers={"accept-language": "es-ES,es;q=0.9"}).content.decode()

    assert '<html lang="es">' in html
    assert "<h1>Mi página</h1>" in html
    assert "Mis datos personales" in html
    assert "Nombre" in html and "Apellidos" in html  # the vocabulary's labels
    assert "Declarado por ti" in html and "por Onfido el" in html
    assert "My page" not in html


def test_the_sign_in_page_is_spanish_too(client):
    html = client.get("/accounts/login/", headers={"accept-language": "es"}).content.decode()

    assert "<h1>Iniciar sesión</h1>" in html
    assert "Correo electrónico" in html


def test_the_language_switcher_sets_the_language(client, eva):
    client.force_login(eva)
    html = client.get("/me/").content.decode()
    assert 'action="/i18n/setlang/"' in html and 'name="language"' in html

    response = client.post("/i18n/setlang/", {"language": "es", "next": "/me/details/"})

    assert response.status_code == 302 and response["Location"] == "/me/details/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    page = client.get("/me/details/").content.decode()
    assert "Editar mis datos" in page and "Guardar mis datos" in page


def test_spanish_form_errors(client, eva):
    client.force_login(eva)

    response = client.post("/me/details/", {"phone": "nope"}, headers={"accept-language": "es"})

    assert response.status_code == 400
    assert "Escribe el número en formato internacional" in response.content.decode()


# --- Templates --------------------------------------------------------------------------

TEMPLATES = Path(settings.BASE_DIR) / "templates"
UNTRANSLATABLE = {"UTC", "HTTP"}


def _visible_untranslated(source: str) -> list[str]:
    """Words a page would show that no translate / blocktranslate tag covers."""
    for pattern in (
        r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}",
        r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}",
        # The admin's body classes (a block of class names, not text).
        r"{%\s*block bodyclass\s*%}.*?{%\s*endblock\s*%}",
        r"{#.*?#}",
        r"{%.*?%}",
        r"{{.*?}}",
        r"<script.*?</script>",
        r"<style.*?</style>",
    ):
        source = re.sub(pattern, " ", source, flags=re.S)
    attributes = re.findall(r'\b(?:alt|title|placeholder|aria-label)="([^"]*)"', source)
    text = re.sub(r"<[^>]*>", " ", source, flags=re.S)
    text = re.sub(r"&\w+;", " ", text)
    words = re.findall(r"[A-Za-z][A-Za-z']+", " ".join([text, *attributes]))
    return [word for word in words if word not in UNTRANSLATABLE]


@pytest.mark.parametrize(
    "template",
    # The back office's templates too (issue 18: the admin fully translated).
    sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")),
)
def test_every_visible_string_in_page_templates_is_marked_for_translation(template):
    assert _visible_untranslated((TEMPLATES / template).read_text(encoding="utf-8")) == []


def test_the_template_check_finds_unmarked_text():
    assert _visible_untranslated('<p>{% translate "Fine" %} Forgotten</p><img alt="A photo">') == ["Forgotten", "photo"]
    assert _visible_untranslated("{% comment %}Why it is so.{% endcomment %}<p>Forgotten</p>") == ["Forgotten"]
