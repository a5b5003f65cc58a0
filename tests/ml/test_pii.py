"""Tests for ml.pii: checksum helpers, formats, log filter (the golden corpus: test_pii_golden.py).

Run without Django:
    .venv/bin/python -m pytest tests/ml/test_pii.py -q -p no:django -s
"""

import ast
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ml.pii import (
    PII_TYPES,
    PiiLogFilter,
    find_pii,
    luhn_valid,
    mask_pii,
    prc_id_check_char,
    prc_id_valid,
)

HERE = Path(__file__).resolve().parent
PII_SOURCE = HERE.parents[1] / "ml" / "pii.py"


# --------------------------------------------------------------------------
# Checksum helpers
# --------------------------------------------------------------------------

VALID_ID = "11010519491231002X"  # GB 11643 standard example
VALID_ID_DIGIT = "440305199001011248"
VALID_CARD = "4111111111111111"
VALID_CARD_19 = "6217001234567890122"


def test_prc_id_check_char():
    assert prc_id_check_char(VALID_ID[:17]) == "X"
    assert prc_id_check_char(VALID_ID_DIGIT[:17]) == VALID_ID_DIGIT[17]


def test_prc_id_valid():
    assert prc_id_valid(VALID_ID)
    assert prc_id_valid(VALID_ID.lower())
    assert prc_id_valid(VALID_ID_DIGIT)
    assert prc_id_valid("110105 19491231 002X")
    assert prc_id_valid("110105491231002")  # 15-digit, born 1949-12-31
    assert not prc_id_valid("110105491331002")  # month 13
    assert not prc_id_valid("11010519490231002X".replace("0231", "0230"))  # Feb 30
    assert not prc_id_valid("010105194912310021")  # region cannot start with 0
    assert not prc_id_valid("1101051949123100")  # wrong length


@pytest.mark.parametrize("wrong", "0123456789")
def test_id_with_wrong_check_char_is_not_valid(wrong):
    assert not prc_id_valid(VALID_ID[:17] + wrong)


def test_luhn_valid():
    assert luhn_valid(VALID_CARD)
    assert luhn_valid(VALID_CARD_19)
    assert luhn_valid("4111 1111 1111 1111")
    assert luhn_valid("4111-1111-1111-1111")
    assert luhn_valid("378282246310005")  # Amex test number
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("")


@pytest.mark.parametrize("delta", range(1, 10))
def test_card_with_wrong_check_digit_is_not_masked(delta):
    for good in (VALID_CARD, VALID_CARD_19, "6222021234567890128"):
        assert luhn_valid(good)
        bad = good[:-1] + str((int(good[-1]) + delta) % 10)
        assert not luhn_valid(bad)
        text = f"卡号{bad}已冻结"
        assert mask_pii(text) == text
        text = f"card {bad[:4]} {bad[4:8]} {bad[8:12]} {bad[12:]} declined"
        assert mask_pii(text) == text


def test_id_with_wrong_check_char_is_not_masked_as_id():
    for wrong in "0123456789":
        bad = VALID_ID[:17] + wrong
        kinds = [k for k, _, _ in find_pii(f"身份证{bad}")]
        assert "ID" not in kinds
        if not luhn_valid(bad):
            assert kinds == []


def test_valid_id_is_id_even_if_luhn_valid():
    # Find an 18-digit ID that also passes Luhn: it must still be masked as ID.
    base = "44030519900101"
    for seq in range(1000):
        s17 = f"{base}{seq:03d}"
        cand = s17 + prc_id_check_char(s17)
        if cand[-1] != "X" and luhn_valid(cand):
            break
    else:  # pragma: no cover
        pytest.skip("no ID that also passes Luhn found")
    assert find_pii(f"id {cand}") == [("ID", 3, 21)]


# --------------------------------------------------------------------------
# Chinese characters touching digits, specific formats
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我的手机13800138000谢谢", "我的手机[PHONE]谢谢"),
        ("卡号6222021234567890128已冻结", "卡号[CARD]已冻结"),
        ("身份证11010519491231002X办理", "身份证[ID]办理"),
        ("身份证11010519491231002x办理", "身份证[ID]办理"),
        ("电话+8613800138000联系", "电话[PHONE]联系"),
        ("座机010-12345678转分机", "座机[PHONE]转分机"),
        ("邮箱abc@qq.com谢谢", "邮箱[EMAIL]谢谢"),
        ("卡4111111111111111和手机13912345678", "卡[CARD]和手机[PHONE]"),
        ("号码138 0013 8000。", "号码[PHONE]。"),
        ("号码138-0013-8000。", "号码[PHONE]。"),
    ],
)
def test_chinese_adjacent_digits(text, expected):
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "转账5000元",
        "金额$1,234.56",
        "日期2024-01-15",
        "日期20240115",
        "验证码482913",
        "时间14:30",
        "利率3.85%",
        "邮编100080",
        "2024年",
        "订单号2024011512345678",
        "热线400-820-8820",
        "SF4111111111111111",
        "13800138000138",  # 14 digits, neither a mobile nor Luhn-valid
    ],
)
def test_ordinary_numbers_unchanged(text):
    assert mask_pii(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "+1 415 555 2671",
        "+44 20 7946 0958",
        "+852 9123 4567",
        "(021)87654321",
        "0755-1234567",
        "010-12345678",
        "0086 138 0013 8000",
        "(415) 555-2671",
    ],
)
def test_phone_formats(text):
    assert find_pii(text) == [("PHONE", 0, len(text))]


def test_find_pii_spans_and_order():
    text = "mail a@b.com id 11010519491231002X card 4111 1111 1111 1111 tel 13800138000"
    spans = find_pii(text)
    assert [k for k, _, _ in spans] == ["EMAIL", "ID", "CARD", "PHONE"]
    assert [text[s:e] for _, s, e in spans] == [
        "a@b.com",
        "11010519491231002X",
        "4111 1111 1111 1111",
        "13800138000",
    ]
    assert find_pii("") == []
    assert find_pii("没有任何敏感信息") == []
    assert PII_TYPES == ("EMAIL", "ID", "CARD", "PHONE")


def test_email_made_of_digits_is_email():
    assert mask_pii("13800138000@139.com") == "[EMAIL]"


def test_trailing_unrelated_group_is_not_part_of_card():
    assert mask_pii("卡号4111 1111 1111 1111 20元") == "卡号[CARD] 20元"


# --------------------------------------------------------------------------
# Logging filter
# --------------------------------------------------------------------------


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(self.format(record))


@pytest.fixture
def pii_logger():
    logger = logging.getLogger("tests.ml.test_pii.filter")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = _ListHandler()
    pii_filter = PiiLogFilter()
    logger.addFilter(pii_filter)
    logger.addHandler(handler)
    yield logger, handler
    logger.removeFilter(pii_filter)
    logger.removeHandler(handler)


def test_log_filter_masks_message_and_args(pii_logger):
    logger, handler = pii_logger
    logger.info("客户手机13800138000，卡号%s，邮箱%s", "4111 1111 1111 1111", "x.y@example.com")
    logger.info("id=%(id)s", {"id": "11010519491231002X"})
    logger.info("refund %d yuan for order %s", 5000, "2024011512345678")
    assert handler.messages == [
        "客户手机[PHONE]，卡号[CARD]，邮箱[EMAIL]",
        "id=[ID]",
        "refund 5000 yuan for order 2024011512345678",
    ]
    for msg in handler.messages:
        assert "13800138000" not in msg and "4111" not in msg


def test_log_filter_keeps_record_and_survives_bad_args():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "call %s %s", ("13800138000",), None)
    assert PiiLogFilter().filter(record) is True
    assert "13800138000" not in record.getMessage()
    assert "[PHONE]" in record.getMessage()


# --------------------------------------------------------------------------
# No Django, standard library only
# --------------------------------------------------------------------------


def test_pii_module_imports_only_stdlib():
    tree = ast.parse(PII_SOURCE.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    assert "django" not in roots
    assert roots <= set(sys.stdlib_module_names), roots - set(sys.stdlib_module_names)


def test_pii_module_loads_without_django():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('pii_standalone', {str(PII_SOURCE)!r})\n"
        "mod = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(mod)\n"
        "assert mod.mask_pii('手机13800138000') == '手机[PHONE]'\n"
        "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


FULL_WIDTH = str.maketrans("0123456789+@.", "０１２３４５６７８９＋＠．")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("请拨打13800138000谢谢", "请拨打[PHONE]谢谢"),
        ("+86 138 0013 8000", "[PHONE]"),
        ("卡号4111 1111 1111 1111", "卡号[CARD]"),
        ("邮箱zhang@example.com", "邮箱[EMAIL]"),
        ("身份证11010519491231002X", "身份证[ID]"),
    ],
)
def test_full_width_forms_are_masked_like_ascii(text, expected):
    wide = text.translate(FULL_WIDTH)
    assert wide != text
    assert mask_pii(wide) == expected
    assert [kind for kind, _, _ in find_pii(wide)] == [kind for kind, _, _ in find_pii(text)]


@pytest.mark.parametrize(
    "text",
    ["call me on 07700 900123 please", "office 0161 496 0000", "ring 01632 960983", "mobile 07700-900-123",
     "mobile 07700900123"],
)
def test_uk_national_numbers_are_phones(text):
    assert "[PHONE]" in mask_pii(text)
    assert not re.search(r"\d{3}", mask_pii(text))


@pytest.mark.parametrize("text", ["order 2024-01-01 ref 0123", "room 0712", "version 0.7.1", "07700 9001"])
def test_short_or_dated_numbers_starting_with_zero_are_not_uk_phones(text):
    assert mask_pii(text) == text
