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
        from apps.core import hooks
        from apps.jobs.kinds import job_kind_register

        from . import jobs, receivers

        post_migrate.connect(_setup_roles, sender=self, dispatch_uid="qa.setup_roles")
        hooks.conversations_scored.connect(receivers.on_conversations_scored, dispatch_uid="qa.scored")
        hooks.assessment_aggregating.connect(receivers.on_assessment_aggregating, dispatch_uid="qa.aggregating")
        job_kind_register(name=jobs.SCORE_KIND, task="qa.score_job", chunk_task="qa.score_chunk",
                          submit=jobs.qa_score_submit)
        job_kind_register(name=jobs.TRY_KIND, task="qa.try_rule", submit=jobs.rule_try_submit)
