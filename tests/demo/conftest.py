from tests.scoring.fixtures import model_store, trained_artifacts  # noqa: F401
