"""Learned criteria: a text model trained from reviewers' answers to one criterion.

A criterion's model is registered in the model registry under the task ``qa:<criterion key>``
(the key is stable across scorecard versions, so answers given on every version count). It is
trained on the agent's turns of each reviewed conversation with ``ml``'s linear text classifier,
measured on a held-out fifth of the conversations (``crc32(external_id) % 5 == 0``, the same
conversations run after run) by its agreement with the reviewers (accuracy) and Cohen's kappa,
and promoted only when there is no production model for the task yet or its kappa beats the
production model's on the same held-out answers by ``PROMOTION_MARGIN``.

A criterion is switched to ``answered_by=model`` only while its task has a production model;
scoring then answers it with that model (loaded once per process by the registry loader) and
records the model's confidence as the answer's evidence.
"""
from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.conversations.models import Message
from apps.core.exceptions import ApplicationError, NotFound
from apps.registry import loader
from apps.registry import services as registry
from apps.registry.models import LEARNED_TASK_PREFIX, ModelVersion

from . import rules
from .models import Criterion, CriterionAnswer

logger = logging.getLogger(__name__)

HELDOUT_MOD = 5
# The linear backend is ml's generic text classifier; "intent" is the classification task whose
# estimator it builds (ml knows the three core tasks only); the labels are the criterion's answers.
ML_TASK = "intent"
BACKEND = "linear"


def learned_task(key: str) -> str:
    """The registry task of a criterion's learned model."""
    return f"{LEARNED_TASK_PREFIX}{key}"


def learned_production_version(*, key: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(task=learned_task(key), status=ModelVersion.Status.PRODUCTION).first()


def is_heldout(external_id: str) -> bool:
    return zlib.crc32(external_id.encode("utf-8")) % HELDOUT_MOD == 0


def agent_text(messages) -> str:
    """What a learned criterion reads: the agent's turns in order, one per line."""
    return "\n".join(m.text for m in messages if m.speaker == "agent")


@dataclass
class AnswerSet:
    conversation_ids: list[int]
    external_ids: list[str]
    texts: list[str]
    labels: list[str]


def _reviewer_answer_rows(key: str):
    return (
        CriterionAnswer.objects.filter(criterion__key=key, result__reviewed_at__isnull=False)
        .filter(Q(source=CriterionAnswer.Source.REVIEWER) | Q(criterion__answered_by=Criterion.AnsweredBy.RULE))
        .exclude(answer__in=["", "na"])
    )


def reviewer_answer_count(*, key: str) -> int:
    """How many conversations reviewers answered criterion ``key`` on (what training would use)."""
    return _reviewer_answer_rows(key).values("result__conversation_id").distinct().count()


def learned_model_summary(*, key: str) -> dict:
    """What the console and admin show before anyone switches a criterion to its model: the
    reviewer answers available, and the production (else the newest) model's held-out agreement."""
    task = learned_task(key)
    mv = learned_production_version(key=key) or ModelVersion.objects.filter(task=task).order_by("-version").first()
    out = {"task": task, "answers": reviewer_answer_count(key=key), "min_answers": settings.QA_LEARNED_MIN_ANSWERS,
           "model": None}
    if mv is not None:
        out["model"] = {"version": mv.version, "status": mv.status, "agreement": mv.metrics.get("agreement"),
                        "kappa": mv.metrics.get("kappa"), "n": mv.metrics.get("n")}
    return out


def learned_summary_text(summary: dict) -> str:
    """``learned_model_summary`` as one translated line."""
    answers = _("%(n)d reviewer answers (training needs %(min)d).") % {
        "n": summary["answers"], "min": summary["min_answers"]}
    model = summary["model"]
    if model is None:
        return f"{answers} " + _("No model trained yet (manage.py train_criterion_model %(task)s).") % {
            "task": summary["task"].removeprefix(LEARNED_TASK_PREFIX)}
    status = {"production": _("in production"), "candidate": _("candidate"), "retired": _("retired"),
              "rejected": _("rejected")}.get(model["status"], model["status"])
    return f"{answers} " + _(
        "Model v%(v)d (%(status)s): agrees with reviewers on %(agreement).1f%% of %(n)d held-out answers, "
        "Cohen's kappa %(kappa).2f."
    ) % {"v": model["version"], "status": status, "agreement": 100 * (model["agreement"] or 0),
         "n": model["n"] or 0, "kappa": model["kappa"] or 0}


def reviewer_answers(*, key: str) -> AnswerSet:
    """One answer per reviewed conversation for criterion ``key`` (the latest when several versions
    were reviewed): answers a reviewer set, and the rule's answers on results a reviewer reviewed
    and kept. A learned model's own answers are never training data. Not applicable and blank
    answers are left out."""
    rows = (
        _reviewer_answer_rows(key).order_by("result__conversation_id", "-updated_at", "-pk")
        .values_list("result__conversation_id", "result__conversation__external_id", "answer")
    )
    latest: dict[int, tuple[str, str]] = {}
    for cid, external_id, answer in rows:
        latest.setdefault(cid, (external_id, answer))
    ids = sorted(latest)
    messages: dict[int, list] = {cid: [] for cid in ids}
    for cid, speaker, text in (
        Message.objects.filter(conversation_id__in=ids, speaker="agent").order_by("conversation_id", "seq")
        .values_list("conversation_id", "speaker", "text").iterator(chunk_size=5000)
    ):
        messages[cid].append(rules.Msg(0, speaker, text, None))
    return AnswerSet(
        conversation_ids=ids, external_ids=[latest[c][0] for c in ids],
        texts=[agent_text(messages[c]) for c in ids], labels=[latest[c][1] for c in ids],
    )


def agreement_measure(*, estimator, texts: list[str], labels: list[str]) -> dict:
    """Agreement with the reviewers (accuracy) and Cohen's kappa on held-out answers."""
    from sklearn.metrics import accuracy_score, cohen_kappa_score

    predicted = [str(p) for p in estimator.predict(texts)]
    kappa = cohen_kappa_score(labels, predicted) if len(set(labels) | set(predicted)) > 1 else 1.0
    return {
        "agreement": round(float(accuracy_score(labels, predicted)), 4),
        "kappa": round(float(np.nan_to_num(kappa)), 4),
        "n": len(labels),
    }


def criterion_model_train(*, criterion_id: int, user=None, promote: bool = True) -> dict:
    """Train, measure and register a model for a criterion; promote it through the gate.

    Raises ``ApplicationError`` (400, field ``criterion``) with fewer than
    ``QA_LEARNED_MIN_ANSWERS`` reviewer answers, or answers of one kind only.
    Returns the decision, the registered version and both models' held-out figures.
    """
    import ml

    criterion = Criterion.objects.filter(pk=criterion_id).first()
    if criterion is None:
        raise NotFound(_("Criterion not found."))
    key, task = criterion.key, learned_task(criterion.key)
    data = reviewer_answers(key=key)
    minimum = settings.QA_LEARNED_MIN_ANSWERS
    if len(data.labels) < minimum:
        raise ApplicationError(
            _("%(key)s has %(n)d reviewer answers; a learned model needs at least %(min)d.")
            % {"key": key, "n": len(data.labels), "min": minimum},
            {"criterion": _("Not enough reviewer answers (QA_LEARNED_MIN_ANSWERS).")},
        )
    held = [is_heldout(e) for e in data.external_ids]
    train_texts = [t for t, h in zip(data.texts, held) if not h]
    train_labels = [y for y, h in zip(data.labels, held) if not h]
    test_texts = [t for t, h in zip(data.texts, held) if h]
    test_labels = [y for y, h in zip(data.labels, held) if h]
    if len(set(train_labels)) < 2 or not test_labels:
        raise ApplicationError(
            _("The reviewer answers of %(key)s are all the same; a model cannot learn from them.") % {"key": key},
            {"criterion": _("Needs answers of at least two kinds.")},
        )
    estimator = ml.build(ML_TASK, BACKEND, random_state=0).fit(train_texts, train_labels)
    candidate = agreement_measure(estimator=estimator, texts=test_texts, labels=test_labels)

    production = learned_production_version(key=key)
    production_metrics = None
    refused = ""
    if production is not None:
        try:
            production_est = loader.models_for([production.pk]).get(task).estimator  # sha256-verified load
        except loader.ModelsUnavailable as exc:
            refused = exc.message  # an artifact that fails verification serves nobody: replace it
        else:
            production_metrics = agreement_measure(estimator=production_est, texts=test_texts, labels=test_labels)
    margin = float(settings.PROMOTION_MARGIN)
    if refused:
        better, reason = True, f"production v{production.version} refused: {refused}"
    elif production_metrics is None:
        better, reason = True, "no production version to compare with"
    else:
        better = candidate["kappa"] - production_metrics["kappa"] >= margin
        reason = f"kappa {production_metrics['kappa']:.4f} -> {candidate['kappa']:.4f} (needs +{margin})"
    mv = registry.model_version_register(
        task=task, backend=BACKEND, estimator=estimator, user=user,
        training_data={"n_train": len(train_labels), "labels": "reviewer answers", "criterion": key,
                       "fingerprint": getattr(estimator, "fingerprint_", "")},
        metrics=candidate,
        comparison={"heldout": {"rule": f"crc32(external_id) % {HELDOUT_MOD} == 0", "n": len(test_labels)},
                    "candidate": candidate, "production": production_metrics,
                    "production_version": production.version if production else None,
                    "margin": margin, "reason": reason},
    )
    decision = "rejected"
    if better and promote:
        try:
            registry.model_version_promote(version=mv, user=user, reason=f"criterion {key}: {reason}",
                                           expected_production=production.pk if production else None)
            decision = "promoted"
        except registry.ProductionChanged as exc:
            reason = exc.message
    if decision == "rejected":
        registry.model_version_reject(version=mv, reason=reason if promote else "not promoted on request")
    return {"criterion": key, "task": task, "decision": decision, "version": mv.version, "model_version_id": mv.pk,
            "reason": reason, "candidate": candidate, "production": production_metrics,
            "n_answers": len(data.labels)}


def model_answers(specs: list[rules.CriterionSpec], transcripts: dict[int, rules.Transcript]) -> dict:
    """The answers of the model-answered criteria: ``{(criterion id, conversation id): (answer, evidence)}``.

    Each criterion is answered by the production model of its task on the conversations it applies
    to; the evidence is the model's confidence in its answer. A criterion whose task has no
    production model, or one whose artifact fails verification, is left unanswered (and logged).
    """
    out: dict[tuple[int, int], tuple[str, list[dict]]] = {}
    for spec in specs:
        if spec.answered_by != Criterion.AnsweredBy.MODEL:
            continue
        try:
            model = loader.production_model(learned_task(spec.key))
        except loader.ModelsUnavailable as exc:
            logger.error("criterion %s left unanswered: %s", spec.key, exc.message)
            continue
        if model is None:
            continue
        ids = [cid for cid, t in transcripts.items() if spec.applies_to(t)]
        if not ids:
            continue
        proba = model.estimator.predict_proba([agent_text(transcripts[cid].messages) for cid in ids])
        classes = [str(c) for c in model.estimator.classes_]
        for cid, row in zip(ids, proba):
            best = int(np.argmax(row))
            out[(spec.id, cid)] = (classes[best], [{
                "model": model.task, "version": model.version, "confidence": round(float(row[best]), 4),
            }])
    return out
