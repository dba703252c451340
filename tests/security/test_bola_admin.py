"""Broken object level authorization in the back office, generated from the admin registry.

For every registered ModelAdmin, organization A's staff (an administrator and an operator,
signed in with their second factor) open the changelist, the add page and the change and
history pages of one of A's objects:
- every foreign-key and many-to-many choice, in the form and in every inline, is a row they
  may see (organization A; their fellow staff; objects their own changelist shows), and a
  choice that names no organization-scoped model fails the test until it is taught here;
- posting the form with organization B's row in one such field, as a browser would post it,
  changes nothing;
- no page shows organization B (its name, slug or id, its objects' ids or personal values)
  nor any account's id.
Tenants come from tests/security/test_bola.py (one object of every API family per organization).
"""

from __future__ import annotations

import contextlib
from html.parser import HTMLParser
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse

from apps.organizations.models import Membership, Organization
from apps.people.models import User
from tests.backoffice.conftest import make_staff
from tests.factories import make_person, staff_login
from tests.security.test_bola import receiver, tenants  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _has_relations(model: Any, model_admin: Any) -> bool:
    fields = [f for f in model._meta.get_fields() if f.concrete and (f.many_to_one or f.many_to_many)]
    return bool(fields or model_admin.inlines)


class _Form(HTMLParser):
    """What a browser would post from the page's main form: name → list of values."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id", "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][0] += data


def _posted(html: str) -> dict[str, list[str]]:
    parser = _Form()
    parser.feed(html)
    return parser.data


def _choice_fields(response: Any) -> list[tuple[str, Any, forms.ModelChoiceField]]:
    """(posted name, model the field belongs to, field) for the form's and every inline's choices."""
    found = []
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        if isinstance(field, forms.ModelChoiceField):
            found.append((name, form._meta.model, field))
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        for name, field in formset.empty_form.fields.items():
            parent = getattr(formset, "fk", None)  # a generic inline (the audit trail) has none
            # The row's own hidden primary key is no choice: the formset only finds its rows in
            # the inline's own (scoped) queryset.
            if name == formset.model._meta.pk.name or (parent is not None and name == parent.name):
                continue
            if isinstance(field, forms.ModelChoiceField):
                found.append((f"{formset.prefix}-__new__-{name}", formset.model, field))
    return found


class World:
    def __init__(self, pair: Any) -> None:
        self.a, self.b = pair
        self.org_a, self.org_b = self.a.org, self.b.org
        # A's people and staff, B's staff, and the platform's superuser.
        self.fellow = make_staff("fellow-a@example.com", "viewer", self.org_a)
        self.b_staff = make_staff("staff-b@example.com", "administrator", self.org_b)
        self.root = User.objects.create_superuser("root@example.com", "root-pass-123")
        self.customer = make_person("customer@example.com")

    def visible(self, staff: User, model: Any) -> set[str] | None:
        """The rows of `model` `staff` may see, or None when the test knows no rule for it."""
        if model is Organization:
            return {str(self.org_a.pk)}
        if model is get_user_model():
            members = Membership.objects.filter(organization=self.org_a, user__is_staff=True)
            return {str(pk) for pk in members.values_list("user", flat=True)}
        model_admin = admin.site._registry.get(model)
        if model_admin is None:
            return None
        request = RequestFactory().get("/admin/")
        request.user = staff
        if not model_admin.has_view_permission(request):
            return set()
        return {str(pk) for pk in model_admin.get_queryset(request).values_list("pk", flat=True)}

    def foreign(self, staff: User, model: Any) -> Any:
        """A row of `model` that `staff` may not see (organization B's), or None."""
        if model is Organization:
            return self.org_b
        if model is get_user_model():
            return self.root
        seen = self.visible(staff, model) or set()
        return next((row for row in model._default_manager.all() if str(row.pk) not in seen), None)

    def forbidden_text(self) -> list[str]:
        accounts = [str(pk) for pk in User.objects.values_list("pk", flat=True)]
        return [self.org_b.name, self.org_b.slug, str(self.org_b.pk), *self.b.secrets, *accounts]


@pytest.fixture
def world(tenants) -> World:  # noqa: F811 - the fixture imported above
    return World(tenants)


def _staff(world: World, role: str) -> tuple[User, Client]:
    user = make_staff(f"{role}-a@example.com", role, world.org_a)
    return user, staff_login(Client(), user)


def _urls(model: Any, world: World, staff: User) -> dict[str, str]:
    opts = model._meta
    urls = {"changelist": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")}
    with contextlib.suppress(NoReverseMatch):
        urls["add"] = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    own = world.visible(staff, model)
    if own:
        pk = sorted(own)[0]
        urls["change"] = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
        urls["history"] = reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[pk])
    return urls


@pytest.mark.parametrize("role", ["administrator", "operator"])
@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=[model._meta.label for model, _ in REGISTRY])
def test_no_admin_page_shows_another_organization_or_an_account_id(world, role, model, model_admin):
    staff, client = _staff(world, role)
    request = RequestFactory().get("/admin/")
    request.user = staff
    # A model the staff member may not view at all (accounts) answers alike for every id: 403,
    # or 404 where the page looks the row up first; otherwise their own object is never a 404.
    answers = (200, 403) if model_admin.has_view_permission(request) else (403, 404)

    for what, url in _urls(model, world, staff).items():
        response = client.get(url)
        assert response.status_code in answers, (what, url, response.status_code)
        body = response.content.decode()
        leaked = [text for text in world.forbidden_text() if text and text in body]
        assert not leaked, f"{what} {url} shows {leaked}"


@pytest.mark.parametrize("role", ["administrator", "operator"])
@pytest.mark.parametrize(
    ("model", "model_admin"),
    [(m, a) for m, a in REGISTRY if _has_relations(m, a)],
    ids=[m._meta.label for m, a in REGISTRY if _has_relations(m, a)],
)
def test_every_choice_is_a_row_the_staff_member_may_see_and_another_is_refused(world, role, model, model_admin):
    staff, client = _staff(world, role)
    urls = _urls(model, world, staff)

    for what in ("add", "change"):
        if what not in urls:
            continue
        page = client.get(urls[what])
        if page.status_code == 403:
            continue
        assert page.status_code == 200, (what, urls[what])
        for posted_name, owner, field in _choice_fields(page):
            related = field.queryset.model
            allowed = world.visible(staff, related)
            assert allowed is not None, f"{model._meta.label}.{posted_name}: no rule for {related._meta.label}"
            offered = {str(pk) for pk in field.queryset.values_list("pk", flat=True)}
            assert offered <= allowed, f"{what} {model._meta.label}.{posted_name} offers {offered - allowed}"

            foreign = world.foreign(staff, related)
            if foreign is None:
                continue
            _assert_refused(client, urls[what], page, posted_name, owner, foreign)


def _assert_refused(client: Client, url: str, page: Any, posted_name: str, owner: Any, foreign: Any) -> None:
    data = _posted(page.content.decode())
    if "-__new__-" in posted_name:
        prefix, name = posted_name.split("-__new__-")
        total = int(data.get(f"{prefix}-TOTAL_FORMS", ["0"])[0])
        data[f"{prefix}-TOTAL_FORMS"] = [str(total + 1)]
        posted_name = f"{prefix}-{total}-{name}"
    else:
        name = posted_name
    data[posted_name] = [str(foreign.pk)]
    data["_save"] = ["Save"]
    field = owner._meta.get_field(name)
    lookup = {field.name: foreign} if field.many_to_one else {f"{field.name}__in": [foreign]}
    before = owner._default_manager.filter(**lookup).count()

    client.post(url, data)

    assert owner._default_manager.filter(**lookup).count() == before, f"{url}: {posted_name}={foreign.pk} was saved"


def test_the_checks_see_the_choices_and_refuse_another_organization(world):
    """Control: the generated checks above do meet a choice, and notice an unscoped one."""
    from apps.organizations.models import ApiKey

    _, client = _staff(world, "administrator")
    page = client.get("/admin/organizations/apikey/add/")
    fields = {name: field for name, _, field in _choice_fields(page)}
    data = _posted(page.content.decode()) | {"organization": [str(world.org_b.pk)], "name": ["x"], "_save": ["Save"]}
    refused = client.post("/admin/organizations/apikey/add/", data)

    assert set(fields) == {"organization"}
    assert {str(pk) for pk in fields["organization"].queryset.values_list("pk", flat=True)} == {str(world.org_a.pk)}
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert not ApiKey.objects.filter(organization=world.org_b, name="x").exists()


def test_the_choice_check_would_catch_an_unscoped_field(world, monkeypatch):
    monkeypatch.setattr("apps.backoffice.admin_scoping.scoped_choices", lambda *args: None)
    staff, client = _staff(world, "administrator")

    fields = {name: field for name, _, field in _choice_fields(client.get("/admin/organizations/apikey/add/"))}

    offered = {str(pk) for pk in fields["organization"].queryset.values_list("pk", flat=True)}
    assert not offered <= world.visible(staff, Organization)
