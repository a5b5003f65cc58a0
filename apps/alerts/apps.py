from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    """Alert rules evaluated after each nightly assessment, and the weekly team reports."""

    name = "apps.alerts"
    label = "alerts"
    verbose_name = _("Alerts and reports")

    def ready(self) -> None:
        from apps.core.hooks import assessment_finished

        from .services import assessment_finished_receiver

        assessment_finished.connect(assessment_finished_receiver, dispatch_uid="alerts.assessment_finished")
