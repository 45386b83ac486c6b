"""The risk model: training, scoring, saving, refusing bad files, evaluation."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import joblib
import pytest
import sklearn

from rcops.classifier import model as risk
from rcops.classifier.evaluate import evaluate, format_table, lexicon_predict
from rcops.classifier.exceptions import ModelFileError
from rcops.classifier.model import RiskModel, load, load_or_train, read_metadata, save, train
from rcops.store.settings import Settings
from tests.conftest import SHARED_DATA, needs_shared_data

RISKY = "村里好几户被冒充农商行的人骗了，交了解冻金还是放不了款，催收电话天天打，还说要上门，大家都很害怕"
BENIGN = "县农商行今天举行整村授信仪式，为全村农户发放信用户牌匾，村民代表上台发言，表示今后发展产业更有底气"


def make_settings(base: Path, shared: Path) -> Settings:
    return Settings(_env_file=None, data_dir=base / "var", shared_data_dir=shared)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def seed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("seed-only")
    (base / "empty-shared").mkdir()
    return make_settings(base, base / "empty-shared")


@pytest.fixture(scope="module")
def seed_model(seed_settings: Settings) -> RiskModel:
    return train(seed_settings)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, RiskModel, Path]:
    base = tmp_path_factory.mktemp("full")
    s = make_settings(base, SHARED_DATA)
    model = train(s)
    path = save(model, s.model_dir / "risk-current.joblib")
    return s, model, path


# ----------------------------------------------------------------- seed-only model


def test_seed_only_model_ranks_risky_above_benign(seed_model: RiskModel) -> None:
    assert seed_model.metadata["data"]["shared_data_used"] is False
    assert seed_model.metadata["data"]["sources"] == {"seed": seed_model.metadata["data"]["total"]}
    risky, benign = seed_model.score([RISKY, BENIGN])
    assert risky > benign
    assert risky > 0.5 > benign
    assert 0.0 <= seed_model.score_one("") <= 1.0
    assert seed_model.score([]) == []


def test_version_and_metadata(seed_model: RiskModel) -> None:
    assert seed_model.version.startswith("risk-") and len(seed_model.version) == len("risk-20261203T130501")
    meta = seed_model.metadata
    assert meta["versions"]["sklearn"] == sklearn.__version__
    assert {"jieba", "numpy", "python"} <= set(meta["versions"])
    assert meta["trained_at"].endswith("+00:00")
    assert len(meta["data"]["sha256"]) == 64


def test_save_load_round_trip_gives_identical_scores(seed_model: RiskModel, tmp_path: Path) -> None:
    path = save(seed_model, tmp_path / "m" / "risk.joblib")
    assert [p.name for p in path.parent.iterdir()] == ["risk.joblib"]  # no temp file left
    again = load(path)
    texts = [RISKY, BENIGN, "征信报告有错误记录，申诉两个月没结果", "网贷????爆雷"]
    assert again.score(texts) == seed_model.score(texts)
    assert again.version == seed_model.version
    assert again.metadata == seed_model.metadata
    assert read_metadata(path)["data"]["sha256"] == seed_model.metadata["data"]["sha256"]


def test_corrupt_file_is_refused(seed_model: RiskModel, tmp_path: Path) -> None:
    path = save(seed_model, tmp_path / "risk.joblib")
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ModelFileError, match="rcops train"):
        load(path)
    path.write_bytes(b"not a model at all")
    with pytest.raises(ModelFileError, match="rcops train"):
        load(path)
    joblib.dump({"something": "else"}, path)
    with pytest.raises(ModelFileError, match="rcops train"):
        load(path)
    with pytest.raises(ModelFileError, match="rcops train"):
        load(tmp_path / "missing.joblib")


def test_file_from_another_sklearn_version_is_refused(seed_model: RiskModel, tmp_path: Path) -> None:
    path = save(seed_model, tmp_path / "risk.joblib")
    payload = joblib.load(path)
    payload["metadata"]["versions"]["sklearn"] = "1.2.2"
    joblib.dump(payload, path)
    with pytest.raises(ModelFileError) as err:
        load(path)
    assert "rcops train" in str(err.value)
    assert "1.2.2" in str(err.value) and sklearn.__version__ in str(err.value)


def test_load_or_train_trains_loads_and_replaces_refused_files(
    seed_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    path = seed_settings.model_dir / "risk-current.joblib"
    assert not path.exists()
    first = load_or_train(seed_settings)
    assert path.is_file()
    second = load_or_train(seed_settings)
    assert second.version == first.version
    assert second.score([RISKY]) == first.score([RISKY])

    path.write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING, logger=risk.__name__):
        third = load_or_train(seed_settings)
    assert any("rcops train" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert load(path).version == third.version
    assert third.score_one(RISKY) > third.score_one(BENIGN)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_operator_labels_are_learned(seed_settings: Settings) -> None:
    phrase = "萝卜青菜豆腐汤里有石头"
    extra = [(f"{phrase}，第{i}次反映没人管", 1) for i in range(15)]
    model = train(seed_settings, extra=extra)
    assert model.metadata["data"]["sources"]["operator_labels"] == 15
    assert model.score_one(f"{phrase}，第99次反映没人管") > 0.5


def test_lexicon_baseline() -> None:
    assert lexicon_predict(["平台爆雷老板跑路", "今天天气很好"]) == [1, 0]


# ----------------------------------------------------------------- full model


@needs_shared_data("fincuge_finance_sentiment")
def test_full_model_reaches_target_on_finnsp_and_beats_baselines(
    full: tuple[Settings, RiskModel, Path],
) -> None:
    s, model, path = full
    result = evaluate(model, s, snownlp=False)
    finnsp = result["sets"]["finnsp"]
    assert finnsp["n"] == 500
    assert finnsp["model"]["negative_f1"] >= 0.90
    for name, res in result["sets"].items():
        assert res["model"]["negative_f1"] > res["majority"]["negative_f1"], name
        assert res["model"]["macro_f1"] > res["majority"]["macro_f1"], name
        assert res["model"]["negative_f1"] > res["lexicon"]["negative_f1"], name
    assert model.metadata["metrics"] is result
    assert model.metadata["training_seconds"] < 240  # ~40 s on an idle core
    # FinFE unseen as 3 classes: score bins chosen on the dev split, never on eval
    three = result["finfe_unseen_3class"]
    assert three["n"] == 845 and three["bins"] == {k: model.metadata["finfe_3class_bins"][k] for k in ("low", "high")}
    assert three["model"]["macro_f1"] > max(three["majority"]["macro_f1"], three["lexicon"]["macro_f1"]) + 0.1
    assert set(three["model"]["per_class_f1"]) == {"negative", "neutral", "positive"}
    assert 0.3 <= model.metadata["calibration"]["threshold"] <= 0.7
    table = format_table(result)
    assert "FinNSP" in table and "多数类基线" in table and "关键词基线" in table and "三分类" in table
    print("\n" + table)


@needs_shared_data("fincuge_finance_sentiment")
def test_full_model_file_round_trip(full: tuple[Settings, RiskModel, Path]) -> None:
    s, model, path = full
    assert os.path.getsize(path) > 0
    loaded = load_or_train(s)  # file present: loaded, not retrained
    assert loaded.version == model.version
    texts = ["小资钱包涉嫌诈骗，出借人维权无门", "银行发布年度报告，业绩稳定增长", RISKY, BENIGN]
    assert loaded.score(texts) == model.score(texts)
    assert loaded.score_one(RISKY) > loaded.score_one(BENIGN)


@needs_shared_data("cold_offensive")
def test_full_model_carries_an_abusive_language_flag_measured_on_cold_test(
    full: tuple[Settings, RiskModel, Path],
) -> None:
    from rcops.classifier.abusive import evaluate_abusive

    s, model, path = full
    assert model.abusive is not None and model.category is not None
    assert model.metadata["abusive"]["removed_test_overlap"] >= 1  # test texts never trained on
    result = evaluate_abusive(model.abusive, SHARED_DATA)
    assert result["n"] == 5323
    assert result["model"]["negative_f1"] >= 0.7 > result["majority"]["negative_f1"]
    assert result["model"]["macro_f1"] > result["majority"]["macro_f1"] + 0.3
    again = load(path)  # the companion models are saved in the same file
    texts = ["你这个蠢货，滚回你老家去吧，没人想看见你", "今天农商行在村里开展金融知识宣传活动"]
    assert again.abusive.flag(texts) == [True, False]
    assert again.abusive.proba(texts) == model.abusive.proba(texts)
