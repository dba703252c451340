"""The back office's pages that compose several apps.

An identity's page shows its person's details as the organization may see them: which details
exist and where each came from, and a value only where the person shares it with that
organization right now (apps.activities.selectors.person_values_shared_with). It replaces the
identities app's registration, so this app comes after it in INSTALLED_APPS.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.activities.selectors import person_values_shared_with
from apps.identities.admin import ExternalPersonalIdentityAdmin
from apps.identities.models import ExternalPersonalIdentity
from apps.people.models import DetailSource
from apps.people.selectors import person_details

admin.site.unregister(ExternalPersonalIdentity)


@admin.register(ExternalPersonalIdentity)
class IdentityWithDetailsAdmin(ExternalPersonalIdentityAdmin):
    fields = (*ExternalPersonalIdentityAdmin.fields, "personal_details")
    readonly_fields = (*ExternalPersonalIdentityAdmin.readonly_fields, "personal_details")

    @admin.display(description=_("personal details"))
    def personal_details(self, identity: ExternalPersonalIdentity) -> str:
        person = identity.person
        if person is None:
            return gettext("No account is linked to this identity yet.")
        details = person_details(person=person)
        if not details:
            return gettext("The person has no personal details.")
        shared = person_values_shared_with(organization=identity.organization, person=person)
        rows = []
        for detail in details:
            provenance = (
                gettext("verified by %(provider)s")
                % {"provider": detail.verified_by_provider or gettext("a verification")}
                if detail.source == DetailSource.VERIFIED
                else gettext("self-declared")
            )
            value = shared.get(detail.name)
            shown = (
                format_html("{}", value)
                if value is not None
                else format_html("<em>{}</em>", gettext("not shared with this organization"))
            )
            rows.append((detail.get_name_display(), provenance, shown))
        return format_html(
            '<table class="backoffice-details"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            gettext("detail"),
            gettext("provenance"),
            gettext("value (while shared with this organization)"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )
