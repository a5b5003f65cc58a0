"""Signals of the jobs app, so that it calls no other app.

``job_finished``
    Sent after a job reached a terminal state (succeeded, failed, cancelled) and that change
    committed; sent once per job. kwargs: ``job`` (the ``Job``), ``payload`` (its JSON summary).
    The webhooks app turns it into the ``job.finished`` event; the scoring app starts the
    assessment a scoring job was chained to.
"""
from django.dispatch import Signal

job_finished = Signal()
