"""Tokeniser: domain words stay whole, noise is dropped, pickling works, the jieba
cache goes to the configured folder and first use is thread-safe."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from rcops.classifier.data import load_seed
from rcops.classifier.tokenizer import normalize, tokenize

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text, word",
    [
        ("昨晚又遭遇暴力催收，电话打到单位", "暴力催收"),
        ("我们村被评为信用村了", "信用村"),
        ("去农商行申请助农贷", "助农贷"),
        ("村镇银行说我征信有逾期", "村镇银行"),
        ("这家网贷平台爆雷，老板跑路了", "爆雷"),
        ("有人收钱做征信修复", "征信修复"),
    ],
)
def test_domain_words_stay_whole(text: str, word: str) -> None:
    assert word in tokenize(text)


def test_stop_words_punctuation_and_spaces_are_dropped() -> None:
    tokens = tokenize("我们的 贷款，被拒了！！  …… 为什么？")
    assert "的" not in tokens and "我们" not in tokens
    assert not any(t.strip() == "" or t in "，！？…。" for t in tokens)
    assert "贷款" in tokens


def test_negations_are_kept() -> None:
    assert "不" in tokenize("农商行不给贷款") or "不给" in tokenize("农商行不给贷款")
    assert "没有" in tokenize("我没有逾期")


def test_normalize_drops_urls_and_lost_characters() -> None:
    out = normalize("网贷爆雷????  详情 http://t.cn/R3kIaz5 ")
    assert "http" not in out and "???" not in out and "  " not in out


@hsettings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_tokens_are_never_blank_or_pure_punctuation(text: str) -> None:
    for tok in tokenize(normalize(text)):
        assert tok.strip()
        assert any(ch.isalnum() for ch in tok)


def test_pipeline_using_tokenize_pickles_by_reference() -> None:
    seed = load_seed()
    texts, labels = [t for t, _ in seed], [y for _, y in seed]
    pipe = Pipeline(
        [
            ("tfidf", TfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False)),
            ("clf", LogisticRegression()),
        ]
    )
    pipe.fit(texts, labels)
    blob = pickle.dumps(pipe)
    assert b"rcops.classifier.tokenizer" in blob and b"tokenize" in blob
    again = pickle.loads(blob)
    assert (again.predict_proba(texts[:10]) == pipe.predict_proba(texts[:10])).all()


def test_cache_goes_to_configured_folder_with_read_only_home_and_threads(tmp_path: Path) -> None:
    """A fresh process: HOME not writable, cache folder configured, eight threads cut
    at once on first use — all get the same tokens and one cache file is written."""
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)
    cache = tmp_path / "cache"
    script = textwrap.dedent(
        f"""
        import sys, threading
        from rcops.classifier import tokenizer
        tokenizer.configure({str(cache)!r})
        out = [None] * 8
        def work(i):
            out[i] = tokenizer.tokenize("信用户遭遇暴力催收，助农贷逾期了")
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        assert all(o == out[0] for o in out), out
        assert "暴力催收" in out[0], out[0]
        print("OK")
        """
    )
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    finally:
        home.chmod(0o700)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "OK"
    assert (cache / "rcops-jieba.cache").is_file()
    assert not any(home.iterdir())
