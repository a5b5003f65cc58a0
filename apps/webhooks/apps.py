from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        # Imported here: services import models, which exist only once the app registry is ready.
        from apps.core.hooks import event_published
        from apps.jobs.signals import job_finished

        from .services import event_publish_receiver, job_finished_receiver

        event_published.connect(event_publish_receiver, dispatch_uid="webhooks.event_published")
        job_finished.connect(job_finished_receiver, dispatch_uid="webhooks.job_finished")
