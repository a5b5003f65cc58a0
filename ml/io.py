"""Reading labelled tables (CSV, JSONL, XLSX) for training, evaluation and prediction."""

from pathlib import Path

READERS = (".csv", ".jsonl", ".json", ".xlsx")


class DataError(ValueError):
    """The input file is missing, empty, unreadable or lacks a column."""


def read_table(path):
    """Read a CSV, JSON-lines or XLSX file into a DataFrame.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        Missing, unreadable, unsupported or empty file.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise DataError(f"unsupported file type {suffix or '(none)'}: use CSV, JSONL or XLSX")
    if path.stat().st_size == 0:
        raise DataError(f"data file is empty: {path}")
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        elif suffix in (".jsonl", ".json"):
            frame = pd.read_json(path, lines=suffix == ".jsonl")
        else:
            frame = pd.read_excel(path, engine="openpyxl")
    except (ValueError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - openpyxl raises its own errors on bad files
        raise DataError(f"cannot read {path}: {exc}") from exc
    if frame.empty:
        raise DataError(f"data file has no rows: {path}")
    return frame


def require_columns(frame, columns, path=""):
    """Raise :class:`DataError` when any of ``columns`` is missing from ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        where = f" in {path}" if path else ""
        raise DataError(
            f"missing column(s){where}: {', '.join(missing)} (available: {', '.join(map(str, frame.columns))})"
        )


def read_labelled(path, text_col, label_col=None):
    """Read texts (and labels) from a file, dropping rows with an empty text or label.

    Returns
    -------
    tuple
        ``(frame, texts, labels)``; ``labels`` is None without ``label_col``.
    """
    frame = read_table(path)
    require_columns(frame, [text_col] + ([label_col] if label_col else []), path)
    keep = frame[text_col].notna()
    if label_col:
        keep &= frame[label_col].notna()
    frame = frame[keep].reset_index(drop=True)
    if frame.empty:
        raise DataError(f"no rows with a text{' and a label' if label_col else ''} in {path}")
    texts = frame[text_col].astype(str).tolist()
    labels = frame[label_col].tolist() if label_col else None
    return frame, texts, labels
