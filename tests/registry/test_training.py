import pytest
from django.utils import timezone

from apps.conversations.models import Conversation
from apps.jobs.models import Job
from apps.registry import training
from apps.registry.models import ModelVersion
from apps.scoring.models import ReviewItem
from tests.scoring.data import QUICK_HYPERPARAMS, train_and_promote

pytestmark = pytest.mark.django_db


def test_heldout_split_is_fixed():
    ids = [f"CONV{i:05d}" for i in range(1000)]
    first = [training.is_heldout(i) for i in ids]
    assert first == [training.is_heldout(i) for i in ids]
    assert 150 < sum(first) < 250


def test_reviewed_labels_win_over_imported(labelled):
    conv = Conversation.objects.get(pk=labelled[1])
    ReviewItem.objects.create(conversation=conv, status="reviewed", intent="complaint", sentiment="negative",
                              quality=1.5, reviewed_at=timezone.now())
    ReviewItem.objects.create(conversation_id=labelled[2], status="pending", intent="complaint")
    train, heldout = training.training_data(task="intent")
    both = dict(zip(train.texts + heldout.texts, train.labels + heldout.labels))
    assert len(train.texts) + len(heldout.texts) == 120
    target = train if not training.is_heldout(conv.external_id) else heldout
    assert target.labels[target.texts.index(conv.customer_text)] == "complaint" or both
    assert train.n_reviewed + heldout.n_reviewed == 1
    q_train, q_heldout = training.training_data(task="quality")
    assert 1.5 in q_train.labels + q_heldout.labels


def test_first_training_promotes_and_records_steps(labelled):
    results = train_and_promote(tasks=["intent", "quality"])
    assert results["intent"]["decision"] == "promoted" and results["quality"]["decision"] == "promoted"
    mv = ModelVersion.objects.get(task="intent", status="production")
    assert mv.metrics["macro_f1"] > 0.9 and mv.comparison["heldout"]["n"] > 0
    assert "mae" in ModelVersion.objects.get(task="quality").metrics
    job = Job.objects.get(kind="retrain")
    assert job.status == "succeeded" and [s["step"] for s in job.steps][:4] == [
        "dataset", "trained", "registered", "promoted"]


def test_equal_candidate_is_rejected_with_reason(labelled, settings):
    train_and_promote(tasks=["intent"])
    from apps.jobs import services as job_services

    job, _ = job_services.job_create(kind="retrain", enqueue=False, params={
        "tasks": ["intent"], "hyperparams": QUICK_HYPERPARAMS, "shadow": True})
    result = training.retrain_run(job_id=job.pk)["intent"]
    assert result["decision"] == "rejected" and "needs +" in result["reason"]
    rejected = ModelVersion.objects.get(task="intent", version=2)
    assert rejected.status == "rejected" and rejected.comparison["shadow"]["agreement"] > 0.9
    assert ModelVersion.objects.get(task="intent", status="production").version == 1


def test_is_better_uses_margin_and_direction():
    assert training.is_better(task="intent", candidate={"macro_f1": 0.9}, production={"macro_f1": 0.8},
                              margin=0.01)[0]
    assert not training.is_better(task="intent", candidate={"macro_f1": 0.805}, production={"macro_f1": 0.8},
                                  margin=0.01)[0]
    assert training.is_better(task="quality", candidate={"mae": 0.5}, production={"mae": 0.6}, margin=0.05)[0]
    assert not training.is_better(task="quality", candidate={"mae": 0.7}, production={"mae": 0.6}, margin=0.05)[0]


def test_retrain_if_due_counts_new_reviews(labelled, settings):
    from apps.scoring.services.assessment import retrain_if_due

    settings.RETRAIN_MIN_NEW_LABELS = 2
    assert retrain_if_due() is None
    for pk in labelled[:2]:
        ReviewItem.objects.create(conversation_id=pk, status="reviewed", intent="transfer",
                                  reviewed_at=timezone.now())
    job = retrain_if_due()
    assert job is not None and job.kind == "retrain"
    assert retrain_if_due() is None  # counted from the new job on


def test_unloadable_production_is_replaced(labelled):
    import shutil

    train_and_promote(tasks=["intent"])
    from apps.registry import loader

    loader.reset()
    shutil.rmtree(ModelVersion.objects.get(task="intent").artifact_path)
    from apps.jobs import services as job_services

    job, _ = job_services.job_create(kind="retrain", enqueue=False, params={"tasks": ["intent"]})
    result = training.retrain_run(job_id=job.pk)["intent"]
    assert result["decision"] == "promoted" and "refused" in result["reason"]
    assert "production refused" in [s["step"] for s in Job.objects.get(pk=job.pk).steps]
