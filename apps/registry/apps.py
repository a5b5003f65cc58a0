from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "apps.registry"
    label = "registry"
    verbose_name = _("Model registry")

    def ready(self) -> None:
        # Imported here: services import models, which exist only once the app registry is ready.
        from apps.jobs.kinds import job_kind_register

        from .training import retrain_submit

        job_kind_register(name="retrain", task="registry.train_candidate", submit=retrain_submit,
                          label=_("Retraining"))
