"""``quality`` backend: a 1-5 conversation quality score by gradient-boosted regression.

Inputs are conversation features (see :mod:`ml.features`), a one-hot channel, optional
target-encoded group keys (``agent_id``, ``customer_id``) and a stacked text feature (the
out-of-fold prediction of a ridge regression on TF-IDF of the text). Every aggregate is
computed inside ``fit`` from the training rows only; training rows get out-of-fold values
so that no row sees its own label.
"""

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import Pipeline

from ml import artifacts
from ml.base import CONFIG, TextModel, as_texts, read_json, write_json
from ml.features import GROUP_KEYS, features_frame
from ml.language import detect_language
from ml.linear import TRUSTED_TYPES as LINEAR_TYPES
from ml.linear import make_vectorizer
from ml.seed import resolve_seed
from ml.sparse_linear import compiled_for

TEXT_FILE = "text.skops"
GBM_FILE = "gbm.skops"
SCORE_MIN, SCORE_MAX = 1.0, 5.0
TRUSTED_TYPES = LINEAR_TYPES + (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)


def target_encode(keys, y, smoothing, global_mean):
    """Smoothed mean of ``y`` per key: ``(sum + m * global) / (count + m)``.

    Parameters
    ----------
    keys : sequence of str
    y : ndarray
    smoothing : float
    global_mean : float

    Returns
    -------
    dict
    """
    sums, counts = {}, {}
    for key, value in zip(keys, y):
        sums[key] = sums.get(key, 0.0) + float(value)
        counts[key] = counts.get(key, 0) + 1
    return {key: (sums[key] + smoothing * global_mean) / (counts[key] + smoothing) for key in sums}


def out_of_fold_encode(keys, y, folds, smoothing):
    """Target encoding of training rows where no row sees its own label.

    Each row gets the smoothed mean of its key over the other folds (the other folds'
    mean for a key unseen there).

    Parameters
    ----------
    keys : sequence of str
    y : ndarray
    folds : list of (train_index, test_index)
    smoothing : float

    Returns
    -------
    ndarray
    """
    column = np.full(len(keys), np.nan)
    for train, test in folds:
        fold_mean = float(y[train].mean())
        table = target_encode([keys[i] for i in train], y[train], smoothing, fold_mean)
        column[test] = [table.get(keys[i], fold_mean) for i in test]
    return column


def _key_strings(series):
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in series]


class QualityRegressor(TextModel):
    """Gradient-boosted regression of a 1-5 quality score, clipped to [1, 5].

    Parameters
    ----------
    task : "quality"
    numeric : sequence of str, optional
        Numeric feature columns; default every numeric column seen in ``fit`` except the
        group keys.
    group_keys : sequence of str
        Columns target-encoded from the training fold (e.g. agent or customer historical
        mean quality); unseen keys get the training mean.
    smoothing : float
        Pseudo-count pulling a group's mean towards the global mean.
    n_folds : int
        Folds for the out-of-fold text and group features of training rows.
    use_text : bool
    text_alpha : float
        Ridge regularisation of the text model.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf : boosting hyperparameters
    random_state : int or None
    """

    backend = "quality"

    def __init__(
        self,
        task="quality",
        numeric=None,
        group_keys=GROUP_KEYS,
        smoothing=10.0,
        n_folds=5,
        use_text=True,
        text_alpha=3.0,
        max_iter=100,
        learning_rate=0.1,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        random_state=None,
    ):
        self.task = task
        self.numeric = numeric
        self.group_keys = group_keys
        self.smoothing = smoothing
        self.n_folds = n_folds
        self.use_text = use_text
        self.text_alpha = text_alpha
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def fit(self, texts, y, features=None):
        """Fit on texts, 1-5 scores and conversation features.

        Parameters
        ----------
        texts : sequence of str
        y : sequence of float
        features : list of dict or pandas.DataFrame, optional
            One row per text (see :func:`ml.features.conversation_features`), plus
            optional group keys.

        Returns
        -------
        self
        """
        import pandas as pd

        if self.task != "quality":
            raise ValueError(f"QualityRegressor only does task 'quality', not {self.task!r}")
        y = np.asarray(list(y), dtype=float)
        texts = self._start_fit(texts, y)
        if not np.all(np.isfinite(y)):
            raise ValueError("quality targets must be finite numbers")
        frame = features_frame(features, len(texts))
        seed = resolve_seed(self.random_state)
        n_folds = int(max(2, min(self.n_folds, len(texts))))
        folds = list(KFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(texts))))

        skip = set(self.group_keys) | {"channel"}
        if self.numeric is None:
            self.numeric_ = [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]
        else:
            self.numeric_ = list(self.numeric)
        self.channels_ = sorted(set(_key_strings(frame["channel"]))) if "channel" in frame else []
        self.global_mean_ = float(y.mean())
        self.group_keys_ = [k for k in self.group_keys if k in frame]
        self.group_encodings_ = {}
        oof_groups = {}
        for key in self.group_keys_:
            values = _key_strings(frame[key])
            oof_groups[key] = out_of_fold_encode(values, y, folds, self.smoothing)
            self.group_encodings_[key] = target_encode(values, y, self.smoothing, self.global_mean_)

        text_column = None
        self.language_ = detect_language(texts)
        if self.use_text:
            self.text_model_ = Pipeline([
                ("tfidf", make_vectorizer(self.language_, min_df=2 if len(texts) > 200 else 1)),
                ("ridge", Ridge(alpha=self.text_alpha)),
            ])
            text_column = cross_val_predict(self.text_model_, texts, y, cv=folds)
            self.text_model_.fit(texts, y)
        X = self._matrix(frame, text_column, oof_groups)
        self.gbm_ = HistGradientBoostingRegressor(
            max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=min(self.min_samples_leaf, max(1, len(texts) // 10)), random_state=seed,
        ).fit(X, y)
        self.feature_names_ = self._names()
        self.fitted_ = True
        return self

    def _names(self):
        names = list(self.numeric_) + [f"channel={c}" for c in self.channels_]
        names += [f"{key}_mean" for key in self.group_keys_]
        return names + (["text_score"] if self.use_text else [])

    def _matrix(self, frame, text_column, group_columns, n=None):
        """Feature matrix; ``frame`` None means no conversation features (``n`` rows)."""
        import pandas as pd

        n = len(frame) if frame is not None else n
        has = (lambda name: False) if frame is None else (lambda name: name in frame)
        columns = []
        for name in self.numeric_:
            columns.append(pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float) if has(name)
                           else np.full(n, np.nan))
        channel = _key_strings(frame["channel"]) if has("channel") else [""] * n
        for value in self.channels_:
            columns.append(np.array([c == value for c in channel], dtype=float))
        for key in self.group_keys_:
            columns.append(np.asarray(group_columns[key], dtype=float))
        if self.use_text:
            columns.append(np.asarray(text_column, dtype=float))
        return np.column_stack(columns) if columns else np.zeros((n, 0))

    def group_features(self, features):
        """Target-encoded group columns for new rows (training-fold statistics only).

        Returns
        -------
        dict
            ``{key: ndarray}``; unseen keys get the training mean.
        """
        self._check_fitted()
        frame = features_frame(features)
        out = {}
        for key in self.group_keys_:
            table = self.group_encodings_[key]
            values = _key_strings(frame[key]) if key in frame else [""] * len(frame)
            out[key] = np.array([table.get(v, self.global_mean_) for v in values])
        return out

    def predict(self, texts, features=None):
        """Predicted quality score in [1, 5] for each conversation.

        Parameters
        ----------
        texts : sequence of str
        features : list of dict or pandas.DataFrame, optional

        Returns
        -------
        ndarray of float
        """
        self._check_fitted()
        texts = as_texts(texts)
        n = len(texts)
        # Without features (the real-time API) no DataFrame is built (pandas costs per call, not per row).
        frame = features_frame(features, n) if features is not None else None
        if not texts:
            return np.zeros(0)
        text_column = self._text_scores(texts) if self.use_text else None
        if frame is None:
            curve = self._text_only_curve() if self.use_text else None
            if curve is not None:
                thresholds, scores = curve
                return scores[np.searchsorted(thresholds, text_column, side="left")]
            groups = {key: np.full(n, self.global_mean_) for key in self.group_keys_}
        else:
            groups = self.group_features(frame)
        X = self._matrix(frame, text_column, groups, n)
        return np.clip(self.gbm_.predict(X), SCORE_MIN, SCORE_MAX)

    def _text_only_curve(self):
        """``(thresholds, scores)``: the prediction without features as a step function of the text score.

        Without conversation features (the real-time API) every column but the text score holds
        the same constant in every row, so the boosted trees compute a step function of the text
        score that only changes at their split thresholds on it. It is tabulated once (one tree
        evaluation per step) and read with a binary search: score ``i`` holds for
        ``thresholds[i-1] < x <= thresholds[i]``, as the trees send ``x <= threshold`` left.
        ``None`` when the trees cannot be read (then the caller evaluates them).
        """
        cache = getattr(self, "_curve_", None)
        if cache is not None and cache[0] is self.gbm_:
            return cache[1]
        curve = None
        try:
            column = self.feature_names_.index("text_score")
            cuts = []
            for trees in self.gbm_._predictors:
                for tree in trees:
                    nodes = tree.nodes
                    if nodes["is_categorical"].any():
                        raise ValueError("categorical split")
                    split = (nodes["is_leaf"] == 0) & (nodes["feature_idx"] == column)
                    cuts.append(nodes["num_threshold"][split])
        except (AttributeError, KeyError, ValueError, TypeError):
            pass
        else:
            thresholds = np.unique(np.concatenate(cuts)) if cuts else np.zeros(0)
            points = np.append(thresholds, thresholds[-1] + 1.0 if len(thresholds) else 0.0)
            groups = {key: np.full(len(points), self.global_mean_) for key in self.group_keys_}
            X = self._matrix(None, points, groups, len(points))
            curve = (thresholds, np.clip(self.gbm_.predict(X), SCORE_MIN, SCORE_MAX))
        self._curve_ = (self.gbm_, curve)
        return curve

    def _text_scores(self, texts):
        compiled = compiled_for(self, self.text_model_)
        return compiled.predict(texts) if compiled else self.text_model_.predict(texts)

    def predict_proba(self, texts, features=None):
        """Not available: quality is a regression task."""
        raise AttributeError("the quality model is a regressor; use predict()")

    def _save_files(self, directory):
        if self.use_text:
            artifacts.skops_dump(self.text_model_, directory / TEXT_FILE)
        artifacts.skops_dump(self.gbm_, directory / GBM_FILE)
        write_json(directory / CONFIG, {
            "numeric": self.numeric_, "channels": self.channels_, "group_keys": self.group_keys_,
            "group_encodings": self.group_encodings_, "global_mean": self.global_mean_,
            "language": self.language_, "feature_names": self.feature_names_,
        })

    @classmethod
    def _from_files(cls, directory, manifest, **options):
        if options:
            raise TypeError(f"unknown load option(s) for quality: {', '.join(options)}")
        model = cls(**manifest["params"])
        config = read_json(directory / CONFIG)
        model.numeric_ = config["numeric"]
        model.channels_ = config["channels"]
        model.group_keys_ = config["group_keys"]
        model.group_encodings_ = config["group_encodings"]
        model.global_mean_ = config["global_mean"]
        model.language_ = config["language"]
        model.feature_names_ = config["feature_names"]
        if model.use_text:
            model.text_model_ = artifacts.skops_load(directory / TEXT_FILE, TRUSTED_TYPES)
        model.gbm_ = artifacts.skops_load(directory / GBM_FILE, TRUSTED_TYPES)
        model._restore_common(manifest)
        return model
