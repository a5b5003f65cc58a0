"""Seeding of every random number generator the library uses."""

import os
import random

import numpy as np


def set_seed(seed):
    """Seed ``random``, NumPy and torch (all CUDA devices when present).

    Parameters
    ----------
    seed : int
        The seed.
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def resolve_seed(random_state):
    """Turn a ``random_state`` hyperparameter into an int seed.

    Parameters
    ----------
    random_state : int, numpy.random.RandomState or None

    Returns
    -------
    int
    """
    if random_state is None:
        return 0
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise ValueError(f"random_state must be an int, a RandomState or None, not {random_state!r}")
