"""``quality`` backend: a 1-5 conversation quality score by gradient-boosted regression.

A scikit-learn ``Pipeline``: a ``ColumnTransformer`` picks the numeric conversation
features of :data:`ml.features.NUMERIC_FEATURES` (missing values are NaN, which the trees
handle; a feature missing from every training row is left out), one-hot encodes ``channel``
and turns the text into one number, the out-of-fold prediction of a ridge regression on
TF-IDF (:class:`OutOfFoldText`); a ``HistGradientBoostingRegressor`` (library defaults) maps
these to the score, clipped to [1, 5]. Predictions go through the pipeline's compiled form
(:mod:`ml.inference`: the same numbers without scikit-learn's per-call overhead). Only those
columns are read: who the agent or the customer is (``agent_id``, ``customer_id`` or any
other column) never reaches the model.
"""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.validation import check_is_fitted

from ml import artifacts
from ml.base import TextModel, as_texts
from ml.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES, features_frame
from ml.inference import CompiledQuality, NotCompilable
from ml.language import detect_language
from ml.linear import TRUSTED_TYPES as LINEAR_TYPES
from ml.linear import tfidf_features

MODEL_FILE = "pipeline.skops"
TEXT_COLUMN = "__text__"
SCORE_MIN, SCORE_MAX = 1.0, 5.0
TRUSTED_TYPES = LINEAR_TYPES + (
    "ml.quality.OutOfFoldText",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.model_selection._split.KFold",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.utils._bunch.Bunch",
    "numpy.bool_",
    "numpy.float32",
    "numpy.uint8",
    "builtins.slice",
)


class OutOfFoldText(TransformerMixin, BaseEstimator):
    """A text column turned into one regression feature: ridge on TF-IDF.

    ``fit_transform`` returns out-of-fold predictions (each training row is predicted by a
    model fitted without it, ``cross_val_predict``), so that the model stacked on top never
    sees a text feature computed from the row's own label; ``transform`` uses the model
    fitted on every training row.

    Parameters
    ----------
    language : {"en", "zh"}
    cv : int
        Folds of the out-of-fold predictions.
    random_state : int or None
    """

    def __init__(self, language="en", cv=5, random_state=None):
        self.language = language
        self.cv = cv
        self.random_state = random_state

    def _model(self):
        return Pipeline([("tfidf", tfidf_features(self.language)), ("ridge", Ridge())])

    def fit(self, X, y):
        """Fit the ridge model on every row of the text column ``X``."""
        self.model_ = self._model().fit(_column(X), y)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit on every row and return each row's out-of-fold prediction (shape (n, 1))."""
        texts = _column(X)
        folds = KFold(int(min(self.cv, len(texts))), shuffle=True, random_state=self.random_state)
        oof = cross_val_predict(self._model(), texts, y, cv=folds)
        self.fit(texts, y)
        return oof.reshape(-1, 1)

    def transform(self, X):
        """The fitted model's prediction for each text (shape (n, 1))."""
        check_is_fitted(self)
        return self.model_.predict(_column(X)).reshape(-1, 1)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(["text_score"], dtype=object)


def _column(X):
    """A one-column frame or array (or a list) of texts as a list of str."""
    values = X.iloc[:, 0] if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2 else X
    values = np.asarray(values, dtype=object).ravel()
    return ["" if v is None else str(v) for v in values]


def model_frame(texts, features):
    """The input frame of the pipeline: the known feature columns and the text, nothing else."""
    import pandas as pd

    frame = features_frame(features, len(texts))
    data = {name: pd.to_numeric(frame[name], errors="coerce") if name in frame else np.nan
            for name in NUMERIC_FEATURES}
    for name in CATEGORICAL_FEATURES:
        data[name] = frame[name].fillna("unknown").astype(str) if name in frame else "unknown"
    data[TEXT_COLUMN] = list(texts)
    return pd.DataFrame(data, index=range(len(texts)))


def _compiled(pipeline):
    """The pipeline's compiled prediction path (:mod:`ml.inference`), None for a shape it lacks."""
    try:
        return CompiledQuality(pipeline, TEXT_COLUMN)
    except NotCompilable:
        return None


class QualityRegressor(RegressorMixin, TextModel):
    """Gradient-boosted regression of a 1-5 quality score from conversation features and text.

    Parameters
    ----------
    task : "quality"
    use_text : bool
        Add the out-of-fold text feature.
    random_state : int or None
    """

    backend = "quality"

    def __init__(self, task="quality", use_text=True, random_state=None):
        self.task = task
        self.use_text = use_text
        self.random_state = random_state

    def fit(self, texts, y, features=None):
        """Fit on texts, their 1-5 scores and their conversation features.

        Parameters
        ----------
        texts : sequence of str
        y : sequence of float
        features : list of dict or pandas.DataFrame, optional
            One row per text (see :func:`ml.features.conversation_features`); other
            columns are ignored.

        Returns
        -------
        self
        """
        if self.task != "quality":
            raise ValueError(f"QualityRegressor only does task 'quality', not {self.task!r}")
        y = np.asarray(list(y), dtype=float)
        texts = self._start_fit(texts, y)
        if not np.all(np.isfinite(y)):
            raise ValueError("quality targets must be finite numbers")
        self.language_ = detect_language(texts)
        frame = model_frame(texts, features)
        numeric = [name for name in NUMERIC_FEATURES if frame[name].notna().any()]  # all-NaN columns carry nothing
        columns = [
            ("numeric", "passthrough", numeric),
            ("channel", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(CATEGORICAL_FEATURES)),
        ]
        if self.use_text:
            columns.append(("text", OutOfFoldText(self.language_, random_state=self.random_state), [TEXT_COLUMN]))
        self.pipeline_ = Pipeline([
            ("features", ColumnTransformer(columns)),
            ("boosting", HistGradientBoostingRegressor(random_state=self.random_state)),
        ]).fit(frame, y)
        self.compiled_ = _compiled(self.pipeline_)
        self.metrics_ = {}
        return self

    def predict(self, texts, features=None):
        """Predicted quality score in [1, 5] of each conversation.

        Parameters
        ----------
        texts : sequence of str
        features : list of dict or pandas.DataFrame, optional
            Missing features count as unknown.

        Returns
        -------
        ndarray of float
        """
        check_is_fitted(self)
        texts = as_texts(texts)
        if not texts:
            return np.zeros(0)
        if features is not None and len(features) != len(texts):
            raise ValueError(f"features has {len(features)} rows, texts has {len(texts)}")
        if self.compiled_ is not None:
            scores = self.compiled_.predict(texts, features)
        else:
            scores = self.pipeline_.predict(model_frame(texts, features))
        return np.clip(scores, SCORE_MIN, SCORE_MAX)

    @property
    def feature_names_(self):
        """Names of the columns the boosted trees read."""
        return list(self.pipeline_.named_steps["features"].get_feature_names_out())

    def _save_files(self, directory):
        artifacts.skops_dump(self.pipeline_, directory / MODEL_FILE)

    def _manifest(self):
        return {**super()._manifest(), "language": self.language_}

    @classmethod
    def _load_files(cls, directory, manifest):
        model = cls._unfitted(manifest)
        model.language_ = manifest.get("language", "en")
        model.pipeline_ = artifacts.skops_load(directory / MODEL_FILE, TRUSTED_TYPES)
        model.compiled_ = _compiled(model.pipeline_)
        return model

