"""Found in testing, now fixed: on the 报告 page, a draft open on a stale screen silently overwrites a colleague's saved edits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rcops.store.models_disposal import AnalysisReport
from rcops.triage import report as rp

from .conftest import TITLE_II
from .test_console import start
from .test_console_actions import goto, resolve


def test_submitting_a_stale_draft_does_not_undo_a_colleagues_edit(console, session_factory):
    incident_id = console.ids[TITLE_II]
    resolve(session_factory, incident_id)
    with session_factory.begin() as s:
        rid = rp.draft_report(s, incident_id, "张三").id

    zhang = goto(start("张三"), "reports")  # 张三 has the draft open
    assert f"rep_html_{rid}" in {t.key for t in zhang.text_area}

    with session_factory.begin() as s:  # meanwhile 李四 edits and saves it (console or `rcops incident edit-report`)
        rep = s.get(AnalysisReport, rid)
        rp.edit_report(s, rid, "李四", rep.content_html.replace("（请处置人员填写", "（李四补充：已约谈涉事银行。"))

    zhang.button(key=f"rep_submit_{rid}").click().run()  # 张三 submits without touching the text
    assert not zhang.exception, zhang.exception
    with session_factory() as s:
        rep = s.get(AnalysisReport, rid)
        assert rep.status == "draft" and "李四补充：已约谈涉事银行" in rep.content_html, "李四的修改被张三屏幕上的旧稿覆盖并提交"
        version = rep.row_version
    assert [e.value for e in zhang.error] == [f"报告已被他人修改（版本 {version - 1} → {version}），请刷新后再操作"]
    assert "李四补充：已约谈涉事银行" in zhang.text_area(key=f"rep_html_{rid}").value  # the screen shows it now

    zhang.button(key=f"rep_submit_{rid}").click().run()  # having read it, 张三 submits 李四's version
    with session_factory() as s:
        rep = s.get(AnalysisReport, rid)
        assert rep.status == "submitted" and "李四补充：已约谈涉事银行" in rep.content_html


def test_a_stale_version_is_refused_by_edit_and_submit(console, session_factory):
    incident_id = console.ids[TITLE_II]
    resolve(session_factory, incident_id)
    with session_factory.begin() as s:
        rep = rp.draft_report(s, incident_id, "张三")
        rid, loaded = rep.id, rep.row_version
    with session_factory.begin() as s:
        assert rp.edit_report(s, rid, "李四", "<p>李四的稿</p>", expected_version=loaded).row_version == loaded + 1
    for act in (lambda s: rp.edit_report(s, rid, "张三", "<p>张三的旧稿</p>", expected_version=loaded),
                lambda s: rp.submit_report(s, rid, "张三", expected_version=loaded)):
        with pytest.raises(rp.ReportError, match=rf"报告已被他人修改（版本 {loaded} → {loaded + 1}），请刷新后再操作"):
            with session_factory.begin() as s:
                act(s)
    with session_factory.begin() as s:
        rep = rp.submit_report(s, rid, "张三", expected_version=loaded + 1)
        assert (rep.status, rep.content_html) == ("submitted", "<p>李四的稿</p>")
