"""People's apps in the back office: superusers register them (django-oauth-toolkit's token,
grant and ID-token admins are not offered: tokens are the person's, managed from /me/)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from oauth2_provider.models import get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model

from apps.backoffice.admin_accounts import SuperuserOnlyAdminMixin
from apps.backoffice.admin_tools import BackOfficeAdmin
from apps.oauth.models import Application
from apps.oauth.scopes import OPENID, SCOPE_LABELS

# django-oauth-toolkit ships no Spanish: the labels of its fields this page shows are
# translated in the project's catalog (gettext finds them there under the same msgid).
DJANGO_OAUTH_TOOLKIT_LABELS = (
    gettext_noop("name"),
    gettext_noop("redirect URIs"),
    gettext_noop("client ID"),
    gettext_noop("created"),
    gettext_noop("updated"),
)


class ApplicationForm(forms.ModelForm):
    """What a superuser decides for a people's app; the rest (public client, authorization code
    with PKCE, RS256 ID tokens, no secret) is fixed by Application.clean."""

    allowed_scopes = forms.MultipleChoiceField(
        label=_("Allowed scopes"),
        choices=[(name, format_lazy("{}: {}", name, label)) for name, label in SCOPE_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
        initial=[OPENID],
        help_text=_("What the app may ask people for; openid is always included."),
    )

    class Meta:
        model = Application
        fields = ("name", "redirect_uris", "allowed_scopes", "is_active")
        help_texts = {
            "name": _("People see it on the approval page and under Connected apps."),
            "redirect_uris": _(
                "Exact URIs, separated by spaces or lines: https, a loopback address over http "
                "(http://127.0.0.1/callback; any port is accepted, RFC 8252), or the app's own scheme "
                "(com.example.app:/callback)."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_scopes"] = self.instance.allowed_scopes.split()

    def clean_allowed_scopes(self) -> str:
        return " ".join(self.cleaned_data["allowed_scopes"])


class ApplicationAdmin(SuperuserOnlyAdminMixin, BackOfficeAdmin):
    """Registering an app people sign in to is a platform decision: superusers only, like
    accounts and organizations. Organization staff do not see this page."""

    form = ApplicationForm
    list_display = ("name", "client_id", "allowed_scopes", "is_active", "created")
    list_filter = ("is_active", "created")
    search_fields = ("name", "client_id")
    date_hierarchy = "created"
    readonly_fields = ("client_id", "created", "updated")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["name", "redirect_uris", "allowed_scopes", "is_active"]
        return [*fields, "client_id", "created", "updated"] if obj else fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        # No organization owns an app: the organization scoping has nothing to filter on, and
        # only superusers (who see everything) get here at all.
        queryset = admin.ModelAdmin.get_queryset(self, request)
        return queryset if request.user.is_active and request.user.is_superuser else queryset.none()


# django-oauth-toolkit's admin module (imported before this one: it comes first in
# INSTALLED_APPS) registers its models with the site. The person's tokens are no staff business
# (their values are only stored hashed anyway); the apps get the admin above.
for model in (
    Application,
    get_access_token_model(),
    get_refresh_token_model(),
    get_id_token_model(),
    get_grant_model(),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
admin.site.register(Application, ApplicationAdmin)
