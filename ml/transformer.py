"""``transformer`` backend: a sequence classifier fine-tuned with ``transformers.Trainer``.

``AutoModelForSequenceClassification`` is loaded from a local checkpoint directory (the
packaged English all-MiniLM-L6-v2 by default) with a new classification head, and trained
by ``Trainer`` with ``TrainingArguments``: AdamW with linear decay, one evaluation per
epoch on a stratified tenth of the training texts, ``EarlyStoppingCallback`` on the
validation loss and the best epoch's weights kept; bf16 (or fp16) mixed precision on a
CUDA GPU. With ``checkpoint="scratch"`` (the default for Chinese text, for which no
checkpoint is packaged) a small BERT is trained from random weights with a WordPiece
tokenizer trained on the training texts by the ``tokenizers`` library.

The artifact is the Hugging Face directory written by ``save_pretrained`` (safetensors
weights, config and tokenizer files).
"""

import tempfile

import numpy as np

from ml.base import TextClassifier
from ml.embedding import checkpoint_path
from ml.language import detect_language

SCRATCH = "scratch"
MODEL_DIR = "model"
VALIDATION_FRACTION = 0.1
SCRATCH_CONFIG = {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024}
SCRATCH_VOCAB = 8000
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_tokenizer(texts, vocab_size=SCRATCH_VOCAB):
    """A BERT-style WordPiece tokenizer trained on ``texts`` (CJK characters split one by one)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, handle_chinese_chars=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS))
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[(name, tokenizer.token_to_id(name)) for name in ("[CLS]", "[SEP]")],
    )
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


class _Encoded:
    """A map-style dataset of tokenised texts and label ids, as ``Trainer`` reads it."""

    def __init__(self, encodings, labels):
        self.encodings = encodings
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {**{key: values[i] for key, values in self.encodings.items()}, "labels": int(self.labels[i])}


class TransformerClassifier(TextClassifier):
    """A fine-tuned transformer sequence classifier.

    Parameters
    ----------
    task : {"intent", "sentiment"}
    checkpoint : str or None
        Local Hugging Face checkpoint directory, or ``"scratch"``; None means the packaged
        English checkpoint for English text and ``"scratch"`` for Chinese text.
    epochs : int
        Most training epochs (early stopping may end sooner).
    learning_rate : float
    batch_size : int
    max_length : int
        Tokens kept per text.
    patience : int
        Epochs without a lower validation loss before training stops.
    random_state : int or None
    """

    backend = "transformer"

    def __init__(self, task="intent", checkpoint=None, epochs=4, learning_rate=5e-5, batch_size=32, max_length=128,
                 patience=2, random_state=None):
        self.task = task
        self.checkpoint = checkpoint
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.patience = patience
        self.random_state = random_state

    def _initial_model(self, texts, n_labels):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertConfig

        checkpoint = self.checkpoint
        if checkpoint is None:
            checkpoint = SCRATCH if detect_language(texts) == "zh" else None
        if checkpoint == SCRATCH:
            tokenizer = train_tokenizer(texts)
            config = BertConfig(vocab_size=len(tokenizer), num_labels=n_labels,
                                max_position_embeddings=max(512, self.max_length), **SCRATCH_CONFIG)
            return tokenizer, AutoModelForSequenceClassification.from_config(config)
        path = checkpoint_path(checkpoint)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=n_labels, local_files_only=True)
        return tokenizer, model

    def _fit(self, texts, y):
        import torch
        from sklearn.model_selection import train_test_split
        from transformers import (
            DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainingArguments, set_seed,
        )

        seed = 0 if self.random_state is None else int(self.random_state)
        set_seed(seed)
        classes, labels = np.unique(y, return_inverse=True)
        tokenizer, model = self._initial_model(texts, len(classes))
        model.config.id2label = {i: str(c) for i, c in enumerate(classes)}
        model.config.label2id = {str(c): i for i, c in enumerate(classes)}
        index = np.arange(len(texts))
        counts = np.bincount(labels)
        n_val = int(np.ceil(VALIDATION_FRACTION * len(texts)))
        validate = counts.min() >= 2 and n_val >= len(classes) and len(texts) - n_val >= len(classes)
        if validate:
            train_idx, val_idx = train_test_split(index, test_size=n_val, stratify=labels, random_state=seed)
        else:
            train_idx, val_idx = index, index[:0]

        def dataset(idx):
            encodings = tokenizer([texts[i] for i in idx], truncation=True, max_length=self.max_length)
            return _Encoded(encodings, labels[idx])

        cuda = torch.cuda.is_available()
        bf16 = cuda and torch.cuda.is_bf16_supported()
        with tempfile.TemporaryDirectory(prefix="ml-transformer-") as output_dir:
            args = TrainingArguments(
                output_dir=output_dir, num_train_epochs=self.epochs, learning_rate=self.learning_rate,
                per_device_train_batch_size=self.batch_size, per_device_eval_batch_size=self.batch_size,
                eval_strategy="epoch" if validate else "no", save_strategy="epoch" if validate else "no",
                load_best_model_at_end=validate, metric_for_best_model="eval_loss", greater_is_better=False,
                save_total_limit=2, logging_strategy="epoch", report_to="none", seed=seed, bf16=bf16,
                fp16=cuda and not bf16, use_cpu=not cuda,
            )
            trainer = Trainer(
                model=model, args=args, train_dataset=dataset(train_idx),
                eval_dataset=dataset(val_idx) if validate else None,
                data_collator=DataCollatorWithPadding(tokenizer),
                callbacks=[EarlyStoppingCallback(early_stopping_patience=self.patience)] if validate else [],
            )
            trainer.train()
        self.model_ = trainer.model.float().eval()
        self.tokenizer_ = tokenizer

    def _predict_proba(self, texts):
        import torch

        device = next(self.model_.parameters()).device
        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer_(texts[start:start + self.batch_size], truncation=True,
                                        max_length=self.max_length, padding=True, return_tensors="pt").to(device)
                out.append(torch.softmax(self.model_(**batch).logits.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def _save_files(self, directory):
        self.model_.save_pretrained(directory / MODEL_DIR, safe_serialization=True)
        self.tokenizer_.save_pretrained(directory / MODEL_DIR)

    @classmethod
    def _load_files(cls, directory, manifest):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model = cls._unfitted(manifest)
        path = directory / MODEL_DIR
        model.tokenizer_ = AutoTokenizer.from_pretrained(path, local_files_only=True)
        network = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True, use_safetensors=True)
        model.model_ = network.to("cuda" if torch.cuda.is_available() else "cpu").eval()
        return model
