"""The per-process model cache: production versions, pinned versions, verification."""
import pytest

from apps.registry import loader, services
from tests.core.test_cache import dead_cache  # noqa: F401
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


def test_promotion_and_rollback_reach_every_process_before_the_periodic_check(
        model_store, settings, django_capture_on_commit_callbacks):
    """The production set is dropped through the generation in Django's cache, not by the timer."""
    from apps.core.cache import TTLCache

    settings.REGISTRY_CHECK_SECONDS = 600
    clock = {"now": 0.0}
    other_process = TTLCache(ttl=600, maxsize=1, shared_key=loader.PRODUCTION_SHARED_KEY,
                             sync_seconds=loader.GENERATION_CHECK_SECONDS, timer=lambda: clock["now"])
    with django_capture_on_commit_callbacks(execute=True):
        v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
        services.model_version_promote(version=v1)
    assert loader.production_models().version_key == "intent:1"
    other_process.get_or_set("production", lambda: "v1 set")

    with django_capture_on_commit_callbacks(execute=True):
        v2 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
        services.model_version_promote(version=v2)
    assert loader.production_models().version_key == "intent:2"
    clock["now"] += loader.GENERATION_CHECK_SECONDS
    assert other_process.get("production") is None

    other_process.get_or_set("production", lambda: "v2 set")
    with django_capture_on_commit_callbacks(execute=True):
        services.model_version_rollback(task="intent")
    assert loader.production_models().version_key == "intent:1"
    clock["now"] += loader.GENERATION_CHECK_SECONDS
    assert other_process.get("production") is None


def test_without_a_promotion_the_production_set_is_kept_until_the_periodic_check(model_store, settings):
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1)
    settings.REGISTRY_CHECK_SECONDS = 600
    assert loader.production_models().version_key == "intent:1"
    v2 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    type(v2).objects.filter(pk=v1.pk).update(status=type(v1).Status.RETIRED)
    type(v2).objects.filter(pk=v2.pk).update(status=type(v2).Status.PRODUCTION)  # behind the registry's back
    assert loader.production_models().version_key == "intent:1"
    loader.bump_generation()
    assert loader.production_models().version_key == "intent:2"


def test_production_models_keep_answering_with_the_shared_cache_down(model_store, dead_cache):
    """Redis (Django's cache) unreachable: the loader caches per process and promotions still apply here."""
    v1 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v1)
    loader.reset()
    assert loader.production_models().version_key == "intent:1"
    assert list(loader.production_models().get("intent").estimator.predict(["balance please"])) == ["balance"]
    v2 = services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    services.model_version_promote(version=v2)
    loader.bump_generation()  # what the promotion's on_commit runs
    assert loader.production_models().version_key == "intent:2"
