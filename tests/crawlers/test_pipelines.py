"""Pure parts of the pipeline chain (the chain itself runs end to end in test_crawl_e2e)."""

from __future__ import annotations

from rcops.crawlers.pipelines import match_scheme, run_counters
from rcops.crawlers.textutil import clean_text, html_to_text

SCHEME = {
    "name": "农信负面",
    "subject_words": ["农信社", "Rural Bank"],
    "region_words": ["河北"],
    "event_words": ["挤兑", "诈骗"],
    "exclusion_words": ["招聘"],
}


def test_subject_and_event_match_records_words() -> None:
    assert match_scheme(SCHEME, "河北某农信社遭遇挤兑传闻") == {"subject": ["农信社"], "event": ["挤兑"], "region": ["河北"]}


def test_subject_without_event_does_not_match_when_scheme_has_events() -> None:
    assert match_scheme(SCHEME, "农信社举办讲座") is None


def test_scheme_without_event_words_needs_only_a_subject() -> None:
    assert match_scheme({**SCHEME, "event_words": []}, "农信社举办讲座") == {"subject": ["农信社"], "event": [], "region": []}


def test_exclusion_word_vetoes() -> None:
    assert match_scheme(SCHEME, "农信社诈骗案后开展招聘") is None


def test_matching_ignores_latin_case() -> None:
    assert match_scheme(SCHEME, "rural bank 诈骗".casefold()) is not None


def test_run_counters_from_crawl_stats() -> None:
    stats = {
        "rcops/items_seen": 5,
        "rcops/items_stored": 2,
        "rcops/items_irrelevant": 3,
        "rcops/pages_fetched": 1,
        "rcops/reason/不匹配任何监测方案": 3,
        "rcops/replacement_chars": 4,
        "downloader/request_count": 2,
    }
    assert run_counters(stats) == {
        "pages_fetched": 1,
        "items_seen": 5,
        "items_stored": 2,
        "items_duplicate": 0,
        "items_irrelevant": 3,
        "items_invalid": 0,
        "stats": {"不匹配任何监测方案": 3, "乱码页面数": 0, "解码替换字符数": 4},
    }


def test_clean_text_keeps_full_width_punctuation_and_drops_control_chars() -> None:
    raw = "<p>农信社：“谣言！”&nbsp;（记者）</p>\x07<p>第二段\u200b。</p>"
    assert clean_text(html_to_text(raw)) == "农信社：“谣言！” （记者）\n第二段。"


def test_html_to_text_skips_scripts_and_styles() -> None:
    assert clean_text(html_to_text("<div>正文<script>var a='<p>';</script><style>p{}</style>结束</div>")) == "正文结束"


def test_clean_text_fast_path_equals_the_character_by_character_rules() -> None:
    """Text with nothing invisible skips the per-character pass; the result is the same."""
    import re
    import unicodedata

    from hypothesis import given, settings
    from hypothesis import strategies as st

    def reference(value: str, keep_newlines: bool) -> str:
        kept = []
        for ch in value.replace("\r\n", "\n").replace("\r", "\n"):
            cat = unicodedata.category(ch)
            if ch in "\n\t":
                kept.append(ch)
            elif cat == "Zs":
                kept.append(" ")
            elif cat != "Cc" and (cat != "Cf" or ch == "\u200d"):
                kept.append(ch)
        lines = [" ".join(line.split()) for line in "".join(kept).split("\n")]
        if not keep_newlines:
            return " ".join(line for line in lines if line)
        return re.sub(r"\n{2,}", "\n", "\n".join(lines)).strip()

    alphabet = st.sampled_from(list("农信社，。 a\n\t\r") + ["\u3000", "\xa0", "\u200b", "\u200d", "\x07", "\ufeff"])

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet, max_size=30), st.booleans())
    def check(value: str, keep_newlines: bool) -> None:
        assert clean_text(value, keep_newlines=keep_newlines) == reference(value, keep_newlines)

    check()
