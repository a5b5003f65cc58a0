import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone

import ml
from apps.core.exceptions import ApplicationError, Conflict
from apps.core.models import AuditEvent
from apps.registry import loader, services
from apps.registry.models import ModelVersion, Promotion

pytestmark = pytest.mark.django_db


def _estimator(task="intent", texts=None):
    texts = texts or ["balance please", "transfer money", "balance now", "transfer to friend"]
    return ml.build(task, "linear").fit(texts, ["balance", "transfer", "balance", "transfer"])


def test_register_copies_artifact_atomically_and_numbers_versions(model_store, tmp_path):
    src = tmp_path / "src"
    _estimator().save(src)
    v1 = services.model_version_register(task="intent", backend="linear", estimator_dir=src, training_data={"n": 4},
                                         metrics={"macro_f1": 1.0})
    v2 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    assert (v1.version, v2.version) == (1, 2)
    assert v1.artifact_path == str(model_store / "intent" / "v1")
    assert (model_store / "intent" / "v2" / "manifest.json").is_file()
    assert len(v1.sha256) == 64 and v1.status == ModelVersion.Status.CANDIDATE
    # No temporary directories left behind.
    assert sorted(p.name for p in (model_store / "intent").iterdir()) == ["v1", "v2"]
    assert AuditEvent.objects.filter(action="model.register").count() == 2


def test_register_skips_orphan_directory(model_store):
    (model_store / "intent" / "v1").mkdir(parents=True)
    mv = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    assert mv.version == 2


def test_register_refuses_tampered_artifact(model_store, tmp_path):
    src = tmp_path / "src"
    _estimator().save(src)
    (src / "config.json").write_text('{"tampered": true}')
    with pytest.raises(services.ArtifactRefused):
        services.model_version_register(task="intent", backend="linear", estimator_dir=src)
    assert not ModelVersion.objects.exists()
    assert not [p for p in (model_store / "intent").iterdir() if not p.name.startswith(".")]


def test_promote_retires_previous_and_records_history(model_store, staff_user):
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    v2 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1, user=staff_user, reason="first")
    services.model_version_promote(version=v2, user=staff_user, reason="better")
    v1.refresh_from_db(), v2.refresh_from_db()
    assert v1.status == "retired" and v2.status == "production" and v2.promoted_by == staff_user
    history = list(Promotion.objects.order_by("at").values_list("model_version__version", "previous__version"))
    assert history == [(1, None), (2, 1)]
    assert AuditEvent.objects.filter(action="model.promote").count() == 2
    with pytest.raises(Conflict):
        services.model_version_promote(version=v2)


def test_database_allows_one_production_per_task(model_store):
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    v2 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1)
    v2.status = ModelVersion.Status.PRODUCTION
    with pytest.raises(IntegrityError):
        v2.save()


def test_rollback_walks_back_the_promotion_history(model_store):
    versions = [services.model_version_register(task="intent", backend="linear", estimator=_estimator())
                for _ in range(3)]
    for mv in versions:
        services.model_version_promote(version=mv)
    assert services.model_version_rollback(task="intent").version == 2
    assert services.model_version_rollback(task="intent").version == 1
    with pytest.raises(Conflict):
        services.model_version_rollback(task="intent")
    assert Promotion.objects.filter(action="rollback").count() == 2
    with pytest.raises(Conflict):
        services.model_version_rollback(task="sentiment")


def test_production_at_answers_from_history(model_store):
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    v2 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1)
    Promotion.objects.filter(model_version=v1).update(at=timezone.now() - dt.timedelta(days=2))
    services.model_version_promote(version=v2)
    Promotion.objects.filter(model_version=v2).update(at=timezone.now() - dt.timedelta(days=1))
    now = timezone.now()
    assert services.production_at(task="intent", at=now - dt.timedelta(days=3)) is None
    assert services.production_at(task="intent", at=now - dt.timedelta(hours=36)) == v1
    assert services.production_at(task="intent", at=now) == v2


def test_register_unknown_task_is_refused(model_store):
    with pytest.raises(ApplicationError):
        services.model_version_register(task="nope", backend="linear", estimator=_estimator())


def test_promotion_compares_with_the_production_version_at_the_moment_of_promotion(model_store):
    """Two retrains at once: the one that compared with v1 may not replace v2 promoted in between."""
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1)
    v2 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    v3 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v2, expected_production=v1.pk)
    with pytest.raises(services.ProductionChanged):
        services.model_version_promote(version=v3, expected_production=v1.pk)
    assert ModelVersion.objects.get(task="intent", status="production").pk == v2.pk
    assert Promotion.objects.filter(model_version=v3).count() == 0
    services.model_version_promote(version=v3, expected_production=v2.pk)
    assert ModelVersion.objects.get(task="intent", status="production").pk == v3.pk


def test_a_first_promotion_expects_no_production_version(model_store):
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    v2 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1, expected_production=None)
    with pytest.raises(services.ProductionChanged):
        services.model_version_promote(version=v2, expected_production=None)


def test_models_api_and_production_at(api_client, model_store):
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1)
    listing = api_client.get("/api/v1/models/?task=intent").json()
    assert listing["results"][0]["version"] == 1
    answer = api_client.get("/api/v1/models/production").json()
    assert answer["versions"]["intent"]["version"] == 1 and answer["versions"]["quality"] is None
    past = api_client.get("/api/v1/models/production?at=2000-01-01T00:00:00Z").json()
    assert past["versions"]["intent"] is None
    assert api_client.get("/api/v1/models/production?at=yesterday").status_code == 400


def test_models_list_filters_are_validated(api_client, model_store):
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    assert [m["id"] for m in api_client.get("/api/v1/models/?status=candidate").json()["results"]] == [v1.pk]
    assert api_client.get("/api/v1/models/?status=production").json()["results"] == []
    for query in ("task=bogus", "status=retired%00x", "task=i%00n"):  # a NUL byte once reached PostgreSQL: 500
        response = api_client.get(f"/api/v1/models/?{query}")
        assert response.status_code == 400, query
        assert set(response.json()["extra"]["fields"]) & {"task", "status"}, response.json()


def test_admin_promote_needs_confirmation_and_answers_production_at(admin_user_client, model_store):
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    url = "/admin/registry/modelversion/"
    data = {"action": "promote_selected", "_selected_action": [v1.pk]}
    response = admin_user_client.post(url, data)
    assert response.status_code == 200 and b"Yes, I am sure" in response.content or b"confirm" in response.content
    v1.refresh_from_db()
    assert v1.status == "candidate"
    admin_user_client.post(url, {**data, "confirm": "yes", "reason": "go"})
    v1.refresh_from_db()
    assert v1.status == "production"
    page = admin_user_client.get(url + "?production_at=" + timezone.now().isoformat().replace("+", "%2B"))
    assert page.status_code == 200 and b"intent: 1" in page.content
    assert admin_user_client.get("/admin/registry/promotion/").status_code == 200
