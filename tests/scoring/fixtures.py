"""Fixtures shared by the queue's tests (imported by name from each folder's conftest)."""
import pytest


@pytest.fixture
def model_store(settings, tmp_path):
    """A fresh model store and an empty per-process model cache for each test."""
    from apps.registry import loader

    settings.MODEL_STORE = tmp_path / "models"
    settings.REGISTRY_CHECK_SECONDS = 0
    loader.reset()
    yield settings.MODEL_STORE
    loader.reset()


@pytest.fixture
def labelled(db, model_store):
    """120 labelled conversations."""
    from tests.scoring.data import make_conversations

    return make_conversations(120)


@pytest.fixture(scope="session")
def trained_artifacts(tmp_path_factory):
    """Tiny models trained once per session (artifact directories)."""
    from tests.scoring.data import train_artifacts

    return train_artifacts(tmp_path_factory.mktemp("artifacts"))


@pytest.fixture
def production(labelled, trained_artifacts):
    """Tiny production models for intent, sentiment and quality (registered and promoted)."""
    from apps.registry import services

    versions = {}
    for task, path in trained_artifacts.items():
        backend = "quality" if task == "quality" else "linear"
        mv = services.model_version_register(task=task, backend=backend, estimator_dir=path)
        versions[task] = services.model_version_promote(version=mv)
    return versions
