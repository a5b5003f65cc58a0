"""Fixed-vocabulary character n-gram TF-IDF: the query encoder of :mod:`ml.retrieval`.

Pure Python (NumPy, SciPy, scikit-learn); never imports Django. The state (vocabulary,
IDF, parameters) round-trips through JSON; nothing is pickled.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from ml.sparse_linear import TfidfPart


class Vectorizer:
    """Fixed-vocabulary char n-gram TF-IDF (the state of a fitted ``TfidfVectorizer``)."""

    def __init__(self, vocabulary, idf, ngram_range, analyzer="char_wb", sublinear_tf=True):
        self.vocabulary = vocabulary
        self.idf = np.asarray(idf, dtype=np.float64)
        self.ngram_range = tuple(ngram_range)
        self.analyzer = analyzer
        self.sublinear_tf = sublinear_tf
        self._counter = CountVectorizer(
            analyzer=analyzer, ngram_range=self.ngram_range, vocabulary=vocabulary, dtype=np.float64
        )
        self._idf_diag = sp.diags(self.idf, format="csr")
        self._part = None

    @classmethod
    def fit(cls, texts, ngram_range, analyzer="char_wb", min_df=1, max_features=None, sublinear_tf=True):
        tfidf = TfidfVectorizer(
            analyzer=analyzer, ngram_range=ngram_range, min_df=min_df, max_features=max_features,
            sublinear_tf=sublinear_tf, dtype=np.float64,
        ).fit(texts)
        vocabulary = {term: int(index) for term, index in tfidf.vocabulary_.items()}
        return cls(vocabulary, tfidf.idf_, ngram_range, analyzer, sublinear_tf)

    def transform(self, texts):
        counts = self._counter.transform(texts)
        if self.sublinear_tf:
            counts.data = np.log(counts.data) + 1.0
        return normalize(counts @ self._idf_diag, norm="l2", copy=False).tocsr()

    def query_vector(self, text):
        """``(columns, values)`` of one text's TF-IDF row, without ``CountVectorizer``'s per-call overhead."""
        if self._part is None:
            self._part = TfidfPart(self._counter.build_analyzer(), self.vocabulary, self.idf,
                                   sublinear_tf=self.sublinear_tf)
        _, columns, values = self._part.rows([text])
        return columns, values

    def transform_one(self, text):
        """:meth:`transform` of one text (a 1-row CSR matrix), built from :meth:`query_vector`."""
        columns, values = self.query_vector(text)
        return sp.csr_matrix((values, columns, np.array([0, len(columns)])), shape=(1, len(self.idf)))

    def to_json(self):
        return {
            "analyzer": self.analyzer,
            "ngram_range": list(self.ngram_range),
            "sublinear_tf": self.sublinear_tf,
            "vocabulary": self.vocabulary,
            "idf": self.idf.tolist(),
        }

    @classmethod
    def from_json(cls, data):
        return cls(data["vocabulary"], data["idf"], data["ngram_range"], data["analyzer"], data["sublinear_tf"])
