"""Found in testing, now fixed: the 信息源 editor keeps the definition it first loaded; saving it later undoes a colleague's change."""

from __future__ import annotations

from sqlalchemy import select

from rcops.operations import monitoring
from rcops.store.models import MonitoringScheme, Source

from .test_console import start
from .test_console_actions import goto


def test_saving_a_stale_source_definition_does_not_undo_a_colleagues_change(console, session_factory):
    at = goto(start("admin"), "sources")
    text = at.text_area(key="src_yaml_county_news").value
    assert "interval_seconds: 600" in text

    with session_factory.begin() as s:  # another administrator changes the period meanwhile
        entry = monitoring.source_definition(s, "county_news")
        entry["interval_seconds"] = 900
        monitoring.save_sources(s, {"sources": [entry]}, "admin")

    at.text_area(key="src_yaml_county_news").input(text.replace("name: 县融媒体", "name: 县融媒体中心"))
    at.button(key="src_save").click().run()
    assert not at.exception, at.exception
    with session_factory() as s:
        src = s.scalars(select(Source).where(Source.key == "county_news")).one()
        assert (src.name, src.interval_seconds) == ("县融媒体", 900)  # refused: nothing of the stale copy written
    assert any("已被他人修改" in e.value for e in at.error), [e.value for e in at.error]
    fresh = at.text_area(key="src_yaml_county_news").value  # the editor shows what is stored now
    assert "interval_seconds: 900" in fresh

    at.text_area(key="src_yaml_county_news").input(fresh.replace("name: 县融媒体", "name: 县融媒体中心"))
    at.button(key="src_save").click().run()  # saving over the fresh definition works
    assert any("更新 county_news" in x.value for x in at.success), [e.value for e in at.error]
    with session_factory() as s:
        src = s.scalars(select(Source).where(Source.key == "county_news")).one()
        assert (src.name, src.interval_seconds) == ("县融媒体中心", 900)
    assert "name: 县融媒体中心" in at.text_area(key="src_yaml_county_news").value  # reloaded after the save


def test_saving_a_stale_scheme_does_not_undo_a_colleagues_change(console, session_factory):
    with session_factory.begin() as s:
        monitoring.save_scheme(s, {"name": "信息泄露监测", "subject_words": ["农户"], "expression": "泄露"}, "admin")
    at = goto(start("admin"), "schemes")
    at.selectbox(key="sch_pick").select("信息泄露监测").run()
    assert at.text_input(key="sch_subject_words").value == "农户"

    with session_factory.begin() as s:  # another administrator narrows the expression meanwhile
        monitoring.save_scheme(s, {"name": "信息泄露监测", "subject_words": ["农户"], "expression": "泄露 AND 农户"},
                               "admin")

    at.text_input(key="sch_subject_words").input("农户、信用户")
    at.button(key="sch_save").click().run()
    assert not at.exception, at.exception
    with session_factory() as s:
        row = s.scalars(select(MonitoringScheme)).one()
        assert (row.subject_words, row.expression) == (["农户"], "泄露 AND 农户")
    assert any("已被他人修改" in e.value for e in at.error), [e.value for e in at.error]
    assert at.text_area(key="sch_expression").value == "泄露 AND 农户"  # the form shows what is stored now

    at.text_input(key="sch_subject_words").input("农户、信用户")
    at.button(key="sch_save").click().run()
    assert any("已保存" in x.value for x in at.success), [e.value for e in at.error]
    with session_factory() as s:
        row = s.scalars(select(MonitoringScheme)).one()
        assert (row.subject_words, row.expression) == (["农户", "信用户"], "泄露 AND 农户")
