"""``ensemble``: averaged or stacked probabilities of named members."""

import numpy as np
import pytest

import ml
from tests.ml.test_contract import _params


@pytest.fixture(scope="module")
def members(banking_slice, tiny_checkpoint):
    return ["linear", "transformer"], {"transformer": _params("transformer", tiny_checkpoint)}


def test_mean_is_the_average_of_the_members(banking_slice, members):
    train_x, train_y, test_x, _ = banking_slice
    names, params = members
    model = ml.build("intent", "ensemble", members=names, member_params=params, random_state=0).fit(train_x, train_y)
    assert [m.backend for m in model.members_] == names and model.stacker_ is None
    expected = np.mean([m.predict_proba(test_x) for m in model.members_], axis=0)
    np.testing.assert_allclose(model.predict_proba(test_x), expected)


def test_stacking_learns_from_out_of_fold_probabilities_only(banking_slice):
    """Leakage: the stacker is fit on member probabilities of texts each member model never saw."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    train_x, train_y, test_x, test_y = banking_slice
    model = ml.build("intent", "ensemble", members=["linear"], combine="stack", random_state=0)
    model.fit(train_x, train_y)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    oof = cross_val_predict(ml.build("intent", "linear", random_state=0), train_x, np.asarray(train_y), cv=folds,
                            method="predict_proba")
    np.testing.assert_allclose(model.stacker_.coef_, LogisticRegression(max_iter=1000).fit(oof, train_y).coef_,
                               rtol=1e-3)
    in_sample = model.members_[0].predict_proba(train_x)
    assert not np.allclose(in_sample, oof, atol=1e-3)  # what a leaky stacker would have learnt from
    assert np.mean(model.predict(test_x) == np.asarray(test_y)) >= 0.8


def test_default_members_follow_the_language():
    from ml.ensemble import DEFAULT_MEMBERS

    assert DEFAULT_MEMBERS == {"en": ("linear", "embedding"), "zh": ("linear",)}


def test_chinese_auto_ensemble_is_linear_alone(waimai_slice):
    train_x, train_y, test_x, test_y = waimai_slice
    model = ml.build("sentiment", "ensemble", random_state=0).fit(train_x[:200], train_y[:200])
    assert [m.backend for m in model.members_] == ["linear"]
    np.testing.assert_allclose(model.predict_proba(test_x[:20]), model.members_[0].predict_proba(test_x[:20]))


def test_bad_members_and_combiner_are_refused(banking_slice):
    train_x, train_y, _, _ = banking_slice
    with pytest.raises(ValueError, match="combine"):
        ml.build("intent", "ensemble", combine="vote").fit(train_x, train_y)
    with pytest.raises(ValueError, match="members"):
        ml.build("intent", "ensemble", members=["ensemble"]).fit(train_x, train_y)
