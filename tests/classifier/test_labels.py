"""Learning from operators: confirmations, corrections and dismissals stored as
GradeLabel rows become training examples that change the model; grading stores
the category on the mention and explains it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from rcops.classifier.labels import operator_examples
from rcops.classifier.model import RiskModel, train
from rcops.classifier.training import train_version
from rcops.operations.accounts import create_user
from rcops.plans.schema import load_rules_file
from rcops.plans.store_io import install_rules
from rcops.store.models import Incident, Mention, Source, utcnow
from rcops.store.settings import Settings
from rcops.triage import service
from rcops.triage.engine import process_pending

# a story the seed set knows nothing about, told without any risky keyword
ODD_TITLE = "合作社仓库门口的萝卜摊又被挪走了"
ODD_TEXT = "合作社仓库门口的萝卜摊第三次被挪到路对面，摊主找了两回都没有下文，大家议论纷纷。"
FRAUD_TITLE = "村民被冒充农商行的人骗走解冻金"
FRAUD_TEXT = "多名村民接到冒充农商行客服的电话，被要求先交解冻金和保证金才能放款，交钱后对方失联，已向派出所报案，涉嫌诈骗。"


@pytest.fixture(scope="module")
def seed_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, RiskModel]:
    base = tmp_path_factory.mktemp("labels")
    (base / "empty").mkdir()
    s = Settings(_env_file=None, data_dir=base / "var", shared_data_dir=base / "empty")  # type: ignore[call-arg]
    return s, train(s)


def add_accounts(session_factory) -> None:  # type: ignore[no-untyped-def]
    """The administrator and the two operators these tests act as."""
    with session_factory.begin() as s:
        create_user(s, "admin", "admin", "admin-password-1")
        for name in ("张三", "李四"):
            create_user(s, name, "operator", "operator-password-1")


class Forced:
    """Wraps the real model but forces one score, so a benign-looking text opens an incident."""

    def __init__(self, model: RiskModel, score: float) -> None:
        self.model, self.forced, self.version = model, score, model.version

    def score(self, texts: list[str]) -> list[float]:
        return [self.forced for _ in texts]


def add_mention(s, n: int, title: str, text: str) -> Mention:  # type: ignore[no-untyped-def]
    src = s.scalars(select(Source)).first()
    m = Mention(source_id=src.id, url=f"http://127.0.0.1/{n}", canonical_url=f"http://127.0.0.1/{n}",
                content_hash=f"h{n}", title=title, text=text, crawled_at=utcnow())
    s.add(m)
    s.flush()
    return m


def test_grading_stores_category_and_explains_it(session_factory, seed_model) -> None:  # type: ignore[no-untyped-def]
    _, model = seed_model
    add_accounts(session_factory)
    with session_factory.begin() as s:
        install_rules(s, load_rules_file(), "admin")
        s.add(Source(key="news", name="县融媒体", kind="rss", url="http://127.0.0.1/feed", media_level="municipal"))
    with session_factory.begin() as s:
        add_mention(s, 1, FRAUD_TITLE, FRAUD_TEXT)
        process_pending(s, model)
    with session_factory() as s:
        m = s.scalars(select(Mention)).one()
        assert m.category == "非法集资/诈骗"
        assert m.abusive is None  # the seed-only model has no abusive-language model
        assert m.grade_explanation["category"]["keywords"]  # which keywords decided it
        assert "解冻金" in m.grade_explanation["category"]["reason"]
        assert m.risk_score == pytest.approx(model.score_one(f"{FRAUD_TITLE}。{FRAUD_TEXT}"))


def test_operator_labels_become_examples_and_change_the_model(session_factory, seed_model) -> None:  # type: ignore[no-untyped-def]
    settings, model = seed_model
    add_accounts(session_factory)
    with session_factory.begin() as s:
        install_rules(s, load_rules_file(), "admin")
        s.add(Source(key="news", name="县融媒体", kind="rss", url="http://127.0.0.1/feed", media_level="municipal"))
    with session_factory.begin() as s:
        add_mention(s, 1, ODD_TITLE, ODD_TEXT)
        process_pending(s, Forced(model, 0.95))
    with session_factory.begin() as s:
        add_mention(s, 2, FRAUD_TITLE, FRAUD_TEXT)
        process_pending(s, Forced(model, 0.95))
    with session_factory() as s:
        odd_id, fraud_id = (s.scalars(select(Incident.id).order_by(Incident.id)).all())
    with session_factory.begin() as s:
        service.confirm_tier(s, odd_id, actor="张三")
    with session_factory.begin() as s:
        service.dismiss(s, fraud_id, actor="李四", reason="演练信息，不是真实事件")

    with session_factory() as s:
        examples = operator_examples(s)
    by_label = {e.label: e for e in examples}
    assert len(examples) == 2
    assert (by_label[1].actor, by_label[1].kind) == ("张三", "confirm")
    assert (by_label[0].actor, by_label[0].kind) == ("李四", "dismiss")
    assert by_label[1].text == f"{ODD_TITLE}。{ODD_TEXT}" and by_label[1].at is not None

    # one labelled mention is a drop in 300; repeat it as operators would across a story
    result = train_version(settings, examples * 8, make_current=False)
    odd, fraud = f"{ODD_TITLE}。{ODD_TEXT}", f"{FRAUD_TITLE}。{FRAUD_TEXT}"
    before = model.score([odd, fraud])
    after = result.model.score([odd, fraud])
    assert after[0] > before[0] + 0.1
    assert after[1] < before[1] - 0.1
    kept = result.model.metadata["operator_labels"]
    assert kept["count"] == 16 and kept["actors"] == ["张三", "李四"]
    assert result.model.metadata["data"]["sources"]["operator_labels"] == 16
    assert Path(result.path).is_file()
