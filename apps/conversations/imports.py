"""File imports: one row per message, grouped by conversation id, all or nothing per file.

Columns (names are case-insensitive; ``*`` = required)::

    conversation_id*  customer_id*  started_at*  speaker*  text*
    agent_id  channel  language  ended_at  resolved  csat  intent  sentiment  quality  seq  sent_at
    customer_name  customer_age  customer_gender  customer_city  customer_segment  customer_vip_level
    agent_name  agent_team

Conversation-level columns may be repeated on every row of a conversation or given on its
first row only; conflicting values are reported. Every bad row is reported with its row
number (the spreadsheet row: the header is row 1) and nothing is written.
"""
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from django.db import transaction

from apps.agents.api import AgentInSerializer
from apps.agents.services import agents_upsert
from apps.core.bulk import UpsertResult
from apps.customers.api import CustomerInSerializer
from apps.customers.services import customers_upsert

from .serializers import ConversationInSerializer
from .services import conversations_upsert

REQUIRED = ("conversation_id", "customer_id", "started_at", "speaker", "text")
CONVERSATION_COLUMNS = {
    "customer_id": "customer", "agent_id": "agent", "channel": "channel", "language": "language",
    "started_at": "started_at", "ended_at": "ended_at", "resolved": "resolved", "csat": "csat",
    "intent": "label_intent", "sentiment": "label_sentiment", "quality": "label_quality",
}
MESSAGE_COLUMNS = ("seq", "speaker", "text", "sent_at")
CUSTOMER_COLUMNS = {
    "customer_name": "display_name", "customer_age": "age", "customer_gender": "gender", "customer_city": "city",
    "customer_segment": "segment", "customer_vip_level": "vip_level",
}
AGENT_COLUMNS = {"agent_name": "name", "agent_team": "team"}
FORMATS = (".csv", ".json", ".jsonl", ".xlsx")


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, columns, emptiness)."""


@dataclass
class ImportReport:
    n_rows: int = 0
    n_conversations: int = 0
    errors: list[dict] = field(default_factory=list)
    conversations: UpsertResult = field(default_factory=UpsertResult)
    customers: UpsertResult = field(default_factory=UpsertResult)
    agents: UpsertResult = field(default_factory=UpsertResult)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


CHINESE_ENCODINGS = {"gb18030", "gbk", "gb2312", "hz", "big5", "big5hkscs", "cp950", "cp936"}


class _FormulaWithoutValue(str):
    """A spreadsheet cell holding a formula whose result was never computed and saved."""


FORMULA_WITHOUT_VALUE = _FormulaWithoutValue("")


def _read_text(path: Path) -> str:
    """The file's text: UTF-8 (with or without BOM), or a Chinese legacy encoding (GBK/GB18030, Big5) detected."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        encoding = best.encoding.lower() if best is not None else None
        if encoding in CHINESE_ENCODINGS:
            # GB18030 is a superset of GBK and GB2312, so it decodes any of them.
            codec = "gb18030" if encoding in {"gbk", "gb2312", "cp936", "gb18030", "hz"} else "big5hkscs"
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
        looks = f" (it looks like {encoding})" if encoding else ""
        raise ImportFileError(
            f"{path.name} is not UTF-8{looks} at byte {exc.start}; save it as UTF-8 "
            "(Excel: \"CSV UTF-8\"; WPS/Notepad: encoding UTF-8) and import it again."
        ) from exc


def _xlsx_formulas_without_values(path: Path) -> list[tuple[int, int]]:
    """(spreadsheet row, column index) of formula cells with no saved result in the first sheet."""
    from openpyxl import load_workbook

    formulas = load_workbook(path, read_only=True, data_only=False)
    values = load_workbook(path, read_only=True, data_only=True)
    try:
        missing = []
        rows = zip(formulas.worksheets[0].iter_rows(), values.worksheets[0].iter_rows(values_only=True))
        for row_no, (formula_row, value_row) in enumerate(rows, start=1):
            for index, (cell, value) in enumerate(zip(formula_row, value_row)):
                if getattr(cell, "data_type", None) == "f" and value is None:
                    missing.append((row_no, index))
        return missing
    finally:
        formulas.close()
        values.close()


def _read_xlsx(path: Path) -> pd.DataFrame:
    import zipfile

    from openpyxl.utils.exceptions import InvalidFileException

    try:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        missing = _xlsx_formulas_without_values(path)
    except (zipfile.BadZipFile, KeyError, InvalidFileException, OSError, EOFError) as exc:
        raise ImportFileError(
            f"{path.name} is not a valid XLSX workbook ({type(exc).__name__}: {exc}); open it in Excel or WPS "
            "and save it as .xlsx, or export it as UTF-8 CSV."
        ) from exc
    for row_no, index in missing:  # row 1 is the header
        if row_no >= 2 and row_no - 2 < len(frame) and index < len(frame.columns):
            frame.iat[row_no - 2, index] = FORMULA_WITHOUT_VALUE
    return frame


def read_table(path: str | Path) -> tuple[pd.DataFrame, int]:
    """Read CSV/JSON/JSONL/XLSX as strings. Returns the frame and the row number of its first row.

    Text files are read as UTF-8, or as GBK/GB18030/Big5 when the bytes are detected as such;
    anything else is refused with a message to save the file as UTF-8. XLSX formula cells with no
    saved result are marked ``FORMULA_WITHOUT_VALUE`` (reported as bad rows by the import).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ImportFileError(f"Unsupported file type {suffix or '(none)'}; use one of {', '.join(FORMATS)}.")
    if not path.is_file():
        raise ImportFileError(f"No such file: {path}")
    try:
        if suffix == ".xlsx":
            frame, first_row = _read_xlsx(path), 2
        else:
            text = io.StringIO(_read_text(path))
            if suffix == ".csv":
                frame, first_row = pd.read_csv(text, dtype=str, keep_default_na=False), 2
            elif suffix == ".jsonl":
                frame, first_row = pd.read_json(text, lines=True, dtype=False), 1
            else:
                frame, first_row = pd.read_json(text, dtype=False), 1
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"Cannot read {path.name}: {exc}") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), "")
    if frame.empty:
        raise ImportFileError(f"{path.name} has no rows.")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ImportFileError(f"Missing required column(s): {', '.join(missing)}.")
    return frame, first_row


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _group(frame: pd.DataFrame, first_row: int, report: ImportReport) -> dict[str, dict]:
    """Group message rows into conversation payloads, reporting conflicts by row number."""
    conversations: dict[str, dict] = {}
    for offset, record in enumerate(frame.to_dict("records")):
        row_no = first_row + offset
        for column, value in record.items():
            if value is FORMULA_WITHOUT_VALUE:
                report.errors.append({"row": row_no, "field": column, "message": (
                    "A formula with no saved result; open the file in Excel or WPS, let it calculate and save it "
                    "(or paste the values).")})
        conv_id = str(record.get("conversation_id", "")).strip()
        if not conv_id:
            report.errors.append({"row": row_no, "field": "conversation_id", "message": "This field is required."})
            continue
        conv = conversations.setdefault(
            conv_id, {"payload": {"external_id": conv_id, "messages": []}, "rows": [], "customer": {}, "agent": {}}
        )
        conv["rows"].append(row_no)
        values = {
            name: record[column] for column, name in CONVERSATION_COLUMNS.items() if not _blank(record.get(column))
        }
        # Validate this row's own conversation-level values, so an error points at the row that has it.
        check = ConversationInSerializer(data={"external_id": conv_id, **values}, partial=True,
                                         context={"from_text": True})
        if not check.is_valid():
            for name, problems in check.errors.items():
                column = next((c for c, n in CONVERSATION_COLUMNS.items() if n == name), name)
                report.errors.append({"row": row_no, "field": column, "message": " ".join(map(str, problems))})
                values.pop(name, None)
        for name, value in values.items():
            column = next(c for c, n in CONVERSATION_COLUMNS.items() if n == name)
            previous = conv["payload"].setdefault(name, value)
            if str(previous) != str(value):
                report.errors.append({
                    "row": row_no, "field": column,
                    "message": f"Conflicts with an earlier row of conversation {conv_id} ({previous!r} vs {value!r}).",
                })
        for columns, target in ((CUSTOMER_COLUMNS, "customer"), (AGENT_COLUMNS, "agent")):
            for column, name in columns.items():
                if not _blank(record.get(column)):
                    conv[target].setdefault(name, record[column])
        message = {c: record[c] for c in MESSAGE_COLUMNS if not _blank(record.get(c))}
        message["_row"] = row_no
        conv["payload"]["messages"].append(message)
    return conversations


def _validate(conversations: dict[str, dict], report: ImportReport) -> list[dict]:
    clean = []
    for conv in conversations.values():
        rows = [m.pop("_row") for m in conv["payload"]["messages"]]
        serializer = ConversationInSerializer(data=conv["payload"], context={"from_text": True})
        if serializer.is_valid():
            clean.append(serializer.validated_data)
            continue
        for name, problems in serializer.errors.items():
            if name == "messages" and isinstance(problems, (list, dict)):
                indexed = problems.items() if isinstance(problems, dict) else enumerate(problems)
                for index, message_errors in indexed:
                    if isinstance(message_errors, str):  # about the messages together (e.g. their seqs)
                        report.errors.append({"row": conv["rows"][0], "field": "seq", "message": str(message_errors)})
                        continue
                    row_no = rows[int(index)]
                    for message_field, texts in (message_errors or {}).items():
                        report.errors.append({"row": row_no, "field": message_field, "message": " ".join(map(str, texts))})
                continue
            column = next((c for c, n in CONVERSATION_COLUMNS.items() if n == name), name)
            text = problems if isinstance(problems, str) else " ".join(map(str, problems if isinstance(problems, list) else [problems]))
            report.errors.append({"row": conv["rows"][0], "field": column, "message": text})
    return clean


def _validate_parties(grouped, party, serializer_class, columns, report) -> list[dict]:
    """Validate the optional customer/agent columns of each conversation's rows."""
    clean = {}
    for conv in grouped.values():
        external_id = conv["payload"].get(party)
        if not conv[party] or _blank(external_id):
            continue
        serializer = serializer_class(data={"external_id": str(external_id), **conv[party]}, context={"from_text": True})
        if serializer.is_valid():
            clean[str(external_id)] = serializer.validated_data
            continue
        for name, problems in serializer.errors.items():
            column = next((c for c, n in columns.items() if n == name), name)
            report.errors.append({"row": conv["rows"][0], "field": column, "message": " ".join(map(str, problems))})
    return list(clean.values())


def conversations_import(
    *, path: str | Path, dry_run: bool = False, batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate the whole file, then write it in one transaction (or roll back for ``dry_run``)."""
    frame, first_row = read_table(path)
    report = ImportReport(n_rows=len(frame), dry_run=dry_run)
    grouped = _group(frame, first_row, report)
    report.n_conversations = len(grouped)
    customers = _validate_parties(grouped, "customer", CustomerInSerializer, CUSTOMER_COLUMNS, report)
    agents = _validate_parties(grouped, "agent", AgentInSerializer, AGENT_COLUMNS, report)
    items = _validate(grouped, report)
    if report.errors:
        report.errors.sort(key=lambda e: (e["row"], e["field"]))
        return report
    with transaction.atomic():
        if customers:
            report.customers = customers_upsert(items=customers)
        if agents:
            report.agents = agents_upsert(items=agents)
        for start in range(0, len(items), batch_size):
            batch = items[start:start + batch_size]
            report.conversations += conversations_upsert(items=batch)
            if progress:
                progress(len(batch))
        if dry_run:
            transaction.set_rollback(True)
    return report
