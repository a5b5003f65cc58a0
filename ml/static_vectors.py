"""Static token vectors distilled from a sentence-embedding checkpoint, as dense features for ``linear``.

The recipe is Model2Vec's (Tulkens & van Dongen, 2024): every token of the checkpoint's
vocabulary is passed through the encoder on its own (``[CLS] token [SEP]``, mean of the output
states), the table is reduced to ``dims`` components with PCA, and a text's vector is the mean
of its tokens' rows, L2-normalised. Unlike the contextual encoder, a prediction needs no neural
network: a tokenizer (Rust) and a table lookup, so ``linear`` keeps its speed. The vectors give
words the TF-IDF vocabulary has never seen (synonyms, rephrasings) a place near the ones it has:
+0.9 points on BANKING77's training fold in 5-fold cross-validation (docs/benchmarks.md,
round 11).

``model2vec`` itself is not used: its ``distill`` extra pins ``transformers<5.4``. Computing the
table takes ~20 s on 2 CPU cores; it is kept per process and on disk (``ML_CACHE_DIR``, default
``~/.cache/csplatform-ml``, a ``.npy`` read with ``allow_pickle=False``), keyed by the sha256 of
the checkpoint's weights.
"""

import functools
import hashlib
import json
import os
import tempfile
import threading
import warnings
import weakref
from itertools import chain
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from ml.encoder import checkpoint_digest, default_checkpoint, resolve_checkpoint

RECIPE = 1  # bump when the table's recipe changes (the disk cache is keyed by it)
_TABLES = weakref.WeakValueDictionary()  # hash of a model's float16 table -> its float32 copy
_TABLES_LOCK = threading.Lock()


def cache_dir():
    """Where computed token tables are kept (``ML_CACHE_DIR``, default ``~/.cache/csplatform-ml``)."""
    return Path(os.environ.get("ML_CACHE_DIR") or Path.home() / ".cache" / "csplatform-ml")


def default_available():
    """Whether the packaged English checkpoint (and torch, to distil it) can be used."""
    try:
        import torch  # noqa: F401

        resolve_checkpoint(default_checkpoint())
    except (ImportError, ValueError):
        return False
    return True


def _distil(checkpoint, dims, batch_size=1024):
    """(vocabulary size, dims) float32 table: each token's mean output state, PCA-reduced."""
    import torch
    from sklearn.decomposition import PCA
    from tqdm.auto import tqdm
    from transformers import AutoModel, AutoTokenizer

    from ml.encoder import offline

    offline()
    tokenizer = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    model = AutoModel.from_pretrained(checkpoint, local_files_only=True).eval()
    n = len(tokenizer)
    table = np.zeros((n, model.config.hidden_size), dtype=np.float32)
    first = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    last = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    starts = tqdm(range(0, n, batch_size), desc="static token vectors (once per checkpoint)", unit="batch",
                  disable=None, leave=False)  # shown on a terminal only
    with torch.inference_mode():
        for start in starts:
            ids = torch.arange(start, min(start + batch_size, n))[:, None]
            # each token alone inside the model's special tokens: [CLS] t [SEP] for BERT, <s> t </s> for others
            parts = [ids]
            if first is not None:
                parts.insert(0, torch.full_like(ids, first))
            if last is not None:
                parts.append(torch.full_like(ids, last))
            inputs = torch.cat(parts, dim=1)
            hidden = model(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
            table[start:start + len(ids)] = hidden.mean(1).numpy()
    if dims and dims < table.shape[1]:
        table = PCA(n_components=dims, svd_solver="full", random_state=0).fit_transform(table)
    return table.astype(np.float32)


@functools.lru_cache(maxsize=4)
def token_table(checkpoint, dims):
    """``(tokenizer JSON, table, weights sha256)`` of ``checkpoint``; computed once, then read from the disk cache."""
    from transformers import AutoTokenizer

    checkpoint = resolve_checkpoint(checkpoint)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    hidden = json.loads((Path(checkpoint) / "config.json").read_text()).get("hidden_size")
    shape = (len(tokenizer), min(dims, hidden) if dims and hidden else hidden)
    digest = checkpoint_digest(checkpoint)
    path = cache_dir() / f"static-{digest[:16]}-d{dims}-r{RECIPE}.npy"
    table = None
    if path.is_file():
        try:
            table = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            table = None
        if table is not None and (table.shape != shape or table.dtype != np.float32):
            table = None
    if table is None:
        table = _distil(checkpoint, dims)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as tmp:
                np.save(tmp, table, allow_pickle=False)
            os.replace(tmp.name, path)
        except OSError as exc:  # a read-only home: train on, recompute next time
            warnings.warn(f"static token vectors not cached ({exc}); set ML_CACHE_DIR to a writable directory",
                          stacklevel=2)
    table.setflags(write=False)
    return tokenizer.backend_tokenizer.to_str(), table, digest


class StaticVectors(TransformerMixin, BaseEstimator):
    """Texts -> ``weight`` x the L2-normalised mean of their tokens' static vectors (dense float32).

    Parameters
    ----------
    checkpoint : str or None
        Local Hugging Face checkpoint directory; ``None``: the packaged all-MiniLM-L6-v2.
    dims : int
        PCA components kept (Model2Vec's default, 256).
    weight : float
        Scale of the block next to the L2-normalised TF-IDF blocks (1.5: chosen by 5-fold CV
        on BANKING77's training fold, among 0.5, 1, 1.5, 2).
    """

    def __init__(self, checkpoint=None, dims=256, weight=1.5):
        self.checkpoint = checkpoint
        self.dims = dims
        self.weight = weight

    def fit(self, texts, y=None):
        self.tokenizer_json_, table, self.checkpoint_digest_ = token_table(
            self.checkpoint or default_checkpoint(), int(self.dims))
        self.vectors_ = np.ascontiguousarray(table, dtype=np.float16)  # half the artifact; rows are cast back when read
        return self

    def __getstate__(self):
        state = dict(self.__dict__)
        for cached in ("_tokenizer", "_table"):  # rebuilt when first needed (a tokenizers object is not storable)
            state.pop(cached, None)
        return state

    def _encoder(self):
        tokenizer = getattr(self, "_tokenizer", None)
        if tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_str(self.tokenizer_json_)
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return tokenizer

    def _float_table(self):
        """The table in float32 (a sparse float16 product is 2.5x slower), one copy per process.

        Intent and sentiment models of one checkpoint hold equal tables: they share one
        float32 copy (31 MB for MiniLM), found by a hash of the stored bytes.
        """
        table = getattr(self, "_table", None)
        if table is None:
            key = hashlib.blake2b(np.ascontiguousarray(self.vectors_).data, digest_size=16).hexdigest()
            with _TABLES_LOCK:
                table = _TABLES.get(key)
                if table is None:
                    table = np.ascontiguousarray(self.vectors_, dtype=np.float32)
                    table.setflags(write=False)
                    _TABLES[key] = table
            self._table = table
        return table

    def transform(self, texts):
        return self.features(texts)

    def features(self, texts):
        """:meth:`transform` without scikit-learn's output wrapper (the compiled inference calls it)."""
        texts = [str(text) for text in texts]
        tokenizer = self._encoder()
        encode = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)  # no offsets: faster
        ids = [encoding.ids for encoding in encode(texts, add_special_tokens=False)] if texts else []
        table = self._float_table()
        if len(ids) == 1:  # one text (most predictions): a plain gather
            out = table[ids[0]].mean(0, keepdims=True) if ids[0] else np.zeros((1, table.shape[1]), np.float32)
        else:  # the mean of each text's rows as one sparse (texts x vocabulary) product
            lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
            flat = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
            averaging = sp.csr_matrix(
                (np.repeat(1.0 / np.maximum(lengths, 1), lengths).astype(np.float32), flat,
                 np.concatenate([[0], np.cumsum(lengths)])), shape=(len(ids), table.shape[0]))
            out = np.asarray(averaging @ table, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out * (np.float32(self.weight) / norms)

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"static{i}" for i in range(self.vectors_.shape[1])], dtype=object)
