"""Customer-service text models: intent, sentiment and conversation quality.

Pure Python (never imports Django). Use :func:`build` to create an estimator and
:func:`load` to read a saved one::

    import ml
    model = ml.build("intent", "linear").fit(texts, labels)
    model.save("var/models/intent")
    model = ml.load("var/models/intent")
"""

import importlib

from ml import evaluate, features
from ml.artifacts import ArtifactError, read_manifest
from ml.base import CLASSIFICATION_TASKS, REGRESSION_TASKS, TASKS
from ml.sparse_linear import shared_tokenization

__all__ = ["ArtifactError", "BACKENDS", "TASKS", "build", "evaluate", "features", "load", "shared_tokenization"]

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
# backends the quality (regression) task accepts; "linear" is an alias of "quality"
QUALITY_BACKENDS = ("quality", "linear")


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
        For ``task="quality"`` use ``"quality"`` or its alias ``"linear"``.
    **params
        Hyperparameters of the backend.

    Returns
    -------
    estimator
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if task in REGRESSION_TASKS:
        if backend not in QUALITY_BACKENDS:
            raise ValueError(f"task {task!r} supports backends {QUALITY_BACKENDS}, not {backend!r}")
        return backend_class("quality")(**params)
    if backend not in CLASSIFICATION_BACKENDS:
        raise ValueError(
            f"task {task!r} supports backends {', '.join(CLASSIFICATION_BACKENDS)}, not {backend!r}"
        )
    return backend_class(backend)(task=task, **params)


def load(path, **options):
    """Load a saved estimator after verifying every file's sha256.

    Parameters
    ----------
    path : str or Path
        Artifact directory written by ``estimator.save``.
    **options
        Load-time options of the backend (e.g. ``quantize=True`` for ``transformer``,
        ``inference_dtype="float32"`` for ``transformer`` and ``embedding``).

    Returns
    -------
    estimator

    Raises
    ------
    ArtifactError
        Missing directory or manifest, missing/modified/unlisted file, unknown backend or
        task, or an untrusted type inside a scikit-learn file.
    """
    from pathlib import Path

    manifest = read_manifest(path, known_backends=BACKENDS)
    if manifest["task"] not in TASKS:
        raise ArtifactError(f"{path}: unknown task {manifest['task']!r}")
    return backend_class(manifest["backend"])._from_files(Path(path), manifest, **options)
