from tests.scoring.fixtures import labelled, model_store, production, trained_artifacts  # noqa: F401
