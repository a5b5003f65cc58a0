"""``embedding``: sentence-transformers embeddings of the packaged checkpoint into a logistic regression."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import ml
from ml.embedding import checkpoint_path, default_checkpoint


def test_packaged_checkpoint_is_found_through_its_package():
    assert (default_checkpoint() and checkpoint_path(None)) == default_checkpoint()
    with pytest.raises(ValueError, match="config.json"):
        checkpoint_path("/nonexistent/checkpoint")


@pytest.mark.slow
def test_embeddings_are_the_sentence_transformers_ones(banking_slice):
    from sentence_transformers import SentenceTransformer

    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "embedding", random_state=0).fit(train_x[:50], train_y[:50])
    assert isinstance(model.classifier_[-1], LogisticRegression)
    reference = SentenceTransformer(default_checkpoint(), local_files_only=True).encode(test_x[:5])
    np.testing.assert_allclose(model.embed(test_x[:5]), reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(reference, axis=1), 1.0, atol=1e-4)


def test_library_code_never_sets_environment_variables():
    from pathlib import Path

    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(ml.__file__).parent.glob("*.py"))
    assert "os.environ[" not in source and "os.environ.setdefault" not in source and "putenv" not in source
