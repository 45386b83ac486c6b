from __future__ import annotations

import pytest
from stdnum import luhn

from rcops.crawlers.masking import mask_personal_data

CARD16_BODY = "622848001234567"
CARD16 = CARD16_BODY + luhn.calc_check_digit(CARD16_BODY)


def test_id_number_keeps_region_and_last_four() -> None:
    assert mask_personal_data("身份证号11010119900307123X。") == ("身份证号110101********123X。", 1)


def test_id_number_with_wrong_check_digit_is_still_masked() -> None:
    # 11010119900307123X is valid; ending in 5 is not — still personal data
    masked, count = mask_personal_data("号码 110101199003071235 有误")
    assert (masked, count) == ("号码 110101********1235 有误", 1)


def test_eighteen_digits_without_a_birth_date_are_left_alone() -> None:
    assert mask_personal_data("订单 110101199013451234")[1] == 0  # month 13
    assert mask_personal_data("流水号 1234567890123456789012")[1] == 0  # 22 digits


def test_mobile_numbers_with_and_without_prefix() -> None:
    text = "联系 13812345678、+86 139-1234-5678 或 8615912345678"
    masked, count = mask_personal_data(text)
    assert masked == "联系 138****5678、+86 139-****-5678 或 86159****5678"
    assert count == 3


def test_mobile_inside_longer_digit_run_is_not_a_mobile() -> None:
    assert mask_personal_data("编号 9913812345678")[1] == 0
    assert mask_personal_data("编号 138123456789")[1] == 0


def test_landline_is_not_masked() -> None:
    assert mask_personal_data("电话 010-12345678")[1] == 0


def test_bank_card_contiguous_and_grouped() -> None:
    grouped = " ".join(CARD16[i : i + 4] for i in range(0, 16, 4))
    masked, count = mask_personal_data(f"卡号 {CARD16}，另一张 {grouped}")
    assert count == 2
    assert f"{CARD16[:4]}********{CARD16[-4:]}" in masked
    assert f"{CARD16[:4]} **** **** {CARD16[-4:]}" in masked


def test_card_failing_luhn_is_left_alone() -> None:
    wrong = CARD16[:-1] + str((int(CARD16[-1]) + 1) % 10)
    assert mask_personal_data(f"编号 {wrong}")[1] == 0


def test_full_width_text_is_untouched() -> None:
    text = "农信社：“储户资金安全，请勿轻信谣言！”（记者 张三）"
    assert mask_personal_data(text) == (text, 0)


@pytest.mark.parametrize("value", ["", "无数字", "2024年4月30日 10:00"])
def test_nothing_to_mask(value: str) -> None:
    assert mask_personal_data(value) == (value, 0)


def test_masking_is_idempotent() -> None:
    once, _ = mask_personal_data(f"11010119900307123X 13812345678 {CARD16}")
    assert mask_personal_data(once) == (once, 0)
