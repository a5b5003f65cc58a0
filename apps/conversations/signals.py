"""Signals of the conversations app, so that it imports no app that builds on it.

``conversations_changed``
    Sent inside the upsert's transaction when existing conversations were replaced by new
    content (their messages are re-written). kwargs: ``conversation_ids`` (list[int]). The
    scoring app drops the predictions of the old content.
"""
from django.dispatch import Signal

conversations_changed = Signal()
