"""``linear`` backend: word and character TF-IDF into a calibrated linear SVM.

A scikit-learn ``Pipeline``: a ``FeatureUnion`` of word TF-IDF (unigrams and bigrams;
Chinese text is segmented into words by jieba) and character TF-IDF (``char_wb``;
2-5 grams for English, 1-4 for Chinese), both with sublinear term frequency, into a
``LinearSVC`` whose decision values are turned into probabilities by Platt scaling
(``CalibratedClassifierCV``, sigmoid, fitted on ``cross_val_predict`` decision values).
Predictions go through the pipeline's compiled form (:mod:`ml.inference`: the same numbers
without scikit-learn's per-call overhead).
When a class has a single training text calibration cannot be cross-validated, and a
``LogisticRegression`` takes the SVM's place. Nothing neural runs at fit or predict time.
"""

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from ml import artifacts
from ml.base import TextClassifier
from ml.inference import CompiledClassifier, NotCompilable
from ml.language import detect_language

MODEL_FILE = "pipeline.skops"
CHAR_NGRAMS = {"en": (2, 5), "zh": (1, 4)}
CALIBRATION_FOLDS = 5

# Types (beyond skops' defaults) a linear artifact may contain; anything else is refused.
TRUSTED_TYPES = (
    "builtins.dict",
    "ml.linear.chinese_words",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.svm._classes.LinearSVC",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
    "numpy.ndarray",
)


def chinese_words(text):
    """Lower-cased jieba words of ``text`` without whitespace tokens."""
    import rjieba

    return [word for word in rjieba.cut(text.lower()) if not word.isspace()]


def tfidf_features(language, min_df=1):
    """The word + character TF-IDF ``FeatureUnion`` for ``language`` ("en" or "zh")."""
    if language == "zh":
        words = TfidfVectorizer(tokenizer=chinese_words, token_pattern=None, lowercase=False,
                                ngram_range=(1, 2), sublinear_tf=True, min_df=min_df)
    else:
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS.get(language, CHAR_NGRAMS["en"]),
                            sublinear_tf=True, min_df=min_df)
    return FeatureUnion([("word", words), ("char", chars)])


def _compiled(pipeline):
    """The pipeline's compiled prediction path (:mod:`ml.inference`), None for a shape it lacks."""
    try:
        return CompiledClassifier(pipeline)
    except NotCompilable:
        return None


class LinearClassifier(TextClassifier):
    """TF-IDF features into a linear classifier with calibrated probabilities.

    Parameters
    ----------
    task : {"intent", "sentiment"}
    language : {"auto", "en", "zh"}
        Feature set; ``"auto"`` detects it from the training texts (``language_``).
    C : float
        Inverse regularisation strength of the linear model.
    random_state : int or None
        Seed of the calibration folds.
    """

    backend = "linear"

    def __init__(self, task="intent", language="auto", C=1.0, random_state=None):
        self.task = task
        self.language = language
        self.C = C
        self.random_state = random_state

    def _fit(self, texts, y):
        self.language_ = detect_language(texts) if self.language == "auto" else self.language
        smallest = int(np.unique(y, return_counts=True)[1].min())
        if smallest >= 2:
            from sklearn.model_selection import StratifiedKFold

            folds = StratifiedKFold(min(CALIBRATION_FOLDS, smallest), shuffle=True, random_state=self.random_state)
            classifier = CalibratedClassifierCV(LinearSVC(C=self.C), method="sigmoid", cv=folds, ensemble=False)
        else:
            classifier = LogisticRegression(C=self.C, max_iter=1000)
        self.pipeline_ = Pipeline([("tfidf", tfidf_features(self.language_)), ("classifier", classifier)])
        self.pipeline_.fit(texts, y)
        self.compiled_ = _compiled(self.pipeline_)

    def _predict_proba(self, texts):
        return (self.compiled_ or self.pipeline_).predict_proba(texts)

    def _save_files(self, directory):
        artifacts.skops_dump(self.pipeline_, directory / MODEL_FILE)

    @classmethod
    def _load_files(cls, directory, manifest):
        model = cls._unfitted(manifest)
        model.pipeline_ = artifacts.skops_load(directory / MODEL_FILE, TRUSTED_TYPES)
        model.compiled_ = _compiled(model.pipeline_)
        model.language_ = manifest.get("language", "en")
        return model

    def _manifest(self):
        return {**super()._manifest(), "language": self.language_}
