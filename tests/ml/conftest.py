"""Fixtures of the ml tests: small slices of the shared data sets (no Django, no DB)."""

import os
from pathlib import Path

import pytest

DATASETS = Path(os.environ.get("ML_DATASETS_DIR", Path(__file__).resolve().parents[3] / "shared" / "datasets"))
BANKING = DATASETS / "banking77" / "train.csv"
WAIMAI = DATASETS / "waimai_10k" / "waimai_10k.csv"

# five easily confused-by-words but distinct intents; chance accuracy is 20 %
INTENTS = ("card_arrival", "exchange_rate", "lost_or_stolen_card", "top_up_failed", "cash_withdrawal_charge")


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Tests run beside other work on small machines: one torch, OpenMP and BLAS thread each."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(threads)


def _require(path):
    if not path.is_file():
        pytest.skip(f"shared data set not found: {path} (set ML_DATASETS_DIR)")


def _banking_split(intents, n_train, n_test):
    """(train_texts, train_labels, test_texts, test_labels): ``n_train`` + ``n_test`` texts of each intent."""
    _require(BANKING)
    import pandas as pd

    df = pd.read_csv(BANKING)
    df = df[df.category.isin(intents(df))]
    train, test = [], []
    for _, group in df.groupby("category", sort=True):
        group = group.sample(frac=1.0, random_state=0)
        train.append(group.iloc[:n_train])
        test.append(group.iloc[n_train:n_train + n_test])
    train, test = pd.concat(train).sample(frac=1.0, random_state=1), pd.concat(test)
    return train.text.tolist(), train.category.tolist(), test.text.tolist(), test.category.tolist()


@pytest.fixture(scope="session")
def banking_slice():
    """5 intents, 40 + 20 texts each (see :func:`_banking_split`)."""
    return _banking_split(lambda df: INTENTS, 40, 20)


@pytest.fixture(scope="session")
def banking_wide_slice():
    """20 intents (the first by name), 60 + 20 texts each."""
    return _banking_split(lambda df: sorted(df.category.unique())[:20], 60, 20)


@pytest.fixture(scope="session")
def waimai_slice():
    """(train_texts, train_labels, test_texts, test_labels): balanced Chinese reviews, labels 0/1."""
    _require(WAIMAI)
    import pandas as pd

    df = pd.read_csv(WAIMAI)
    parts = [df[df.label == label].sample(300, random_state=0) for label in (0, 1)]
    df = pd.concat(parts).sample(frac=1.0, random_state=0)
    train, test = df.iloc[:400], df.iloc[400:]
    return train.review.tolist(), train.label.tolist(), test.review.tolist(), test.label.tolist()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A local Hugging Face checkpoint directory: a two-layer BERT of width 32 (random weights) with the
    packaged MiniLM tokenizer, small enough to fine-tune in seconds."""
    from transformers import AutoTokenizer, BertConfig, BertModel, set_seed

    from ml.embedding import default_checkpoint

    path = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(default_checkpoint(), local_files_only=True)
    set_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
