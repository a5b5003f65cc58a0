"""``embedding`` backend: frozen sentence embeddings with a logistic-regression head, blended
with the labels of the most similar training texts (k nearest neighbours)."""

import shutil
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from ml import artifacts
from ml.base import CONFIG, TextClassifier, cv_folds, expand_proba, read_json, write_json
from ml.encoder import SentenceEncoder, checkpoint_digest, default_checkpoint, resolve_checkpoint
from ml.seed import resolve_seed, set_seed
from ml.stacking import NEIGHBOUR_FLOOR  # noqa: F401  (re-exported)
from ml.stacking import as_stored, blend, fit_blend, load_bank, neighbour_proba, save_bank

HEAD_FILE = "head.skops"
NEIGHBOURS_FILE = "neighbours.safetensors"
CHECKPOINT_DIR = "checkpoint"
C_GRID = (3.0, 10.0, 30.0, 100.0)
TRUSTED_TYPES = (
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model.LogisticRegression",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
)


class EmbeddingClassifier(TextClassifier):
    """Frozen mean-pooled sentence embeddings + logistic regression, blended with k nearest neighbours.

    Parameters
    ----------
    task : {"intent", "sentiment"}
    checkpoint : str, optional
        Local Hugging Face checkpoint directory; default the packaged all-MiniLM-L6-v2.
    C : float or "cv"
        Inverse regularisation of the head (embeddings are unit vectors, so it is large).
        ``"cv"`` picks it from ``C_GRID`` by stratified 3-fold cross-validation (log-loss)
        on the training embeddings only.
    batch_size : int
    max_length : int
    device : str, optional
    copy_checkpoint : bool
        Copy the checkpoint into the artifact instead of referencing it (path + sha256).
    quantize : bool
        Int8 dynamic quantization of the encoder, for training and prediction alike (the
        head learns the embeddings it will see): ~2x the float32 CPU throughput for 0.15 point
        of BANKING77 accuracy with per-channel scales (docs/benchmarks.md, round 13). Runs on
        the CPU.
    quantize_per_channel : bool
        Per-channel weight scales for ``quantize`` (embeddings nearer the float32 ones, as
        fast). Models saved before it existed were quantized per tensor and load so.
    inference_dtype : {"auto", "float32", "bfloat16"}
        The encoder runs under bfloat16 autocast where the device computes it natively
        (``"auto"``: CUDA, or a CPU with AVX512-BF16 / AMX), for training and prediction alike:
        2.3x the float32 throughput on 2 AVX512-BF16 cores, embeddings at cosine >= 0.9999 of
        the float32 ones. Also a load option. Models saved before it existed load as float32.
    neighbours : int
        Also vote with the labels of the ``neighbours`` training texts most similar to a text
        (cosine of the embeddings; 0: the head alone). The head's and the neighbours'
        probabilities are each calibrated with a temperature and averaged with weights fit on
        out-of-fold predictions of the training texts (:func:`ml.stacking.fit_blend`), then
        calibrated once more; a weight of 0 drops the neighbours. The artifact keeps the
        training embeddings (float16, 768 bytes a text for MiniLM). On BANKING77: +0.7 point
        in 5-fold cross-validation of all 10,003 texts, +0.8 on the validation split
        (docs/benchmarks.md, round 15).
    neighbour_temperature : float
        How fast a neighbour's vote falls with its similarity (see :func:`neighbour_proba`).
    neighbour_rows : int
        At most this many training texts (a fixed random sample) are kept as neighbours,
        bounding the artifact and the time of a prediction on large training sets.
    progress : bool
    random_state : int or None
    """

    backend = "embedding"

    def __init__(
        self,
        task="intent",
        checkpoint=None,
        C="cv",
        batch_size=64,
        max_length=128,
        device=None,
        copy_checkpoint=False,
        quantize=False,
        quantize_per_channel=True,
        inference_dtype="auto",
        neighbours=20,
        neighbour_temperature=0.02,
        neighbour_rows=50000,
        progress=False,
        max_iter=1000,
        random_state=None,
    ):
        self.task = task
        self.checkpoint = checkpoint
        self.C = C
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.copy_checkpoint = copy_checkpoint
        self.quantize = quantize
        self.quantize_per_channel = quantize_per_channel
        self.inference_dtype = inference_dtype
        self.neighbours = neighbours
        self.neighbour_temperature = neighbour_temperature
        self.neighbour_rows = neighbour_rows
        self.progress = progress
        self.max_iter = max_iter
        self.random_state = random_state

    def _encoder(self):
        if getattr(self, "encoder_", None) is None:
            self.encoder_ = SentenceEncoder(
                self.checkpoint_path_, self.device, self.max_length,
                expected_sha256=getattr(self, "checkpoint_sha256_", None), quantize=self.quantize,
                inference_dtype=self.inference_dtype, per_channel=self.quantize_per_channel,
            )
        return self.encoder_

    def embed(self, texts):
        """Sentence embeddings of ``texts`` (n_texts, dim)."""
        return self._encoder().encode(list(texts), self.batch_size, self.progress)

    def _head(self, C):
        return LogisticRegression(C=C, max_iter=self.max_iter, random_state=self._seed)

    def _fit(self, texts, y):
        self._seed = resolve_seed(self.random_state)
        set_seed(self._seed)
        self.checkpoint_path_ = resolve_checkpoint(self.checkpoint)
        self.checkpoint_sha256_ = checkpoint_digest(self.checkpoint_path_)
        self.encoder_ = None
        X = self.embed(texts)
        folds = cv_folds(y, 3, self._seed)
        oof = None
        if self.C == "cv":
            self.C_, oof = self._select_C(X, y, folds)
        else:
            self.C_ = float(self.C)
        self.head_ = self._head(self.C_).fit(X, y)
        self._fit_neighbours(X, y, folds, oof)
        self._train_X = X  # reused by _oof_proba right after fit; never saved

    def _head_oof(self, X, y, C, folds):
        """Out-of-fold head probabilities (rows of no fold stay NaN)."""
        oof = np.full((len(X), len(self.classes_)), np.nan)
        for train, test in folds:
            head = self._head(C).fit(X[train], y[train])
            oof[test] = expand_proba(head, np.arange(len(self.classes_)), head.predict_proba(X[test]))
        return oof

    def _select_C(self, X, y, folds):
        """(C from ``C_GRID`` by stratified 3-fold CV log-loss on the training embeddings only,
        its out-of-fold probabilities)."""
        if not folds:
            return 30.0, None
        best = (np.inf, None, None)
        for C in C_GRID:
            oof = self._head_oof(X, y, C, folds)
            loss = -np.log(np.clip(oof[np.arange(len(y)), y], 1e-12, None)).sum()
            if loss < best[0]:
                best = (loss, C, oof)
        return float(best[1]), best[2]

    def _sample(self, n):
        """Indices of the training texts kept as neighbours (all, or a fixed random sample)."""
        if n <= self.neighbour_rows:
            return np.arange(n)
        return np.sort(np.random.RandomState(0).choice(n, int(self.neighbour_rows), replace=False))

    def _neighbours_of(self, X, y, keep, train, test):
        """Neighbour probabilities of rows ``test`` from the kept rows among ``train``."""
        bank = np.intersect1d(train, keep, assume_unique=True)
        return neighbour_proba(X[bank], y[bank], X[test], len(self.classes_), self.neighbours,
                               self.neighbour_temperature)

    def _fit_neighbours(self, X, y, folds, oof_head):
        """Weights of the head and the neighbours, from out-of-fold predictions of the training texts."""
        self.blend_ = None
        self.bank_, self.bank_labels_ = None, None
        if not self.neighbours or not folds:
            return
        if oof_head is None:
            oof_head = self._head_oof(X, y, self.C_, folds)
        keep = self._sample(len(X))
        oof_near = np.empty_like(oof_head)
        for train, test in folds:  # stratified folds: every row is held out once
            oof_near[test] = self._neighbours_of(X, y, keep, train, test)
        self.blend_ = fit_blend(oof_head, oof_near, y)
        if self.blend_ is None:  # the neighbours add nothing here
            return
        self.bank_ = as_stored(X[keep])
        self.bank_labels_ = np.ascontiguousarray(y[keep], dtype=np.int64)

    def _oof_proba(self, texts, y, folds):
        """Out-of-fold head probabilities (blended with the neighbours, as the model's are); the
        frozen embeddings are computed once."""
        X = getattr(self, "_train_X", None)
        if X is None or len(X) != len(texts):
            X = self.embed(texts)
        index = np.arange(len(self.classes_))
        oof = np.full((len(texts), len(self.classes_)), np.nan)
        keep = self._sample(len(X))
        for train, test in folds:
            head = self._head(self.C_).fit(X[train], y[train])
            oof[test] = expand_proba(head, index, head.predict_proba(X[test]))
            if self.blend_ is not None:  # the blend of the model (its weights come from all training texts)
                oof[test] = blend(oof[test], self._neighbours_of(X, y, keep, train, test), self.blend_)
        self._train_X = None
        return oof

    def _predict_proba(self, texts):
        X = self.embed(texts)
        proba = np.zeros((len(texts), len(self.classes_)))
        proba[:, self.head_.classes_] = self.head_.predict_proba(X)
        if self.blend_ is not None:
            near = neighbour_proba(self.bank_, self.bank_labels_, X, len(self.classes_), self.neighbours,
                                   self.neighbour_temperature)
            proba = blend(proba, near, self.blend_)
        return proba

    def _save_files(self, directory):
        artifacts.skops_dump(self.head_, directory / HEAD_FILE)
        config = {"checkpoint_sha256": self.checkpoint_sha256_, "checkpoint_copied": bool(self.copy_checkpoint),
                  "C": self.C_, "blend": self.blend_}
        if self.blend_ is not None:
            save_bank(directory / NEIGHBOURS_FILE, "embeddings", self.bank_, self.bank_labels_)
        if self.copy_checkpoint:
            shutil.copytree(self.checkpoint_path_, directory / CHECKPOINT_DIR,
                            ignore=shutil.ignore_patterns(".*", "*.md", "onnx", "openvino", "*.h5", "*.msgpack", "*.ot"))
            config["checkpoint"] = None
        else:
            default = self.checkpoint is None
            config["checkpoint"] = None if default else str(Path(self.checkpoint_path_).resolve())
            config["checkpoint_default"] = default
        write_json(directory / CONFIG, config)

    @classmethod
    def _from_files(cls, directory, manifest, device=None, inference_dtype=None, **options):
        if options:
            raise TypeError(f"unknown load option(s) for embedding: {', '.join(options)}")
        model = cls._from_params(manifest, {"inference_dtype": "float32",  # older models: float32,
                                           "quantize_per_channel": False,  # int8 per tensor,
                                           "neighbours": 0},  # the head alone
                                 device=device, inference_dtype=inference_dtype)
        config = read_json(directory / CONFIG)
        if config.get("checkpoint_copied"):
            model.checkpoint_path_ = str(Path(directory, CHECKPOINT_DIR).resolve())
        elif config.get("checkpoint_default"):
            model.checkpoint_path_ = default_checkpoint()
        else:
            model.checkpoint_path_ = config["checkpoint"]
        if not Path(model.checkpoint_path_, "config.json").is_file():
            raise artifacts.ArtifactError(f"checkpoint referenced by {directory} not found: {model.checkpoint_path_}")
        model.checkpoint_sha256_ = config["checkpoint_sha256"]
        # verified now, before anything uses the checkpoint (not lazily at the first predict)
        if checkpoint_digest(model.checkpoint_path_) != model.checkpoint_sha256_:
            raise artifacts.ArtifactError(
                f"checkpoint {model.checkpoint_path_} referenced by {directory} differs from the one the "
                "model was trained with (sha256 of its weights changed)"
            )
        model.C_ = config.get("C", model.C)
        model.head_ = artifacts.skops_load(directory / HEAD_FILE, TRUSTED_TYPES)
        model.blend_ = config.get("blend")  # models saved before neighbours existed: None, the head alone
        model.bank_, model.bank_labels_ = None, None
        if model.blend_ is not None:
            model.bank_, model.bank_labels_ = load_bank(directory / NEIGHBOURS_FILE, "embeddings")
        model.encoder_ = None
        model._restore_common(manifest)
        return model
