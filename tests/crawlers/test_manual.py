"""Manual monitoring (人工监测): CSV/Excel import, all or nothing, and one hand-entered mention."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from rcops.crawlers.manual import DuplicateMention, ManualImportError, add_manual_mention, import_mentions
from rcops.crawlers.sources import load_monitoring_config
from rcops.store.models import AuditEvent, Mention

NOW = datetime(2024, 5, 1, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai
HEADER = ["标题", "正文", "链接", "发布时间", "来源", "传播量"]
STORY = "河北某县农信社被曝暴力催收，借款人手机 13812345678 被反复拨打，当地金融办已介入调查，要求限期整改并公开回应。"


def write_csv(path: Path, rows: list[list[object]], header: list[str] = HEADER, encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def count(session_factory) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count(Mention.id))) or 0)


@pytest.fixture
def operators(session_factory) -> None:
    """Importing is an operator's act, under their own name (mentions.import)."""
    from rcops.operations.accounts import create_user

    with session_factory.begin() as s:
        for name in ("operator-a", "operator-b", "op"):
            create_user(s, name, "operator", "operator-pass-2026")


@pytest.fixture
def schemes(session_factory, operators) -> None:
    with session_factory.begin() as s:
        load_monitoring_config(
            s,
            {
                "sources": [{"key": "county-news", "name": "县融媒体", "kind": "rss", "url": "https://news.example.org/rss"}],
                "schemes": [{"name": "农信负面", "subject_words": ["农信社"], "event_words": ["催收", "挤兑"]}],
            },
            "tester",
        )


def test_csv_rows_are_imported_masked_matched_and_audited(session_factory, schemes, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "m.csv",
        [
            ["农信社暴力催收", STORY, "https://m.example.org/a/1?utm_source=wx#top", "2024-04-30 10:00", "县融媒体", "1.2万"],
            ["", "群友转发：某农商银行网点排长队，疑似挤兑。", "", "昨天 14:03", "某微信群", ""],
            ["", "", "", "", "", ""],  # a blank row is skipped
        ],
    )
    with session_factory.begin() as s:
        result = import_mentions(s, path, "operator-a", now=NOW)
    assert (result["imported"], result["duplicates"], result["repeated"], result["blank"]) == (2, 0, 0, 1)
    with session_factory() as s:
        first, second = s.scalars(select(Mention).order_by(Mention.id)).all()
        assert first.origin == "manual" and first.source is not None and first.source.key == "county-news"
        assert "13812345678" not in first.text and "138****5678" in first.text and first.masked_count == 1
        assert first.reach == 12000
        assert first.canonical_url == "https://example.org/a/1"
        assert first.published_at == datetime(2024, 4, 30, 2, 0, tzinfo=timezone.utc)
        assert first.matched == {"农信负面": {"subject": ["农信社"], "event": ["催收"], "region": []}}
        assert second.source_id is None and second.source_name == "某微信群"
        assert second.title.startswith("群友转发")  # made from the text
        assert second.published_at == datetime(2024, 4, 30, 6, 3, tzinfo=timezone.utc)
        assert second.url == "" and second.canonical_url.startswith("manual:")
        assert second.matched == {}  # kept although no scheme matches: a person chose it
        actions = s.execute(
            select(AuditEvent.entity_type, AuditEvent.action, AuditEvent.actor).where(AuditEvent.actor == "operator-a")
        ).all()
        assert sorted(actions) == [("mention", "manual_add", "operator-a")] * 2 + [("mention_import", "import", "operator-a")]


def test_one_bad_row_imports_nothing_and_every_problem_names_its_row(session_factory, schemes, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        [
            ["好的一行", STORY, "https://example.org/ok", "2024-04-30", "", "5"],
            ["缺正文", "", "https://example.org/x", "", "", ""],
            ["坏链接", "正文", "ftp://example.org/y", "下周三", "", "-3"],
            ["好的另一行", "另一条正文", "", "", "", ""],
        ],
    )
    with pytest.raises(ManualImportError) as info:
        with session_factory.begin() as s:
            import_mentions(s, path, "operator-a", now=NOW)
    assert info.value.problems == [
        "第 3 行：缺少正文",
        "第 4 行：链接不是 http:// 或 https:// 地址：ftp://example.org/y",
        "第 4 行：发布时间无法识别：下周三（示例：2024-05-01 08:30、2024年5月1日、昨天 14:03）",
        "第 4 行：传播量必须是不小于 0 的整数：-3",
    ]
    assert "未导入任何信息" in info.value.summary
    assert count(session_factory) == 0
    with session_factory() as s:
        assert s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.actor == "operator-a")) == 0


def test_excel_with_english_headers_date_cells_and_duplicates(session_factory, schemes, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Title", "Text", "URL", "Published_At", "Source", "Reach", "备注"])
    ws.append(["农信社暴力催收", STORY, "https://example.org/a/1", datetime(2024, 4, 30, 10, 0), "county-news", 300])
    ws.append(["同一链接", "另一段话", "https://www.example.org/a/1?spm=1", None, None, None])  # same link in the file
    ws.append([None, "第三条：农信社挤兑传闻不实。", None, "2024年4月29日", None, 7.0])
    path = tmp_path / "m.xlsx"
    wb.save(path)
    with session_factory.begin() as s:
        result = import_mentions(s, path, "operator-b", now=NOW)
    assert (result["imported"], result["repeated"], result["ignored_columns"]) == (2, 1, ["备注"])
    with session_factory() as s:
        first = s.scalars(select(Mention).order_by(Mention.id)).first()
        assert first.published_at == datetime(2024, 4, 30, 2, 0, tzinfo=timezone.utc)  # Excel time is Shanghai time
        assert first.reach == 300
    # importing again stores nothing new
    with session_factory.begin() as s:
        again = import_mentions(s, path, "operator-b", now=NOW)
    assert (again["imported"], again["duplicates"], again["repeated"]) == (0, 2, 1)
    assert count(session_factory) == 2


def test_gbk_csv_as_excel_saves_it_on_chinese_windows(session_factory, operators, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", [["标题", STORY, "", "", "", ""]], encoding="gb18030")
    with session_factory.begin() as s:
        assert import_mentions(s, path, "op", now=NOW)["imported"] == 1
    with session_factory() as s:
        assert s.scalars(select(Mention.title)).one() == "标题"


def test_header_without_text_column_or_unknown_file_type_is_refused(session_factory, operators, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", [["a", "b"]], header=["标题", "链接"])
    with pytest.raises(ManualImportError, match="缺少“正文”列"):
        with session_factory.begin() as s:
            import_mentions(s, path, "op", now=NOW)
    other = tmp_path / "m.txt"
    other.write_text("标题,正文\n", encoding="utf-8")
    with pytest.raises(ManualImportError, match=r"不支持的文件类型 \.txt"):
        with session_factory.begin() as s:
            import_mentions(s, other, "op", now=NOW)


def test_one_hand_entered_mention(session_factory, schemes) -> None:
    values = {"title": "农信社催收", "text": STORY, "url": "https://example.org/z", "published_at": "3小时前", "reach": "12"}
    with session_factory.begin() as s:
        mention = add_manual_mention(s, values, "operator-c", now=NOW)
        assert mention.id is not None and mention.origin == "manual" and mention.reach == 12
        assert mention.is_first_source and mention.spread_rank == 1
    with pytest.raises(DuplicateMention, match="该信息已存在"):
        with session_factory.begin() as s:
            add_manual_mention(s, {**values, "url": "https://example.org/z?utm_medium=x"}, "operator-c", now=NOW)
    with pytest.raises(ManualImportError, match="缺少正文"):
        with session_factory.begin() as s:
            add_manual_mention(s, {"title": "只有标题"}, "operator-c", now=NOW)
    assert count(session_factory) == 1


def test_the_same_text_seen_elsewhere_is_a_repost_but_without_a_link_a_repeat(session_factory, schemes) -> None:
    values = {"title": "农信社催收", "text": STORY, "url": "https://example.org/z", "published_at": "3小时前"}
    with session_factory.begin() as s:
        first = add_manual_mention(s, values, "operator-c", now=NOW)
        repost = add_manual_mention(s, {**values, "url": "https://weibo.example.cn/p/1", "published_at": "1小时前"},
                                    "operator-c", now=NOW)
        assert repost.story_key == first.story_key and (repost.is_first_source, repost.spread_rank) == (False, 2)
    with pytest.raises(DuplicateMention) as info:
        with session_factory.begin() as s:
            add_manual_mention(s, {**values, "url": ""}, "operator-c", now=NOW)
    assert "内容相同（未填链接）" in info.value.problems[0]
    assert count(session_factory) == 2


def test_importing_needs_an_account_allowed_to_import(session_factory, operators, tmp_path: Path) -> None:
    from rcops.operations.accounts import create_user
    from rcops.store.access import PermissionDenied

    path = write_csv(tmp_path / "m.csv", [["标题", "信用社网点排长队", "", "", "", ""]])
    with session_factory.begin() as s:
        create_user(s, "bank", "institution", "bank-pass-2026")
    for actor, why in (("bank", "无权导入人工监测信息"), ("ghost", "不存在或已停用"), ("", "未指明操作人")):
        with pytest.raises(PermissionDenied, match=why), session_factory.begin() as s:
            import_mentions(s, path, actor, now=NOW)
    assert count(session_factory) == 0
