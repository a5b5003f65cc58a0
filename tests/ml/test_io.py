"""Reading CSV, JSONL and XLSX files."""

import pandas as pd
import pytest

from ml.io import DataError, read_labelled, read_table

FRAME = pd.DataFrame({"text": ["a b", "c", None], "label": ["x", "y", "x"]})


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".xlsx"])
def test_read_formats(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        FRAME.to_csv(path, index=False)
    elif suffix == ".jsonl":
        FRAME.to_json(path, orient="records", lines=True)
    else:
        FRAME.to_excel(path, index=False)
    assert len(read_table(path)) == 3
    _, texts, labels = read_labelled(path, "text", "label")
    assert texts == ["a b", "c"] and labels == ["x", "y"]


def test_bad_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "data.parquet").write_text("x")
    with pytest.raises(DataError, match="unsupported"):
        read_table(tmp_path / "data.parquet")
    FRAME.to_csv(tmp_path / "ok.csv", index=False)
    with pytest.raises(DataError, match="missing column.*category"):
        read_labelled(tmp_path / "ok.csv", "text", "category")
    assert issubclass(DataError, ValueError)
