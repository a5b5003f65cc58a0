"""Extension points other apps connect to, so that the app sending them knows none of its receivers.

Receivers run synchronously in the sender's process (and transaction, where noted), so a
receiver's writes commit or roll back with the sender's.

``conversations_scored``
    Sent by a scoring chunk inside its transaction, after its predictions are upserted.
    kwargs: ``conversation_ids`` (list[int]), ``job_id`` (int). A chunk replayed after a
    worker kill sends it again: receivers must upsert idempotently.
``assessment_aggregating``
    Sent by the nightly assessment of one date inside its aggregation transaction, before the
    day's review flags are collected. kwargs: ``date`` (datetime.date), ``job_id`` (int).
``event_published``
    Sent by an app that has news for outside systems (``conversation.flagged``); the webhooks
    app delivers it to the subscribers. kwargs: ``event`` (str), ``payload`` (dict of ids,
    counts and labels, never texts). Senders use ``send_robust``: an outage of a receiver
    never fails the sender.
``assessment_finished``
    Sent after the nightly assessment of one date has committed. kwargs: ``date``, ``job_id``,
    ``result`` (dict).
"""
from django.dispatch import Signal

conversations_scored = Signal()
assessment_aggregating = Signal()
assessment_finished = Signal()
event_published = Signal()
