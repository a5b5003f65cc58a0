"""Customer-service text models: intent, sentiment and conversation quality.

Pure Python (never imports Django). Use :func:`build` to create an estimator and
:func:`load` to read a saved one::

    import ml
    model = ml.build("intent", "linear").fit(texts, labels)
    model.save("var/models/intent")
    model = ml.load("var/models/intent")
"""

import importlib
from pathlib import Path

from ml.artifacts import FORMAT_VERSION, ArtifactError, read_manifest
from ml.base import CLASSIFICATION_TASKS, REGRESSION_TASKS, TASKS

__all__ = ["ArtifactError", "BACKENDS", "FORMAT_VERSION", "TASKS", "build", "load", "read_manifest"]

# backend name -> (module, class name)
_REGISTRY = {
    "linear": ("ml.linear", "LinearClassifier"),
    "embedding": ("ml.embedding", "EmbeddingClassifier"),
    "transformer": ("ml.transformer", "TransformerClassifier"),
    "ensemble": ("ml.ensemble", "EnsembleClassifier"),
    "quality": ("ml.quality", "QualityRegressor"),
}
BACKENDS = tuple(_REGISTRY)
CLASSIFICATION_BACKENDS = ("linear", "embedding", "transformer", "ensemble")


def backend_class(backend):
    """Return the estimator class registered under ``backend``."""
    if backend not in _REGISTRY:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    module, name = _REGISTRY[backend]
    return getattr(importlib.import_module(module), name)


def build(task, backend, **params):
    """Create an unfitted estimator.

    Parameters
    ----------
    task : {"intent", "sentiment", "quality"}
    backend : {"linear", "embedding", "transformer", "ensemble", "quality"}
        ``"quality"`` is the only backend of the quality task.
    **params
        Hyperparameters of the backend.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if task in REGRESSION_TASKS:
        if backend != "quality":
            raise ValueError(f"task {task!r} supports backend 'quality', not {backend!r}")
        return backend_class("quality")(**params)
    if backend not in CLASSIFICATION_BACKENDS:
        raise ValueError(f"task {task!r} supports backends {', '.join(CLASSIFICATION_BACKENDS)}, not {backend!r}")
    return backend_class(backend)(task=task, **params)


def load(path):
    """Load a saved estimator after verifying its format version and every file's sha256.

    Raises
    ------
    ArtifactError
        Missing directory or manifest, another format version, a missing, modified or
        unlisted file, an unknown backend or task, or an untrusted type in a skops file.
    """
    manifest = read_manifest(path, known_backends=BACKENDS)
    if manifest["task"] not in TASKS:
        raise ArtifactError(f"{path}: unknown task {manifest['task']!r}")
    return backend_class(manifest["backend"])._load_files(Path(path), manifest)
