"""The classifier's commands as a user runs them: train, models, models use,
evaluate [--json], grade [--json]. Real processes; the shared data folder is a
small slice of the real data sets (same files, fewer rows) so training is quick."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA

RCOPS = [sys.executable, "-m", "rcops.pipeline.cli"]
FIN = "fincuge_finance_sentiment"
SMP = "smp2020_ewect_weibo"
FRAUD = "多名村民接到冒充农商行客服的电话，被要求先交解冻金才能放款，交钱后对方失联，涉嫌诈骗"

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / FIN).is_dir() or not (SHARED_DATA / SMP).is_dir() or not (SHARED_DATA / "cold_offensive").is_dir(),
    reason="缺少共享数据",
)


def _slice_json(src: Path, dst: Path, n: int) -> None:
    rows = json.loads(src.read_text(encoding="utf-8"))
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(rows[:n], ensure_ascii=False), encoding="utf-8")


def _slice_csv(src: Path, dst: Path, n: int) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with src.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    with dst.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows[: n + 1])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("cli")
    shared = base / "shared"
    for name, n in (("finnsp_train", 600), ("finnsp_eval", 80), ("finfe_train", 600), ("finfe_eval", 300)):
        _slice_json(SHARED_DATA / FIN / f"{name}.json", shared / FIN / f"{name}.json", n)
    for name in ("usual_test_labeled", "virus_test_labeled"):
        _slice_json(SHARED_DATA / SMP / f"{name}.json", shared / SMP / f"{name}.json", 60)
    for name, n in (("train", 1500), ("test", 200)):
        _slice_csv(SHARED_DATA / "cold_offensive" / f"{name}.csv", shared / "cold_offensive" / f"{name}.csv", n)
    e = {k: v for k, v in os.environ.items() if not k.startswith("RCOPS_")}
    e.update({"RCOPS_DATA_DIR": str(base / "var"), "RCOPS_SHARED_DATA_DIR": str(shared)})
    return e


def rcops(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RCOPS, *args], env=env, capture_output=True, text=True, timeout=300, cwd=Path(env["RCOPS_DATA_DIR"]).parent)


def test_train_models_use_evaluate_and_grade(env: dict[str, str]) -> None:
    # nothing trained yet: a clear message, exit code 1
    res = rcops(env, "grade", FRAUD)
    assert res.returncode == 1 and "rcops train" in res.stderr

    first = rcops(env, "train")
    assert first.returncode == 0, first.stderr
    assert "已保存并设为当前版本" in first.stdout and "FinNSP" in first.stdout
    second = rcops(env, "train")
    assert second.returncode == 0, second.stderr

    listed = json.loads(rcops(env, "models", "--json").stdout)
    assert len(listed) == 2 and [v["current"] for v in listed] == [False, True]
    assert set(listed[0]["negative_f1"]) == {"finnsp", "finfe_unseen", "smp2020_usual", "smp2020_virus"}
    table = rcops(env, "models").stdout
    assert "★ " + listed[1]["version"] in table

    used = rcops(env, "models", "use", listed[0]["version"])
    assert used.returncode == 0, used.stderr
    assert [v["current"] for v in json.loads(rcops(env, "models", "--json").stdout)] == [True, False]
    bad = rcops(env, "models", "use", "risk-19990101T000000")
    assert bad.returncode == 1 and "没有模型版本" in bad.stderr

    res = rcops(env, "evaluate", "--json", "--no-snownlp")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert {"finnsp", "finfe_unseen", "smp2020_usual", "smp2020_virus"} <= set(doc)
    assert doc["_meta"]["model_version"] == listed[0]["version"]
    for name in ("finnsp", "finfe_unseen", "smp2020_usual", "smp2020_virus"):
        for method in ("model", "majority", "lexicon"):
            assert {"negative_f1", "macro_f1", "precision", "recall"} <= set(doc[name][method]), (name, method)
        assert doc[name]["majority"]["recall"] in (0.0, 1.0)  # one class for every text
    assert doc["finnsp"]["model"]["negative_f1"] > doc["finnsp"]["lexicon"]["negative_f1"] - 0.1
    assert {"model", "majority"} <= set(doc["cold_offensive"]) and doc["cold_offensive"]["n"] == 200
    assert {"model", "majority", "lexicon"} <= set(doc["finfe_unseen_3class"])
    assert 0.0 <= doc["finfe_unseen_3class"]["model"]["macro_f1"] <= 1.0
    assert doc["category_cv"]["combined"]["macro_f1"] > doc["category_cv"]["rules"]["macro_f1"]
    plain = rcops(env, "evaluate", "--no-snownlp").stdout
    assert "SMP2020 疫情测试集" in plain and "关键词基线" in plain and "COLD" in plain and "交叉验证" in plain
    assert "三分类" in plain

    res = rcops(env, "grade", "--json", FRAUD)
    assert res.returncode == 0, res.stderr
    g = json.loads(res.stdout)
    assert g["category"] == "非法集资/诈骗" and 0.0 <= g["score"] <= 1.0
    assert g["rules_from"] == "默认规则文件"  # no database initialised
    assert "冒充" in g["explanation"]["category"]["keywords"]
    assert isinstance(g["abusive"], bool)
    assert g["explanation_text"]
    plain = rcops(env, "grade", FRAUD).stdout
    assert "类别：非法集资/诈骗" in plain and "解释：" in plain and "风险分：" in plain

    empty = rcops(env, "grade", "  ")
    assert empty.returncode == 1 and "文本为空" in empty.stderr


def test_corrupt_current_model_is_refused_with_a_hint(env: dict[str, str], tmp_path: Path) -> None:
    e = dict(env, RCOPS_DATA_DIR=str(tmp_path / "var"))
    (tmp_path / "var" / "models").mkdir(parents=True)
    (tmp_path / "var" / "models" / "risk-current.joblib").write_bytes(b"garbage")
    res = rcops(e, "grade", FRAUD)
    assert res.returncode == 1 and "rcops train" in res.stderr and "Traceback" not in res.stderr
