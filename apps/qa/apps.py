from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _setup_roles(sender, **kwargs) -> None:
    from apps.core.roles import roles_setup

    roles_setup()


class QaConfig(AppConfig):
    name = "apps.qa"
    label = "qa"
    verbose_name = _("Quality assurance")

    def ready(self) -> None:
        post_migrate.connect(_setup_roles, sender=self, dispatch_uid="qa.setup_roles")
