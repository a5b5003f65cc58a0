"""Alert and report tasks on queue ``default``: the weekly team reports (a beat entry).

Alert rules need no task: they are evaluated in the process that finishes the nightly
assessment (``apps.alerts`` listens to ``apps.core.hooks.assessment_finished``).
"""
from __future__ import annotations

from celery import shared_task

from workers.base import PlatformTask


@shared_task(bind=True, base=PlatformTask, name="alerts.send_team_reports", queue_name="default",
             soft_time_limit=540, time_limit=600, ignore_result=True)
def send_team_reports(self) -> dict:
    """Send every active weekly team report."""
    from apps.alerts.reports import team_reports_send

    return team_reports_send()
