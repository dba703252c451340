"""Back-office composition across apps (the top layer: it may use every feature's selectors).

- Staff roles (the auth groups), with the back office's neutral admin log.
- An identity's page shows its person's details as the organization may see them: which
  details exist and where each came from, and a value only where the person shares it with
  that organization right now (apps.activities.selectors.person_values_shared_with).
- django-otp's device admins are not offered: they would show a staff member's TOTP key (a
  superuser could then pass as them); a superuser resets a lost device from the person's page.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.utils.html import format_html, format_html_join
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.activities.selectors import person_values_shared_with
from apps.backoffice.admin_privacy import AdminPrivacyMixin
from apps.backoffice.admin_tools import SelectedIdsAdminMixin
from apps.identities.admin import ExternalPersonalIdentityAdmin
from apps.identities.models import ExternalPersonalIdentity
from apps.people.models import DetailSource
from apps.people.selectors import person_details

admin.site.unregister(Group)
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)


@admin.register(Group)
class StaffGroupAdmin(AdminPrivacyMixin, SelectedIdsAdminMixin, GroupAdmin):
    """The staff roles (viewer, operator, administrator) and any group a superuser adds."""

    list_display = ("name",)
    list_filter = ("permissions__content_type__app_label",)
    search_fields = ("name",)


admin.site.unregister(ExternalPersonalIdentity)


@admin.register(ExternalPersonalIdentity)
class IdentityWithDetailsAdmin(ExternalPersonalIdentityAdmin):
    fields = (*ExternalPersonalIdentityAdmin.fields, "personal_details")
    readonly_fields = (*ExternalPersonalIdentityAdmin.readonly_fields, "personal_details")

    @admin.display(description="personal details")
    def personal_details(self, identity: ExternalPersonalIdentity) -> str:
        if identity.person_id is None:
            return "No account is linked to this identity yet."
        details = person_details(person=identity.person)
        if not details:
            return "The person has no personal details."
        shared = person_values_shared_with(organization=identity.organization, person=identity.person)
        rows = []
        for detail in details:
            provenance = (
                f"verified by {detail.verified_by_provider or 'a verification'}"
                if detail.source == DetailSource.VERIFIED
                else "self-declared"
            )
            value = shared.get(detail.name)
            shown = (
                format_html("{}", value)
                if value is not None
                else format_html("<em>{}</em>", "not shared with this organization")
            )
            rows.append((detail.get_name_display(), provenance, shown))
        return format_html(
            '<table class="backoffice-details"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            "detail",
            "provenance",
            "value (while shared with this organization)",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )
