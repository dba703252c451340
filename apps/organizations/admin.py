from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from apps.organizations.models import ApiKey, Membership, Organization, Scope
from apps.organizations.services import api_key_create


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
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "created_at")
    search_fields = ("slug", "name")
    date_hierarchy = "created_at"
    inlines = (ApiKeyInline, MembershipInline)


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
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "organization", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("organization", ("revoked_at", admin.EmptyFieldListFilter))
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

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} API key(s).")
