from __future__ import annotations

from apps.activities.api import me_views, views
from apps.api.urls import api_path

base = "orgs/<slug:org_id>/activities"
one = f"{base}/<uuid:activity_id>"

urlpatterns = [
    *api_path(base, views.ActivityListCreateApi.as_view(), name="activities"),
    *api_path(one, views.ActivityDetailApi.as_view(), name="activity"),
    *api_path(f"{one}/accept", views.ActivityAcceptApi.as_view(), name="activity-accept"),
    *api_path(f"{one}/decline", views.ActivityDeclineApi.as_view(), name="activity-decline"),
    *api_path(f"{one}/withdraw", views.ActivityWithdrawApi.as_view(), name="activity-withdraw"),
    *api_path(f"{one}/complete", views.ActivityCompleteApi.as_view(), name="activity-complete"),
    *api_path(f"{one}/details", views.ActivityDetailsApi.as_view(), name="activity-details"),
    # The person's own, for their app (access token, scope `inbox`).
    *api_path("me/activities", me_views.PersonActivityListApi.as_view(), name="me-activities"),
    *api_path("me/activities/<uuid:activity_id>", me_views.PersonActivityDetailApi.as_view(), name="me-activity"),
    *api_path(
        "me/activities/<uuid:activity_id>/accept", me_views.PersonActivityAcceptApi.as_view(), name="me-activity-accept"
    ),
    *api_path(
        "me/activities/<uuid:activity_id>/decline",
        me_views.PersonActivityDeclineApi.as_view(),
        name="me-activity-decline",
    ),
    *api_path(
        "me/sharings/<uuid:activity_id>/revoke", me_views.PersonSharingRevokeApi.as_view(), name="me-sharing-revoke"
    ),
]
