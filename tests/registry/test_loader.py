"""The per-process model cache: production versions, pinned versions, verification."""
import pytest

from apps.registry import loader, services
from tests.registry.test_services import _estimator

pytestmark = pytest.mark.django_db


def test_loader_caches_and_reloads_on_promotion(model_store, django_assert_num_queries):
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1)
    first = loader.production_models()
    assert first.version_key == "intent:1"
    v2 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v2)
    assert loader.production_models().version_key == "intent:2"


def test_loader_check_is_throttled(model_store, settings, django_assert_num_queries):
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1)
    settings.REGISTRY_CHECK_SECONDS = 60
    loader.production_models()
    with django_assert_num_queries(0):
        for _ in range(50):
            loader.production_models()


def test_loader_refuses_corrupted_artifact(model_store):
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1)
    loader.reset()
    with open(f"{v1.artifact_path}/pipeline.skops", "ab") as handle:
        handle.write(b"corrupt")
    with pytest.raises(loader.ModelsUnavailable, match="sha256"):
        loader.production_models()


def test_no_production_is_unavailable(model_store):
    with pytest.raises(loader.ModelsUnavailable, match="No model is in production"):
        loader.production_models()
    assert not loader.production_models(required=False)


def test_a_pinned_version_set_keeps_serving_after_a_promotion(model_store):
    """A batch job scores with the versions it started with, whatever is promoted meanwhile."""
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1)
    pinned = loader.production_models().version_ids
    v2 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v2)
    assert loader.production_models().version_key == "intent:2"
    again = loader.models_for(pinned)  # reloaded from its verified artifact
    assert again.version_key == "intent:1"
    assert list(again.get("intent").estimator.predict(["balance please"])) == ["balance"]


def test_an_unknown_version_is_unavailable(model_store):
    with pytest.raises(loader.ModelsUnavailable, match="do not exist"):
        loader.models_for({"intent": 999999})
