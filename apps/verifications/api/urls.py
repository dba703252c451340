from __future__ import annotations

from apps.api.urls import api_path
from apps.verifications.api import views

base = "orgs/<slug:org_id>/processes"
one = f"{base}/<uuid:process_id>"

urlpatterns = [
    *api_path(base, views.ProcessListCreateApi.as_view(), name="processes"),
    *api_path(one, views.ProcessDetailApi.as_view(), name="process"),
    *api_path(f"{one}/cancel", views.ProcessCancelApi.as_view(), name="process-cancel"),
    *api_path(f"{one}/fullresult", views.ProcessFullResultApi.as_view(), name="process-fullresult"),
    *api_path("orgs/<slug:org_id>/providers", views.ProviderConnectionListApi.as_view(), name="provider-connections"),
    *api_path(
        "orgs/<slug:org_id>/providers/<str:provider>", views.ProviderConnectionApi.as_view(), name="provider-connection"
    ),
    *api_path(
        "providers/<str:provider>/webhook/<slug:org_id>", views.ProviderWebhookApi.as_view(), name="provider-webhook"
    ),
    *api_path("providers/<str:provider>/callback", views.ProviderCallbackApi.as_view(), name="provider-callback"),
]
