"""Organizations, their API keys and their staff in the back office. (The organizations app is
below the back office; what the back office shows of it lives here.)"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.backoffice.admin_accessibility import NamedDeletionInlineFormSet
from apps.backoffice.admin_scoping import ScopedInlineMixin
from apps.backoffice.admin_tools import BackOfficeAdmin
from apps.core.crypto import lookup_hash, normalize_email
from apps.organizations.models import ApiKey, Membership, Organization, Scope
from apps.organizations.services import api_key_create, api_key_revoke


class ApiKeyInline(ScopedInlineMixin, admin.TabularInline):
    model = ApiKey
    fields = ("prefix", "name", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _superuser(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("organization", "user")

    def clean_user(self) -> Any:
        user = self.cleaned_data["user"]
        # A membership gives a staff account an organization's objects; a person's account never.
        if user is not None and not user.is_staff:
            raise forms.ValidationError(gettext("Only a staff account can work for an organization."))
        return user


class MembershipInline(ScopedInlineMixin, admin.TabularInline):
    """Fellow staff of the organization. Only superusers add or remove members: an organization's
    administrator asks them for a colleague's staff account and membership."""

    model = Membership
    form = MembershipForm
    formset = NamedDeletionInlineFormSet
    extra = 0
    autocomplete_fields = ("user",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("user",) if _superuser(request) else ("staff_member",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if _superuser(request) else ("staff_member",)

    @admin.display(description=_("staff member"))
    def staff_member(self, membership: Membership) -> str:
        # Fellow staff see each other's email (never the account's id or a link to it).
        return membership.user.email


@admin.register(Organization)
class OrganizationAdmin(BackOfficeAdmin):
    """Organizations are created and deleted by superusers; an organization's administrator
    renames it (the slug is its org_id in API paths: superusers only)."""

    organization_path = "pk"
    list_display = ("slug", "name", "created_at")
    list_filter = ("created_at",)
    search_fields = ("slug", "name")
    date_hierarchy = "created_at"
    inlines = (ApiKeyInline, MembershipInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Creating one would also tell a non-superuser which slugs other organizations use.
        return _superuser(request) and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if _superuser(request) else (*fields, "slug", "created_at")


@admin.register(Membership)
class MembershipAdmin(BackOfficeAdmin):
    """Which organizations each staff member works for (and so which objects they see).
    Superusers manage them; staff see their organizations' members."""

    form = MembershipForm
    list_display = ("user", "organization", "created_at")
    list_filter = ("organization", "created_at")
    list_select_related = ("organization", "user")
    search_fields = ("user__email_hash", "organization__slug")
    search_help_text = _("Search by the exact email address or the organization's id.")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _superuser(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request) and super().has_delete_permission(request, obj)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(user__email_hash=lookup_hash(normalize_email(term))), False
        return queryset.filter(organization__slug=term) if term else queryset, False


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[s for s in Scope.values if s != Scope.IDENTIFICATIONS_FORCE_DELETE],
    )

    class Meta:
        model = ApiKey
        fields = ("organization", "name", "scopes")


@admin.register(ApiKey)
class ApiKeyAdmin(BackOfficeAdmin):
    list_display = ("prefix", "organization", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("organization", ("revoked_at", admin.EmptyFieldListFilter), "created_at", "last_used_at")
    list_select_related = ("organization",)
    search_fields = ("prefix", "name", "organization__slug")
    date_hierarchy = "created_at"
    readonly_fields = ("prefix", "organization", "scopes", "created_at", "last_used_at", "revoked_at")
    fields = ("prefix", "organization", "name", "scopes", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_form(
        self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Any]]:
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        return ("organization", "name", "scopes") if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        return () if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ApiKey, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, raw = api_key_create(
            organization=form.cleaned_data["organization"],
            scopes=form.cleaned_data["scopes"],
            name=form.cleaned_data["name"],
        )
        obj.pk = key.pk
        obj._state.adding = False
        # Kept on the request only, for response_add to show once; never stored.
        request._new_api_key = raw  # type: ignore[attr-defined]

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None) -> HttpResponse:
        key = ApiKey.objects.select_related("organization").get(pk=obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("API key created"),
            "api_key": key,
            "raw_key": request._new_api_key,  # type: ignore[attr-defined]
        }
        response = TemplateResponse(request, "admin/organizations/apikey_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke selected API keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            api_key_revoke(api_key=key)
            self.log_change(request, key, "Revoked in the back office.")
        self.message_user(
            request,
            ngettext("Revoked %(n)d API key.", "Revoked %(n)d API keys.", len(keys)) % {"n": len(keys)},
            level=messages.SUCCESS,
        )
