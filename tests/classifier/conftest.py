"""A seed-only model (no shared data: seconds to train) shared by the tests of this
folder that need a real model but not its accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcops.classifier.model import RiskModel, save, train
from rcops.store.settings import Settings


@pytest.fixture(scope="session")
def seed_trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, RiskModel, Path]:
    """``(settings, model, saved file)``: trained once per test run on the seed set."""
    base = tmp_path_factory.mktemp("seed-trained")
    (base / "empty-shared").mkdir()
    s = Settings(_env_file=None, data_dir=base / "var", shared_data_dir=base / "empty-shared")  # type: ignore[call-arg]
    model = train(s)
    return s, model, save(model, base / "risk-seed.joblib")
