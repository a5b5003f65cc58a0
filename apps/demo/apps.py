from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo contact centre generator and its ``seed_demo`` command; no other app imports it."""

    name = "apps.demo"
    label = "demo"
