import io
import json

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from apps.conversations.imports import conversations_import
from apps.conversations.models import Conversation, Message
from apps.customers.models import Customer

pytestmark = pytest.mark.django_db


def rows(n_conversations=250):
    out = []
    for i in range(n_conversations):
        base = {
            "conversation_id": f"K{i:05d}", "customer_id": f"U{i % 40}", "agent_id": f"A{i % 5}",
            "channel": "phone", "started_at": "2026-11-02T09:00:00+08:00", "csat": str(1 + i % 5),
            "customer_name": "王小明", "customer_age": "41", "agent_name": f"Agent {i % 5}",
        }
        out.append({**base, "seq": "0", "speaker": "customer", "text": f"信用卡{i}还款日是哪天？我的邮箱 a{i}@example.com"})
        out.append({**base, "seq": "1", "speaker": "agent", "text": "您的还款日是每月5日"})
    return out


def write(tmp_path, data, name="conv.csv"):
    path = tmp_path / name
    frame = pd.DataFrame(data)
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    elif name.endswith(".xlsx"):
        frame.to_excel(path, index=False)
    elif name.endswith(".jsonl"):
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in data), encoding="utf-8")
    return path


def run(path, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_conversations", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_three_bad_rows_among_500_write_nothing(tmp_path):
    data = rows(250)
    data[10]["csat"] = "7"            # row 12
    data[201]["speaker"] = "robot"    # row 203
    data[402]["started_at"] = "soon"  # row 404
    path = write(tmp_path, data)
    with pytest.raises(CommandError) as info:
        run(path)
    assert info.value.returncode == 1
    assert "rows 12, 203, 404" in str(info.value)
    assert Conversation.objects.count() == Message.objects.count() == Customer.objects.count() == 0


def test_import_is_idempotent_and_masks_pii(tmp_path):
    path = write(tmp_path, rows(20))
    out, _ = run(path)
    assert "20 created" in out
    assert Message.objects.count() == 40
    assert not Message.objects.filter(text__contains="@example.com").exists()
    assert Customer.objects.get(external_id="U1").display_name == "王**"
    out, _ = run(path)
    assert "0 created, 0 updated, 20 unchanged" in out
    assert Message.objects.count() == 40


def test_dry_run_writes_nothing(tmp_path):
    out, _ = run(write(tmp_path, rows(5)), "--dry-run")
    assert "Dry run" in out and "5 created" in out
    assert Conversation.objects.count() == 0


@pytest.mark.parametrize("name", ["conv.xlsx", "conv.jsonl"])
def test_other_formats(tmp_path, name):
    run(write(tmp_path, rows(3), name))
    assert Conversation.objects.count() == 3


def test_missing_column_is_a_usage_error(tmp_path):
    data = [{k: v for k, v in r.items() if k != "speaker"} for r in rows(2)]
    with pytest.raises(CommandError) as info:
        run(write(tmp_path, data))
    assert info.value.returncode == 2 and "speaker" in str(info.value)


def test_empty_and_unknown_files(tmp_path):
    empty = tmp_path / "e.csv"
    empty.write_text("conversation_id,customer_id,started_at,speaker,text\n")
    with pytest.raises(CommandError) as info:
        run(empty)
    assert info.value.returncode == 2
    with pytest.raises(CommandError) as info:
        run(tmp_path / "x.txt")
    assert info.value.returncode == 2


def test_conflicting_conversation_fields_are_reported(tmp_path):
    data = rows(1)
    data[1]["channel"] = "web"
    with pytest.raises(CommandError) as info:
        run(write(tmp_path, data))
    assert "rows 3" in str(info.value)


def test_duplicate_or_partly_missing_seqs_are_reported_on_the_conversation_row(tmp_path):
    data = rows(5)
    data[3]["seq"] = "0"   # conversation K00001 (rows 4-5): seq 0 twice
    data[5]["seq"] = ""    # conversation K00002 (rows 6-7): one seq missing
    with pytest.raises(CommandError) as info:
        run(write(tmp_path, data))
    assert info.value.returncode == 1
    assert "rows 4, 6" in str(info.value)
    assert Conversation.objects.count() == Message.objects.count() == 0


def test_a_zip_renamed_xlsx_is_a_clear_usage_error(tmp_path):
    import zipfile

    path = tmp_path / "conversations.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with pytest.raises(CommandError) as info:
        run(path)
    assert info.value.returncode == 2 and "not a valid XLSX" in str(info.value)
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"\x00\x01not a zip at all" * 10)
    with pytest.raises(CommandError) as info:
        run(garbage)
    assert info.value.returncode == 2 and "garbage.xlsx" in str(info.value)


def test_xlsx_formulas_without_saved_values_are_bad_rows(tmp_path):
    from openpyxl import Workbook

    data = rows(2)
    columns = list(data[0])
    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for record in data:
        ws.append([record[c] for c in columns])
    ws.cell(row=3, column=columns.index("text") + 1, value="=CONCAT(\"a\",\"b\")")  # never calculated
    path = tmp_path / "formulas.xlsx"
    wb.save(path)
    with pytest.raises(CommandError) as info:
        run(path)
    assert info.value.returncode == 1
    assert not Conversation.objects.exists()
    report = conversations_import(path=path)
    assert [(e["row"], e["field"]) for e in report.errors if "formula" in e["message"]] == [(3, "text")]


def test_a_gbk_csv_is_detected_and_imported(tmp_path):
    data = rows(4)
    for record in data:
        record["text"] = "您好，我想查询一下我的账户余额，谢谢您的帮助"
    path = tmp_path / "gbk.csv"
    pd.DataFrame(data).to_csv(path, index=False, encoding="gbk")
    out, _ = run(path)
    assert "created" in out
    assert Message.objects.filter(text__contains="账户余额").exists()


def test_a_file_in_another_encoding_gets_a_save_as_utf8_message(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("conversation_id,customer_id,started_at,speaker,text\n".encode()
                     + b"c1,u1,2026-11-01T10:00:00+08:00,customer,\xff\xfe\x00\x81\x7f\xff\n")
    with pytest.raises(CommandError) as info:
        run(path)
    assert info.value.returncode == 2 and "UTF-8" in str(info.value)
