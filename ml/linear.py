"""``linear`` backend: TF-IDF word and character n-grams (and, for English, static token vectors)
with a linear SVM or logistic regression."""

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from ml import artifacts
from ml.base import CONFIG, TextClassifier, cv_folds, read_json, write_json
from ml.language import detect_language
from ml.seed import resolve_seed
from ml.sparse_linear import compiled_for, shared_tokens
from ml.sparse_linear import shared_tokenization  # noqa: F401  (re-exported)
from ml.stacking import (
    as_stored, blend, check_pooling, class_prototypes, fit_blend, fit_logit_temperature, load_bank, neighbour_proba,
    save_bank, scores_to_logits, softmax,
)
from ml.static_vectors import StaticVectors, default_available, static_step

MODEL_FILE = "pipeline.skops"
PROTOTYPES_FILE = "prototypes.safetensors"
# the default C and the grid of ``C="cv"``, per loss
DEFAULT_C = {"hinge": 0.5, "log": 10.0}
C_GRID = {"hinge": (0.25, 0.5, 1.0, 2.0), "log": (1.0, 3.0, 10.0, 30.0)}

# Types (beyond skops' defaults) a linear artifact may contain; anything else is refused.
TRUSTED_TYPES = (
    "sklearn.pipeline.Pipeline",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model.LogisticRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.linear_model.Ridge",
    "sklearn.svm._classes.LinearSVC",
    "sklearn.svm.LinearSVC",
    "sklearn.decomposition._truncated_svd.TruncatedSVD",
    "numpy.float64",
    "numpy.int64",
    "numpy.int32",
    "numpy.dtype",
    "builtins.slice",
    "ml.linear.jieba_tokenize",
    "ml.static_vectors.StaticVectors",
)


def _segment(text):
    import rjieba

    return [token for token in rjieba.cut(text) if token.strip()]


def jieba_tokenize(text):
    """Split text into words with jieba's algorithm and dictionary (Chinese word segmentation).

    The segmenter is ``rjieba``, the Python binding of jieba-rs (jieba's Rust port: the same
    prefix dictionary, DAG route and HMM for unknown words), ~18x faster than the pure-Python
    ``jieba``; the two agree on 11,979 of waimai_10k's 11,987 reviews, the rest differ only in
    how ASCII runs such as ``11-45`` or ``T_T`` are split.
    """
    memo = shared_tokens()
    if memo is None:
        return _segment(text)
    tokens = memo.get(text)
    if tokens is None:
        tokens = memo[text] = tuple(_segment(text))
    return list(tokens)


def make_vectorizer(language, word_ngram=(1, 2), char_ngram=None, tokenizer=None, min_df=1):
    """Build the TF-IDF feature union for a language.

    Parameters
    ----------
    language : {"en", "zh"}
    word_ngram : tuple of int
    char_ngram : tuple of int, optional
        Defaults to (2, 5) ``char_wb`` for English, (1, 4) ``char`` for Chinese.
    tokenizer : {None, "jieba"}
        Word tokenizer; Chinese only gets word n-grams with ``"jieba"``.
    min_df : int

    Returns
    -------
    sklearn.pipeline.FeatureUnion
    """
    parts = []
    if language != "zh" or tokenizer == "jieba":
        word = TfidfVectorizer(
            ngram_range=tuple(word_ngram),
            sublinear_tf=True,
            min_df=min_df,
            dtype=np.float32,
            tokenizer=jieba_tokenize if tokenizer == "jieba" else None,
            token_pattern=None if tokenizer == "jieba" else r"(?u)\b\w+\b",
        )
        parts.append(("word", word))
    if char_ngram is None:
        char_ngram = (1, 4) if language == "zh" else (2, 5)
    analyzer = "char" if language == "zh" else "char_wb"
    char = TfidfVectorizer(
        analyzer=analyzer, ngram_range=tuple(char_ngram), sublinear_tf=True, min_df=min_df, dtype=np.float32
    )
    parts.append(("char", char))
    return FeatureUnion(parts)


class LinearClassifier(TextClassifier):
    """TF-IDF (word 1-2 + character n-grams, sublinear tf) with a linear SVM or logistic regression.

    For English, static token vectors distilled from the packaged sentence-embedding checkpoint
    (:mod:`ml.static_vectors`) are a third feature block, adapted to a sample of the training
    texts: +1.3 points on BANKING77's training fold in 5-fold CV. A prediction still needs no
    neural network (a tokenizer and a lookup); a Chinese model never uses them (no Chinese
    checkpoint is packaged).

    The default head is a linear SVM (squared hinge loss, one-vs-rest): about 0.3 points more
    accurate than logistic regression on the same features (5-fold CV on the BANKING77 and
    waimai training folds, docs/benchmarks.md) and better calibrated; its scores become
    probabilities through a softmax with a temperature fit on 3-fold out-of-fold scores of the
    training data (the TF-IDF vocabulary and weights are fit once, on all training texts).

    Parameters
    ----------
    task : {"intent", "sentiment"}
    loss : {"hinge", "log"}
        ``"hinge"``: ``LinearSVC`` + temperature-scaled softmax; ``"log"``: ``LogisticRegression``.
    C : float, "cv" or None
        Inverse regularisation strength; ``None``: 0.5 for ``"hinge"``, 10.0 for ``"log"``.
        ``"cv"`` picks it from ``C_GRID[loss]`` by stratified 3-fold cross-validation on the
        training data only.
    language : {"auto", "en", "zh"}
        ``"auto"`` detects Chinese from the share of CJK characters.
    word_ngram, char_ngram : tuple of int
    tokenizer : {"auto", None, "jieba"}
        ``"auto"``: jieba word n-grams next to the character n-grams for Chinese (when rjieba
        is installed), the regex word tokenizer otherwise.
    min_df : int
    class_weight : None or "balanced"
    max_iter : int
    static_vectors : "auto", None or str
        ``"auto"``: static token vectors of the packaged English checkpoint for English text
        (when it and torch are installed), none for Chinese; ``None``: TF-IDF only; a path: the
        static vectors of that local checkpoint, whatever the language.
    static_dims, static_weight : int, float
        PCA components of the vectors, and the block's scale next to the TF-IDF blocks.
    static_adapt : int
        At most this many training texts, and at most 200,000 tokens of them (a fixed random
        sample of larger sets), adapt the vectors to the data (their tokens' mean contextual
        states, :class:`ml.static_vectors.StaticVectors`); 0: not adapted.
    static_refine : float
        Ridge of the sentence-level correction of the adapted vectors
        (:func:`ml.static_vectors.sentence_fit`); 0: none.
    static_quantize : bool
        On a CPU, the encoder reads the training texts with int8 weights (faster, as accurate).
    neighbours : int
        With static vectors and the SVM head: also vote with the ``neighbours`` class prototypes
        most similar to a text's static vector (cosine; :func:`ml.stacking.neighbour_proba`).
        The SVM's probabilities and the prototypes' votes are pooled (``neighbour_pool``) with
        weights fit on the same 3-fold out-of-fold predictions of the training texts that fit
        the SVM's temperature; a weight of 0 drops the prototypes. 0: the SVM alone.
    neighbour_pool : {"geometric", "arithmetic"}
        How the SVM's probabilities and the prototypes' votes are pooled
        (:func:`ml.stacking.fit_blend`): ``"geometric"``, ``softmax(a log p_svm + b log votes)``,
        lets the prototypes veto a class none of them is near (+0.12 and +0.15 points in two
        5-fold CVs of BANKING77's training fold, docs/benchmarks.md, round 21);
        ``"arithmetic"``, the weighted average of the two, each calibrated with a temperature.
    neighbour_temperature : float
        How fast a prototype's vote falls with its similarity.
    prototypes : int
        Prototypes per class: the centres of a k-means of the class's static vectors
        (:func:`ml.stacking.class_prototypes`; a class with fewer texts keeps them all). The
        artifact stores them (float16); a centre of a one-text cluster is that text's vector.
    random_state : int or None
    """

    backend = "linear"

    def __init__(
        self,
        task="intent",
        loss="hinge",
        C=None,
        language="auto",
        word_ngram=(1, 2),
        char_ngram=None,
        tokenizer="auto",
        min_df=1,
        class_weight=None,
        max_iter=1000,
        static_vectors="auto",
        static_dims=256,
        static_weight=1.5,
        static_adapt=10000,
        static_refine=1.0,
        static_quantize=True,
        neighbours=10,
        neighbour_temperature=0.02,
        neighbour_pool="geometric",
        prototypes=40,
        random_state=None,
    ):
        self.task = task
        self.loss = loss
        self.C = C
        self.language = language
        self.word_ngram = word_ngram
        self.char_ngram = char_ngram
        self.tokenizer = tokenizer
        self.min_df = min_df
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.static_vectors = static_vectors
        self.static_dims = static_dims
        self.static_weight = static_weight
        self.static_adapt = static_adapt
        self.static_refine = static_refine
        self.static_quantize = static_quantize
        self.neighbours = neighbours
        self.neighbour_temperature = neighbour_temperature
        self.neighbour_pool = neighbour_pool
        self.prototypes = prototypes
        self.random_state = random_state

    def _tokenizer(self):
        if self.tokenizer != "auto":
            return self.tokenizer
        if self.language_ != "zh":
            return None
        try:
            import rjieba  # noqa: F401
        except ImportError:
            return None
        return "jieba"

    def _static_checkpoint(self):
        """(use static vectors?, checkpoint or None for the packaged one) for this model's language."""
        if self.static_vectors in (None, False, "none"):
            return False, None
        if self.static_vectors == "auto":
            return self.language_ == "en" and default_available(), None
        return True, str(self.static_vectors)

    def _vectorizer(self):
        union = make_vectorizer(self.language_, self.word_ngram, self.char_ngram, self._tokenizer(), self.min_df)
        use, checkpoint = self.static_
        if use:
            union.transformer_list.append(
                ("static", StaticVectors(checkpoint, dims=int(self.static_dims), weight=float(self.static_weight),
                                         adapt=int(self.static_adapt), refine=float(self.static_refine),
                                         quantize=bool(self.static_quantize))))
        return union

    def _head(self, C):
        if self.loss == "hinge":
            return LinearSVC(C=C, max_iter=self.max_iter, class_weight=self.class_weight, random_state=self._seed)
        return LogisticRegression(
            C=C, max_iter=self.max_iter, tol=1e-3, class_weight=self.class_weight, random_state=self._seed,
        )

    def _pipeline(self, C):
        return Pipeline([("tfidf", self._vectorizer()), ("clf", self._head(C))])

    def _fit(self, texts, y):
        if self.loss not in DEFAULT_C:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {sorted(DEFAULT_C)}")
        check_pooling(self.neighbour_pool)  # before the encoder's pass, not after it
        self._seed = resolve_seed(self.random_state)
        self.language_ = detect_language(texts) if self.language == "auto" else self.language
        self.static_ = self._static_checkpoint()
        C = DEFAULT_C[self.loss] if self.C is None else self.C
        if C == "cv":
            C = self._select_C(texts, y)
        self.C_ = float(C)
        self.temperature_ = 1.0
        self.blend_ = self.prototypes_ = self.prototype_labels_ = None
        if self.loss == "log":
            self.pipeline_ = self._pipeline(self.C_).fit(texts, y)
            return
        vectorizer = self._vectorizer()
        X = vectorizer.fit_transform(texts)
        static = static_step(vectorizer)
        S = None
        if static is not None and self.neighbours:  # the static block is the union's last columns
            S = X[:, X.shape[1] - static.vectors_.shape[1]:].toarray() / np.float32(static.weight)
        self._calibrate(X, y, S)
        self.pipeline_ = Pipeline([("tfidf", vectorizer), ("clf", self._head(self.C_).fit(X, y))])
        if self.blend_ is not None:
            bank, self.prototype_labels_ = class_prototypes(S, y, int(self.prototypes), self._seed)
            self.prototypes_ = as_stored(bank)

    def _calibrate(self, X, y, S=None):
        """The SVM's temperature from out-of-fold scores, and with the static vectors ``S`` the
        blend with the class prototypes' votes (rows of classes with one example left out;
        temperature 1.0 and no blend when too few)."""
        keep = np.flatnonzero(np.bincount(y)[y] >= 2)
        X, y = X[keep], y[keep]
        S = None if S is None else S[keep]
        labels, y = np.unique(y, return_inverse=True)
        folds = cv_folds(y, cv=3, random_state=self._seed) if len(labels) >= 2 else []
        if not folds:
            return
        oof = np.zeros((len(y), len(labels)))
        near = None if S is None else np.zeros_like(oof)
        for train, test in folds:
            head = self._head(self.C_).fit(X[train], y[train])
            oof[test] = scores_to_logits(head.decision_function(X[test]))
            if near is not None:
                bank, bank_labels = class_prototypes(S[train], y[train], int(self.prototypes), self._seed)
                near[test] = self._votes(bank, bank_labels, S[test], len(labels))
        self.temperature_ = fit_logit_temperature(oof, y)
        if near is not None:
            self.blend_ = fit_blend(softmax(oof / self.temperature_), near, y, pooling=self.neighbour_pool)

    def _votes(self, bank, bank_labels, S, n_classes):
        return neighbour_proba(bank, bank_labels, S, n_classes, int(self.neighbours), float(self.neighbour_temperature))

    def _select_C(self, texts, y):
        counts = np.bincount(y)
        grid = C_GRID[self.loss]
        n_splits = int(min(3, counts.min())) if counts.min() >= 2 else 0
        if n_splits < 2:
            return DEFAULT_C[self.loss]
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self._seed)
        texts = np.asarray(texts, dtype=object)
        scores = []
        for C in grid:
            correct = 0
            for train, test in folds.split(texts, y):
                model = self._pipeline(C).fit(list(texts[train]), y[train])
                correct += int((model.predict(list(texts[test])) == y[test]).sum())
            scores.append(correct)
        return grid[int(np.argmax(scores))]

    def _predict_proba(self, texts):
        proba = np.zeros((len(texts), len(self.classes_)))
        compiled = compiled_for(self, self.pipeline_)
        head = self.pipeline_.named_steps["clf"]
        if not isinstance(head, LinearSVC):
            proba[:, head.classes_] = compiled.predict_proba(texts) if compiled else self.pipeline_.predict_proba(texts)
            return proba
        how = getattr(self, "blend_", None)
        static = static_step(self.pipeline_.named_steps["tfidf"]) if how is not None else None
        if compiled:  # the static block's features come back with the scores, computed once
            scores, dense = compiled.decision_function(texts, return_dense=True)
            S = dense[0] / np.float32(static.weight) if static is not None else None
        else:
            scores = self.pipeline_.decision_function(texts)
            S = static.unit_features(texts) if static is not None else None
        proba[:, head.classes_] = softmax(scores_to_logits(scores) / self.temperature_, axis=1)
        if S is None:
            return proba
        near = self._votes(self.prototypes_, self.prototype_labels_, S, len(self.classes_))
        return blend(proba, near, how)

    def _save_files(self, directory):
        artifacts.skops_dump(self.pipeline_, directory / MODEL_FILE)
        static = static_step(self.pipeline_.named_steps["tfidf"])
        write_json(directory / CONFIG, {
            "language": self.language_, "C": self.C_, "temperature": self.temperature_,
            "static_vectors_checkpoint_sha256": static.checkpoint_digest_ if static is not None else None,
            "static_vectors_adapted_tokens": getattr(static, "adapted_tokens_", 0) if static is not None else None,
            "blend": self.blend_,
        })
        if self.blend_ is not None:
            save_bank(directory / PROTOTYPES_FILE, "prototypes", self.prototypes_, self.prototype_labels_)

    @classmethod
    def _from_files(cls, directory, manifest, **options):
        # before "loss", every head was logistic; before "static_vectors", none had static vectors;
        # before "static_adapt", none were adapted; before "static_refine", none refined; before "neighbours", no votes;
        # before "neighbour_pool", votes were averaged; before "static_quantize", texts were read in float32
        model = cls._from_params(manifest, {"loss": "log", "static_vectors": None, "static_adapt": 0,
                                              "static_refine": 0.0, "neighbours": 0, "neighbour_pool": "arithmetic",
                                              "static_quantize": False})
        config = read_json(directory / CONFIG)
        model.language_ = config["language"]
        model.C_ = config["C"]
        model.temperature_ = config.get("temperature", 1.0)  # artifacts of logistic heads before 2026-11-28
        model.pipeline_ = artifacts.skops_load(directory / MODEL_FILE, TRUSTED_TYPES)
        model.blend_ = config.get("blend")
        model.prototypes_ = model.prototype_labels_ = None
        if model.blend_ is not None:
            model.prototypes_, model.prototype_labels_ = load_bank(directory / PROTOTYPES_FILE, "prototypes")
        model._restore_common(manifest)
        return model
