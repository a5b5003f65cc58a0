from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.core.views import health

# The real-time predict API first: Django tries the patterns in order on every request.
api_v1 = [
    path("", include("apps.scoring.urls")),
    path("", include("apps.customers.urls")),
    path("", include("apps.agents.urls")),
    path("", include("apps.conversations.urls")),
    path("", include("apps.registry.urls")),
    path("", include("apps.jobs.urls")),
    path("", include("apps.webhooks.urls")),
    path("", include("apps.qa.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:overview", permanent=False)),
    path("health", health, name="health"),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("", include("django_prometheus.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("dashboard/alerts/", include("apps.alerts.urls")),
    path("dashboard/qa/", include("apps.qa.console_urls")),
    path("dashboard/", include("apps.dashboard.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"

admin.site.site_header = gettext_lazy("Customer-service intelligence")
admin.site.site_title = gettext_lazy("Customer-service intelligence")
admin.site.index_title = gettext_lazy("Administration")
