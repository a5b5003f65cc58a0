"""The estimator interface shared by every backend.

Every model follows scikit-learn's habits (``__init__`` only stores hyperparameters,
``fit`` returns ``self``, fitted attributes end in ``_``, use before ``fit`` raises
``NotFittedError``, ``predict`` changes nothing on the object) and Hugging Face's
save/load habits (``save(dir)`` writes a self-describing directory, ``load(dir)`` reads it).

A backend subclass defines ``backend``, ``_fit(texts, y)`` (``y`` holds labels),
``_predict_proba(texts)``, ``_save_files(directory)`` and the classmethod
``_load_files(directory, manifest)`` returning a fitted instance.
"""

import json

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ml import artifacts

CLASSIFICATION_TASKS = ("intent", "sentiment")
REGRESSION_TASKS = ("quality",)
TASKS = CLASSIFICATION_TASKS + REGRESSION_TASKS


def as_texts(texts):
    """Return ``texts`` as a list of str (None and NaN become ``""``).

    Raises
    ------
    ValueError
        When ``texts`` is a single string rather than a sequence of them.
    """
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
    """Fitted checks, manifest and artifact I/O common to every model."""

    backend = None

    def _start_fit(self, texts, y):
        texts = as_texts(texts)
        if len(texts) == 0:
            raise ValueError("cannot fit on an empty training set")
        if len(texts) != len(y):
            raise ValueError(f"texts and y differ in length: {len(texts)} != {len(y)}")
        self.fingerprint_ = artifacts.data_fingerprint(texts, list(y))
        self.n_train_ = len(texts)
        return texts

    def _manifest(self):
        classes = getattr(self, "classes_", None)
        return {
            "task": self.task,
            "backend": self.backend,
            "classes": None if classes is None else jsonable(list(classes)),
            "params": jsonable(self.get_params(deep=False)),
            "metrics": jsonable(getattr(self, "metrics_", {})),
            "training_data": {"sha256": self.fingerprint_, "n": self.n_train_},
        }

    def save(self, path, extra_files=None):
        """Write the fitted model to the artifact directory ``path`` (atomic replace).

        Parameters
        ----------
        path : str or Path
        extra_files : dict, optional
            ``{name: bytes}`` reports stored under ``reports/`` and hashed with the model;
            never read by ``load``.

        Returns
        -------
        pathlib.Path
        """
        check_is_fitted(self)

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
    def _unfitted(cls, manifest):
        """An instance with the saved hyperparameters and the manifest's common fitted state."""
        model = cls(**manifest["params"])
        model.fingerprint_ = manifest["training_data"]["sha256"]
        model.n_train_ = manifest["training_data"]["n"]
        model.metrics_ = dict(manifest.get("metrics") or {})
        if manifest.get("classes") is not None:
            model.classes_ = np.asarray(manifest["classes"])
        return model

    @classmethod
    def load(cls, path):
        """Load a model saved by :meth:`save` (hashes and format version checked first)."""
        from ml import load

        model = load(path)
        if not isinstance(model, cls):
            raise artifacts.ArtifactError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model


class TextClassifier(ClassifierMixin, TextModel):
    """Base class of the classification backends."""

    def fit(self, texts, y, features=None):
        """Fit the classifier on texts and their labels.

        Parameters
        ----------
        texts : sequence of str
        y : sequence of labels (at least two distinct)
        features : ignored
            Accepted so that every model has the quality model's signature.

        Returns
        -------
        self
        """
        if self.task not in CLASSIFICATION_TASKS:
            raise ValueError(f"task must be one of {CLASSIFICATION_TASKS}, not {self.task!r}")
        y = np.asarray(list(y))
        texts = self._start_fit(texts, y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError("need at least two classes to fit a classifier")
        self._fit(texts, y)
        self.classes_ = classes
        self.metrics_ = {}
        return self

    def predict_proba(self, texts):
        """Class probabilities of each text, columns in ``classes_`` order.

        Returns
        -------
        ndarray of shape (n_texts, n_classes)
        """
        check_is_fitted(self)
        texts = as_texts(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self._predict_proba(texts)

    def predict(self, texts):
        """The most probable class of each text."""
        proba = self.predict_proba(texts)
        return self.classes_[np.argmax(proba, axis=1)] if len(proba) else self.classes_[:0]


def write_json(path, data):
    """Write ``data`` as indented JSON (NumPy values converted)."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(jsonable(data), handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")


def read_json(path):
    """Read a JSON file."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def jsonable(value):
    """``value`` with tuples, NumPy scalars and arrays turned into JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
