"""Nightly quality assessment: flag conversations for review, aggregate per agent and day.

``assessment_start`` is guarded by ``AssessmentRun.date`` (unique): however many beat
processes fire for one date, one run is created and one aggregation happens. Scoring
of what the production versions have not scored goes through the queue first; the
scoring job's completion dispatches the aggregation (``assessment_after_scoring``, a
``job_finished`` receiver; never a blocking wait). The nightly run also starts a
retraining when enough new reviewed labels exist.
"""
from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Avg, Case, Count, F, FloatField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.conversations.models import Conversation
from apps.core import hooks
from apps.core.exceptions import Conflict
from apps.jobs import services as job_services
from apps.jobs.models import Job
from apps.registry.loader import production_models

from ..models import AgentDailyQuality, AssessmentRun, ReviewItem

logger = logging.getLogger(__name__)

FLAG_EVENT_BATCH = 200
REASON_LOW_CONFIDENCE = "low_confidence"
REASON_NEGATIVE = "negative_sentiment"
REASON_LOW_QUALITY = "low_quality"
LOW_QUALITY = 3.0


def parse_date(value: str | dt.date | None) -> dt.date:
    """``None`` means yesterday in the project's time zone (the beat fires after midnight)."""
    if value is None:
        return timezone.localdate() - dt.timedelta(days=1)
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def day_bounds(date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(date, dt.time.min), tz)
    return start, start + dt.timedelta(days=1)


def assessment_start(*, date: dt.date, created_by=None) -> Job | None:
    """Start the assessment of ``date`` once. Returns the assess job, or None when it already ran or runs.

    A date whose assessment failed or was cancelled may be started again: the new job replaces
    the old one on the date's ``AssessmentRun`` (the row lock keeps two callers from both doing it).
    When production models exist, what they have not scored is scored first: the assess job
    waits for that scoring job (``params["waits_for_job"]``) and is dispatched when it finishes.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = AssessmentRun.objects.create(date=date)
        except IntegrityError:
            run = AssessmentRun.objects.select_for_update(of=("self",)).select_related("job").get(date=date)
            if run.job is not None and run.job.status not in (Job.Status.FAILED, Job.Status.CANCELLED):
                logger.info("assessment of %s already started; skipping", date)
                return None
        job, _ = job_services.job_create(kind="assess", params={"date": date.isoformat()}, created_by=created_by,
                                         enqueue=False)
        run.job = job
        run.save(update_fields=["job"])
        if production_models(required=False):
            scoring, _ = job_services.job_create(
                kind="score", params={"unscored": True, "then_assess_job": job.pk}, created_by=created_by)
            job.params = {**job.params, "waits_for_job": scoring.pk}
            job.save(update_fields=["params"])
            job_services.job_step(job_id=job.pk, step="scoring unscored conversations", job=scoring.pk)
        else:
            transaction.on_commit(partial(job_services.job_dispatch, job_id=job.pk))
    return job


def assessment_rerun(*, date: dt.date, created_by=None) -> Job:
    """Run the assessment of a date again after it failed; ``Conflict`` when it succeeded or still runs."""
    job = assessment_start(date=date, created_by=created_by)
    if job is None:
        raise Conflict(_("The assessment of %(date)s succeeded or is still running.") % {"date": date.isoformat()})
    return job


def assessment_nightly(*, date: str | None = None) -> int | None:
    """The nightly run: assess ``date`` (default yesterday) and start a retraining when it is due."""
    job = assessment_start(date=parse_date(date))
    retrain_if_due()
    return job.pk if job else None


def assessment_after_scoring(sender, *, job: Job, **kwargs) -> None:
    """``job_finished`` receiver: dispatch the assessments that waited for this scoring job."""
    if job.kind != "score":
        return
    waiting = Q(params__waits_for_job=job.pk)
    if (job.params or {}).get("then_assess_job"):  # the link as scoring jobs of earlier releases stored it
        waiting |= Q(pk=job.params["then_assess_job"])
    for assess in Job.objects.filter(waiting, status=Job.Status.QUEUED).only("pk"):
        job_services.job_dispatch(job_id=assess.pk)


def new_labels_since_last_retrain() -> int:
    """Reviewed labels since the last retraining job was created."""
    since = Job.objects.filter(kind="retrain").order_by("-created_at").values_list("created_at", flat=True).first()
    qs = ReviewItem.objects.filter(status=ReviewItem.Status.REVIEWED)
    if since is not None:
        qs = qs.filter(reviewed_at__gt=since)
    return qs.count()


def retrain_if_due(*, created_by=None) -> Job | None:
    """Start a retraining job when ``RETRAIN_MIN_NEW_LABELS`` new reviewed labels exist (checked nightly)."""
    n = new_labels_since_last_retrain()
    if n < settings.RETRAIN_MIN_NEW_LABELS:
        return None
    job, _ = job_services.job_submit(kind="retrain", params={"reason": f"{n} new reviewed labels"},
                                     created_by=created_by,
                                     idempotency_key=f"retrain-auto-{timezone.localdate().isoformat()}")
    return job


def conversations_flag(*, date: dt.date) -> list[dict]:
    """Put the day's doubtful conversations into the review queue. Returns the newly flagged."""
    start, end = day_bounds(date)
    rows = list(
        Conversation.objects.filter(started_at__gte=start, started_at__lt=end, prediction__isnull=False)
        .filter(Q(uncertain=True) | Q(predicted_sentiment="negative") | Q(predicted_quality__lt=LOW_QUALITY))
        .values("id", "external_id", "prediction_id", "uncertain", "predicted_sentiment", "predicted_quality")
    )
    # Items already there (e.g. flagged by QA earlier in the same aggregation) gain the model's
    # reasons; only new items are returned as flagged.
    existing = {
        item.conversation_id: item
        for item in ReviewItem.objects.filter(conversation_id__in=[r["id"] for r in rows]).only("pk", "conversation_id", "reasons")
    }
    items, extended, flagged = [], [], []
    for row in rows:
        reasons = []
        if row["uncertain"]:
            reasons.append(REASON_LOW_CONFIDENCE)
        if row["predicted_sentiment"] == "negative":
            reasons.append(REASON_NEGATIVE)
        if row["predicted_quality"] is not None and row["predicted_quality"] < LOW_QUALITY:
            reasons.append(REASON_LOW_QUALITY)
        item = existing.get(row["id"])
        if item is not None:
            added = [r for r in reasons if r not in (item.reasons or [])]
            if added:
                item.reasons = [*(item.reasons or []), *added]
                extended.append(item)
            continue
        items.append(ReviewItem(conversation_id=row["id"], prediction_id=row["prediction_id"], reasons=reasons))
        flagged.append({"external_id": row["external_id"], "reasons": reasons})
    ReviewItem.objects.bulk_update(extended, ["reasons"], batch_size=1000)
    ReviewItem.objects.bulk_create(items, ignore_conflicts=True, batch_size=1000)
    return flagged


def agent_daily_aggregate(*, date: dt.date) -> int:
    """Upsert ``AgentDailyQuality`` rows for ``date`` with one grouped query.

    Reviewed labels win over predictions (a manager's correction is the truth).
    """
    start, end = day_bounds(date)
    reviewed = Q(review__status=ReviewItem.Status.REVIEWED)
    quality = Case(
        When(reviewed & Q(review__quality__isnull=False), then=F("review__quality")),
        default=F("predicted_quality"), output_field=FloatField(),
    )
    negative = Case(
        When(reviewed & ~Q(review__sentiment=""), then=Case(
            When(review__sentiment="negative", then=Value(1.0)), default=Value(0.0), output_field=FloatField())),
        When(predicted_sentiment="negative", then=Value(1.0)),
        default=Value(0.0), output_field=FloatField(),
    )
    resolved = Case(
        When(resolved=True, then=Value(1.0)), When(resolved=False, then=Value(0.0)),
        default=None, output_field=FloatField(),
    )
    groups = (
        Conversation.objects.filter(started_at__gte=start, started_at__lt=end, agent__isnull=False)
        .values("agent_id")
        .annotate(
            volume=Count("id"), mean_quality=Avg(quality), negative_share=Avg(negative),
            resolution_rate=Avg(resolved), flagged_count=Count("review"),
        )
        .order_by("agent_id")
    )
    rows = [
        AgentDailyQuality(
            agent_id=g["agent_id"], date=date, volume=g["volume"], mean_quality=g["mean_quality"],
            negative_share=g["negative_share"] or 0.0, resolution_rate=g["resolution_rate"],
            flagged_count=g["flagged_count"], computed_at=timezone.now(),
        )
        for g in groups
    ]
    AgentDailyQuality.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["agent", "date"],
        update_fields=["volume", "mean_quality", "negative_share", "resolution_rate", "flagged_count", "computed_at"],
        batch_size=1000,
    )
    return len(rows)


def assessment_aggregate(*, job_id: int, task_id: str | None = None) -> dict:
    """Flag and aggregate the assess job's date; emit ``conversation.flagged`` in batches.

    ``task_id``: the Celery message running it, which claims the job (``job_start``); a cancelled
    job, or one another message runs, is left alone.
    """
    job = Job.objects.get(pk=job_id)
    if job.status in job_services.TERMINAL or not job_services.job_start(job_id=job_id, task_id=task_id):
        return job.result or {}
    date = parse_date(job.params["date"])
    with transaction.atomic():
        hooks.assessment_aggregating.send(sender=Job, date=date, job_id=job_id)
        flagged = conversations_flag(date=date)
        n_agents = agent_daily_aggregate(date=date)
    job_services.job_step(job_id=job_id, step="aggregated", agents=n_agents, flagged=len(flagged))
    for start in range(0, len(flagged), FLAG_EVENT_BATCH):
        hooks.event_published.send_robust(
            sender=Job, event="conversation.flagged",
            payload={"date": date.isoformat(), "conversations": flagged[start:start + FLAG_EVENT_BATCH]},
        )
    result = {"date": date.isoformat(), "agents": n_agents, "flagged": len(flagged)}
    Job.objects.filter(pk=job_id).update(total=n_agents, done=n_agents)
    job_services.job_finish(job_id=job_id, result=result)
    hooks.assessment_finished.send(sender=Job, date=date, job_id=job_id, result=result)
    return result
