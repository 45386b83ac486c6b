"""Data loaders: sizes, labels, de-duplication, and no evaluation text in training."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rcops.classifier.data import (
    eval_sets,
    fingerprint,
    load_finfe,
    load_finfe_training,
    load_finfe3_unseen_eval,
    load_finfe_unseen_eval,
    load_finnsp,
    load_seed,
    load_seed_records,
    load_smp2020,
    training_and_dev,
    training_set,
)
from rcops.classifier.exceptions import ClassifierError, TrainingDataMissing
from rcops.store.settings import Settings
from tests.conftest import SHARED_DATA, needs_shared_data

needs_fincuge = needs_shared_data("fincuge_finance_sentiment")
needs_smp = needs_shared_data("smp2020_ewect_weibo")

CATEGORIES = {"非法集资/诈骗", "信息泄露/隐私", "暴力催收", "贷款不公/拒贷", "系统故障", "工作人员违规", "政策误解", "其他"}


def make_settings(tmp_path: Path, shared: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "var", shared_data_dir=shared)  # type: ignore[call-arg]


# ----------------------------------------------------------------- seed


def test_seed_set_is_large_varied_and_well_formed() -> None:
    records = load_seed_records()
    assert len(records) >= 120
    labels = Counter(r["label"] for r in records)
    assert labels[0] >= 50 and labels[1] >= 50
    assert {r["category"] for r in records} == CATEGORIES
    for r in records:
        assert set(r) == {"title", "text", "label", "category"}
        assert isinstance(r["title"], str)
        assert 40 <= len(r["text"]) <= 200, r["text"]
        assert (r["category"] == "其他") == (r["label"] == 0), r
    assert len({r["text"] for r in records}) == len(records)
    assert len(load_seed()) == len(records)


# ----------------------------------------------------------------- shared data sets


@needs_fincuge
def test_finnsp_sizes_and_header_row_skipped() -> None:
    train = load_finnsp(SHARED_DATA, "train")
    evals = load_finnsp(SHARED_DATA, "eval")
    assert len(train) == 3999
    assert len(evals) == 500
    assert Counter(y for _, y in train) == {1: 2220, 0: 1779}
    assert Counter(y for _, y in evals) == {1: 259, 0: 241}
    assert all(y in (0, 1) for _, y in train)


@needs_fincuge
def test_finnsp_title_is_prefixed_only_when_missing_from_text() -> None:
    raw = json.loads((SHARED_DATA / "fincuge_finance_sentiment" / "finnsp_eval.json").read_text("utf-8"))
    texts = [t for t, _ in load_finnsp(SHARED_DATA, "eval")]
    for row, text in zip(raw, texts, strict=True):
        title, body = row[1].strip(), row[2]
        if title and title not in body:
            assert text == f"{title}。{body}"
        else:
            assert text == body


@needs_fincuge
def test_finfe_labels_and_dedup() -> None:
    train = load_finfe(SHARED_DATA, "train")
    assert len(train) == 16157
    assert sum(y for _, y in train) == 4690  # original label 0 = negative
    dedup = load_finfe_training(SHARED_DATA)
    texts = [t for t, _ in dedup]
    assert len(texts) == len(set(texts))
    assert 11000 < len(dedup) < 11646  # 11,646 distinct texts, minus those with both labels


@needs_fincuge
def test_finfe_unseen_eval() -> None:
    """923 eval rows are absent from train (the number in SOURCE.md); they are 854
    distinct texts, 5 of which carry both labels: 849 examples."""
    unseen = load_finfe_unseen_eval(SHARED_DATA)
    train_texts = {t for t, _ in load_finfe(SHARED_DATA, "train")}
    raw_rows = [t for t, _ in load_finfe(SHARED_DATA, "eval") if t not in train_texts]
    assert len(raw_rows) == 923
    assert len(unseen) == 849
    assert len({t for t, _ in unseen}) == len(unseen)
    assert not {t for t, _ in unseen} & train_texts


@needs_smp
def test_smp2020_mapping() -> None:
    usual = load_smp2020(SHARED_DATA, "usual_test")
    virus = load_smp2020(SHARED_DATA, "virus_test")
    assert len(usual) == 5000 and sum(y for _, y in usual) == 1508 + 900 + 210
    assert len(virus) == 3000 and sum(y for _, y in virus) == 463 + 219 + 190
    with pytest.raises(ValueError):
        load_smp2020(SHARED_DATA, "usual_train")


@needs_fincuge
@needs_smp
def test_no_evaluation_text_is_in_the_training_set(tmp_path: Path) -> None:
    data, desc = training_set(make_settings(tmp_path, SHARED_DATA))
    train_texts = {t for t, _ in data}
    sets = eval_sets(SHARED_DATA)
    assert set(sets) == {"finnsp", "finfe_unseen", "smp2020_usual", "smp2020_virus"}
    for name, examples in sets.items():
        leaked = {t for t, _ in examples} & train_texts
        assert not leaked, f"{name}: {len(leaked)} eval texts in training data"
    assert desc["shared_data_used"] is True
    assert set(desc["sources"]) == {"finnsp_train", "finfe_train_dedup", "smp2020_virus_train", "seed"}
    assert desc["sources"]["smp2020_virus_train"] > 7000
    assert desc["sources"]["seed"] == len(load_seed())
    assert desc["total"] == len(data)
    assert desc["sha256"] == fingerprint(data)
    assert desc["removed_eval_overlap_or_empty"] >= 1  # FinNSP has one train text also in eval


@needs_fincuge
@needs_smp
def test_dev_split_is_carved_from_the_training_splits_only(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, SHARED_DATA)
    data, dev, desc = training_and_dev(settings)
    assert set(dev) == {"finnsp_train", "finfe_train_dedup", "smp2020_virus_train"}  # never seed or operator labels
    train_texts = {t for t, _ in data}
    held_out = {t for examples in eval_sets(SHARED_DATA).values() for t, _ in examples}
    for name, examples in dev.items():
        texts = {t for t, _ in examples}
        assert not texts & train_texts and not texts & held_out, name
        share = len(examples) / (len(examples) + desc["sources"][name])
        assert 0.09 < share < 0.11, name
    assert desc["dev"] == {name: len(examples) for name, examples in dev.items()}
    again, dev2, _ = training_and_dev(settings)
    assert again == data and dev2 == dev  # the same split every time
    three = load_finfe3_unseen_eval(SHARED_DATA)
    assert len(three) == 845 and Counter(y for _, y in three) == {0: 116, 1: 160, 2: 569}


def test_training_set_without_shared_folder_is_seed_plus_extra(tmp_path: Path) -> None:
    empty = tmp_path / "no-shared"
    empty.mkdir()
    extra = [("有人冒充农商行员工上门收取贷款手续费", 1), ("村里今天开信用评定大会", 0)]
    data, desc = training_set(make_settings(tmp_path, empty), extra=extra)
    assert data == load_seed() + extra
    assert desc["shared_data_used"] is False
    assert desc["sources"] == {"seed": len(load_seed()), "operator_labels": 2}
    again, desc2 = training_set(make_settings(tmp_path, empty), extra=extra)
    assert desc2["sha256"] == desc["sha256"]
    with pytest.raises(ValueError):
        training_set(make_settings(tmp_path, empty), extra=[("文本", 3)])


def test_missing_and_corrupt_files_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataMissing, match="找不到数据文件"):
        load_finnsp(tmp_path, "train")
    folder = tmp_path / "fincuge_finance_sentiment"
    folder.mkdir()
    (folder / "finnsp_eval.json").write_text("[[\"a\", ", encoding="utf-8")
    with pytest.raises(TrainingDataMissing, match="不是有效的 UTF-8 JSON"):
        load_finnsp(tmp_path, "eval")
    (folder / "finfe_eval.json").write_text('[["文本", 7]]', encoding="utf-8")
    with pytest.raises(ClassifierError, match="格式不对"):
        load_finfe(tmp_path, "eval")
    with pytest.raises(ValueError):
        load_finnsp(tmp_path, "test")
