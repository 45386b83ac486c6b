"""Model versions: each training is kept, one is current, roll back and forward."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcops.classifier.exceptions import ModelFileError
from rcops.classifier.model import current_path, load, load_or_train
from rcops.classifier.training import train_version
from rcops.classifier.versions import current_version, list_versions, use_version, version_path
from rcops.store.settings import Settings

RISKY = "村里好几户被冒充农商行的人骗了，交了解冻金还是放不了款，催收电话天天打"


def make_settings(base: Path) -> Settings:
    (base / "empty-shared").mkdir(exist_ok=True)
    return Settings(_env_file=None, data_dir=base / "var", shared_data_dir=base / "empty-shared")  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str, str]:
    s = make_settings(tmp_path_factory.mktemp("versions"))
    first = train_version(s)
    second = train_version(s)
    return s, first.model.version, second.model.version


def test_each_training_is_a_new_version_and_becomes_current(two_versions: tuple[Settings, str, str]) -> None:
    s, first, second = two_versions
    assert first != second  # same second: the second one gets a suffix
    listed = list_versions(s)
    assert [v.version for v in listed] == [first, second]
    assert [v.current for v in listed] == [False, True]
    assert current_version(s) == second
    assert load(current_path(s)).version == second
    assert all(len(v.data_sha256) == 64 and v.total > 100 for v in listed)
    assert not [p for p in s.model_dir.rglob("*.tmp")]


def test_use_rolls_back_and_forward(two_versions: tuple[Settings, str, str]) -> None:
    s, first, second = two_versions
    model = use_version(s, first)
    assert model.version == first and current_version(s) == first
    assert load_or_train(s).version == first  # what the scheduler loads
    assert [v.current for v in list_versions(s)] == [True, False]
    use_version(s, second)
    assert current_version(s) == second
    # the version files themselves are untouched by switching
    assert load(version_path(s, first)).version == first


def test_unknown_or_corrupt_version_is_refused_and_current_kept(two_versions: tuple[Settings, str, str]) -> None:
    s, first, second = two_versions
    with pytest.raises(ModelFileError, match="没有模型版本"):
        use_version(s, "risk-19990101T000000")
    with pytest.raises(ModelFileError, match="不合法"):
        use_version(s, "../risk-current")
    broken = version_path(s, "risk-broken")
    broken.write_bytes(b"not a model")
    try:
        with pytest.raises(ModelFileError, match="rcops train"):
            use_version(s, "risk-broken")
        assert current_version(s) == second
        assert "risk-broken" not in [v.version for v in list_versions(s)]
    finally:
        broken.unlink()


def test_load_or_train_without_a_model_keeps_it_as_a_version(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    model = load_or_train(s)
    assert [v.version for v in list_versions(s)] == [model.version]
    assert current_version(s) == model.version
    assert model.score_one(RISKY) > 0.5
