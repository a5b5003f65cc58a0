from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        from . import schema, signals  # noqa: F401  (OpenAPI auth extension; login audit receivers)
