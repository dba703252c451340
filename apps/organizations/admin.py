from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.backoffice.admin_tools import BackOfficeAdmin
from apps.organizations.models import ApiKey, Membership, Organization, Scope
from apps.organizations.services import api_key_create, api_key_revoke
from apps.people.crypto import lookup_hash, normalize_email


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ("prefix", "name", "scopes", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(BackOfficeAdmin):
    organization_path = "pk"
    list_display = ("slug", "name", "created_at")
    list_filter = ("created_at",)
    search_fields = ("slug", "name")
    date_hierarchy = "created_at"
    inlines = (ApiKeyInline, MembershipInline)

    def save_model(self, request: HttpRequest, obj: Organization, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser:
            # Staff see only their organizations: whoever creates one works for it.
            Membership.objects.get_or_create(organization=obj, user=request.user)


@admin.register(Membership)
class MembershipAdmin(BackOfficeAdmin):
    """Which organizations each staff member works for (and so which objects they see)."""

    list_display = ("user", "organization", "created_at")
    list_filter = ("organization", "created_at")
    list_select_related = ("organization", "user")
    search_fields = ("user__email_hash", "organization__slug")
    search_help_text = "Search by the exact email address or the organization's id."
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(user__email_hash=lookup_hash(normalize_email(term))), False
        return queryset.filter(organization__slug=term) if term else queryset, False


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
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

    def get_form(self, request: HttpRequest, obj: ApiKey | None = None, **kwargs: Any) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, **kwargs)

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
            "title": "API key created",
            "api_key": key,
            "raw_key": request._new_api_key,  # type: ignore[attr-defined]
        }
        response = TemplateResponse(request, "admin/organizations/apikey_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            api_key_revoke(api_key=key)
            self.log_change(request, key, "Revoked in the back office.")
        self.message_user(request, f"Revoked {len(keys)} API key(s).", level=messages.SUCCESS)
