"""``rcops grade TEXT --json`` against a database set up by ``rcops init``: the tiers
installed there decide, not the default rules file (in-process, with the seed-only
model of conftest)."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from rcops.pipeline.cli import app
from rcops.store.settings import get_settings

LEAK = "县农商行被曝泄露上万农户的征信信息，个人信息被倒卖，村民接到大量骚扰电话"
# the administrator's own criteria: any leak is Ⅰ, whatever its score
RULES = """
tiers:
  - {code: I, rank: 1, name: 特别重大, color: red, any_of: [{categories_any: [信息泄露/隐私]}]}
  - {code: IV, rank: 4, name: 一般, color: blue, any_of: [{risk_score_min: 0.99}]}
plans:
  - {tier: I, steps: [{title: 电话报告管理方, role: duty_officer, deadline_minutes: 30}]}
  - {tier: IV, steps: [{title: 登记备案, role: duty_officer, deadline_minutes: 1440}]}
"""


@pytest.mark.sqlite_only
def test_grade_json_uses_the_tiers_installed_by_init(settings, seed_trained, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, model, model_file = seed_trained
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    monkeypatch.setenv("RCOPS_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("RCOPS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RCOPS_SHARED_DATA_DIR", str(settings.shared_data_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        res = runner.invoke(app, ["grade", "--json", LEAK])
        assert res.exit_code == 1 and "rcops train" in res.output  # no model yet: a clear message

        settings.model_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_file, settings.model_dir / "risk-current.joblib")
        res = runner.invoke(app, ["grade", "--json", LEAK])
        assert res.exit_code == 0, res.output
        before = json.loads(res.output)
        assert before["rules_from"] == "默认规则文件"  # no database yet

        res = runner.invoke(app, ["init", "--rules", str(rules)])
        assert res.exit_code == 0, res.output
        res = runner.invoke(app, ["grade", "--json", LEAK])
        assert res.exit_code == 0, res.output
        doc = json.loads(res.output)
    finally:
        get_settings.cache_clear()
    assert doc["rules_from"] == "数据库中的分级标准"
    assert doc["score"] == pytest.approx(model.score_one(LEAK), abs=1e-4)
    assert doc["category"] == "信息泄露/隐私"
    assert doc["score"] < 0.99 and before["tier"] != "I"  # the default rules give no Ⅰ for this score
    assert doc["tier"] == "I" and doc["tier_label"] == "Ⅰ级 特别重大"
    assert doc["explanation"]["conditions"] == [{"condition": "categories_any", "label": "风险类别",
                                                 "value": ["信息泄露/隐私"], "threshold": ["信息泄露/隐私"]}]
    assert doc["explanation"]["model_version"] == model.version
    assert "泄露" in doc["explanation"]["category"]["keywords"]
    assert doc["explanation_text"].startswith("Ⅰ级 特别重大（规则组 1）：风险类别命中：信息泄露/隐私")
    assert doc["abusive"] is None  # the seed-only model has no abusive-language model
