"""The estimator interface shared by every backend.

Every model follows scikit-learn's habits (``__init__`` only stores hyperparameters,
``fit`` returns ``self``, fitted attributes end in ``_``, unfitted use raises
``NotFittedError``) and Hugging Face's save/load habits (``save(dir)`` writes a
self-describing directory, ``load(dir)`` reads it back).
"""

import json

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from ml import artifacts

CLASSIFICATION_TASKS = ("intent", "sentiment")
REGRESSION_TASKS = ("quality",)
TASKS = CLASSIFICATION_TASKS + REGRESSION_TASKS

CONFIG = "config.json"


def as_texts(texts):
    """Validate and return ``texts`` as a list of str."""
    if isinstance(texts, str):
        raise ValueError("texts must be a sequence of strings, not a single string")
    out = []
    for text in texts:
        if text is None or (isinstance(text, float) and np.isnan(text)):
            out.append("")
        else:
            out.append(str(text))
    return out


class TextModel(BaseEstimator):
    """Common behaviour of every model: fitted checks, metrics and artifacts.

    Subclasses define ``backend``, ``_save_files(directory)`` and
    ``_from_files(directory, manifest, **options)`` (a classmethod).
    """

    backend = None

    def _check_fitted(self):
        if not getattr(self, "fitted_", False):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call 'fit' first."
            )

    def _start_fit(self, texts, y):
        texts = as_texts(texts)
        if len(texts) == 0:
            raise ValueError("cannot fit on an empty training set")
        if len(texts) != len(y):
            raise ValueError(f"texts and y differ in length: {len(texts)} != {len(y)}")
        self.fingerprint_ = artifacts.data_fingerprint(texts, list(y))
        self.n_train_ = len(texts)
        if not hasattr(self, "metrics_"):
            self.metrics_ = {}
        return texts

    def _manifest(self):
        return {
            "task": self.task,
            "backend": self.backend,
            "classes": self._classes_list(),
            "params": _jsonable(self.get_params()),
            "metrics": _jsonable(getattr(self, "metrics_", {})),
            "training_data": {"sha256": self.fingerprint_, "n": self.n_train_},
        }

    def _classes_list(self):
        classes = getattr(self, "classes_", None)
        return None if classes is None else [_jsonable(c) for c in classes]

    def save(self, path, extra_files=None):
        """Write the fitted model to the artifact directory ``path`` (atomically).

        Parameters
        ----------
        path : str or Path
        extra_files : dict, optional
            ``{relative name under "reports/": bytes}``: reports (e.g. a confusion matrix
            PNG) stored and hashed with the model; never read by ``load``.

        Returns
        -------
        pathlib.Path
        """
        self._check_fitted()

        def write(directory):
            self._save_files(directory)
            for name, data in (extra_files or {}).items():
                target = directory / "reports" / name
                if ".." in target.relative_to(directory).parts:
                    raise ValueError(f"bad report file name: {name}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)

        return artifacts.write_artifact(path, write, self._manifest())

    @classmethod
    def _from_params(cls, manifest, older=None, **options):
        """An unfitted estimator with the saved parameters.

        ``older``: values of parameters that artifacts saved before them lack; ``options``: load
        options that replace saved parameters (those given as None are left as saved).
        """
        given = {key: value for key, value in options.items() if value is not None}
        return cls(**{**(older or {}), **manifest["params"], **given})

    def _restore_common(self, manifest):
        self.fingerprint_ = manifest["training_data"]["sha256"]
        self.n_train_ = manifest["training_data"]["n"]
        self.metrics_ = dict(manifest.get("metrics") or {})
        if manifest.get("classes") is not None:
            self.classes_ = np.asarray(manifest["classes"])
        self.fitted_ = True

    @classmethod
    def load(cls, path, **options):
        """Load a model saved by :meth:`save` (hashes verified first).

        Parameters
        ----------
        path : str or Path
        **options
            Load-time options of the backend (e.g. ``quantize=True``).
        """
        from ml import load

        model = load(path, **options)
        if not isinstance(model, cls):
            raise artifacts.ArtifactError(
                f"{path} holds a {type(model).__name__}, not a {cls.__name__}"
            )
        return model


class TextClassifier(TextModel):
    """Base class of the classification backends.

    Subclasses implement ``_fit(texts, y_index)`` and ``_predict_proba(texts)``.
    """

    def fit(self, texts, y, features=None):
        """Fit the classifier.

        Parameters
        ----------
        texts : sequence of str
        y : sequence of labels
        features : ignored
            Accepted for interface compatibility with the quality model.

        Returns
        -------
        self
        """
        if self.task not in CLASSIFICATION_TASKS:
            raise ValueError(f"task must be one of {CLASSIFICATION_TASKS}, not {self.task!r}")
        y = np.asarray(list(y))
        texts = self._start_fit(texts, y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("need at least two classes to fit a classifier")
        self._fit(texts, y_index)
        self.fitted_ = True
        return self

    def predict_proba(self, texts):
        """Class probabilities, columns in ``classes_`` order.

        Parameters
        ----------
        texts : sequence of str

        Returns
        -------
        ndarray of shape (n_texts, n_classes)
        """
        self._check_fitted()
        texts = as_texts(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self._predict_proba(texts)

    def fit_oof(self, texts, y, cv=5, random_state=0):
        """Fit on all of ``texts`` and return out-of-fold probabilities of the training texts.

        Row ``i`` comes from a model that never saw text ``i`` (stratified ``cv``-fold
        cross-validation inside the given training data); rows a backend cannot provide
        are NaN. Ensembles fit their member weights on these rows, so nothing outside
        the training data is used.

        Parameters
        ----------
        texts : sequence of str
        y : sequence of labels
        cv : int
            Number of folds.
        random_state : int

        Returns
        -------
        ndarray of shape (n_texts, n_classes), columns in ``classes_`` order
        """
        texts = as_texts(texts)
        y = np.asarray(list(y))
        self.fit(texts, y)
        y_index = np.searchsorted(self.classes_, y)
        return self._oof_proba(texts, y_index, cv_folds(y_index, cv, random_state))

    def _oof_proba(self, texts, y, folds):
        """Out-of-fold probabilities by refitting a clone on each fold (overridable)."""
        from sklearn.base import clone

        oof = np.full((len(texts), len(self.classes_)), np.nan)
        for train, test in folds:
            model = clone(self).fit([texts[i] for i in train], self.classes_[y[train]])
            oof[test] = expand_proba(model, self.classes_, model.predict_proba([texts[i] for i in test]))
        return oof

    def predict(self, texts):
        """Most probable class of each text."""
        proba = self.predict_proba(texts)
        return self.classes_[np.argmax(proba, axis=1)] if len(proba) else self.classes_[:0]


def cv_folds(y_index, cv=5, random_state=0):
    """Stratified ``(train, test)`` index pairs; empty when a class has fewer than 2 texts."""
    from sklearn.model_selection import StratifiedKFold

    n_splits = int(min(cv, np.bincount(y_index).min()))
    if n_splits < 2:
        return []
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return list(folds.split(np.zeros(len(y_index)), y_index))


def expand_proba(model, classes, proba):
    """Place ``proba`` (columns ``model.classes_``) into columns of ``classes`` (zeros elsewhere)."""
    out = np.zeros((len(proba), len(classes)))
    out[:, np.searchsorted(classes, model.classes_)] = proba
    return out


def write_json(path, data):
    """Write ``data`` as indented JSON."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(_jsonable(data), handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")


def read_json(path):
    """Read a JSON file."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
