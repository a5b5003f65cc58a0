from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "apps.scoring"
    label = "scoring"
    verbose_name = _("Scoring")

    def ready(self) -> None:
        # Imported here: services import models, which exist only once the app registry is ready.
        from apps.jobs.kinds import job_kind_register
        from apps.conversations.signals import conversations_changed
        from apps.jobs.signals import job_finished

        from .services.assessment import assessment_after_scoring
        from .services.batch import score_job_submit
        from .services.predict import predictions_discard

        job_kind_register(name="score", task="scoring.score_job", chunk_task="scoring.score_chunk",
                          submit=score_job_submit, label=_("Batch scoring"))
        job_kind_register(name="assess", task="scoring.assess_aggregate", label=_("Quality assessment"))
        job_finished.connect(assessment_after_scoring, dispatch_uid="scoring.assessment_after_scoring")
        conversations_changed.connect(predictions_discard, dispatch_uid="scoring.predictions_discard")
