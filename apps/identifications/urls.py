from __future__ import annotations

from django.urls import path

from apps.identifications import views

app_name = "identifications"

# The page reads; each step posts to its own address under it (the same signed link).
urlpatterns = [
    path("<uuid:identification_id>/<str:token>/", views.identification_page, name="page"),
    path("<uuid:identification_id>/<str:token>/send-code/", views.identification_send_code_view, name="send_code"),
    path("<uuid:identification_id>/<str:token>/code/", views.identification_check_code_view, name="check_code"),
    path(
        "<uuid:identification_id>/<str:token>/second-factor/",
        views.identification_second_factor_view,
        name="second_factor",
    ),
    path("<uuid:identification_id>/<str:token>/images/", views.identification_images_view, name="images"),
]
