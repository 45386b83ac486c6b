"""Found in testing: on the 报告 page, a draft open on a stale screen silently overwrites a colleague's saved edits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rcops.store.models_disposal import AnalysisReport
from rcops.triage import report as rp

from .conftest import TITLE_II
from .test_console import start
from .test_console_actions import goto, resolve


@pytest.mark.xfail(strict=True, reason="报告草稿无乐观锁：张三打开草稿后李四修改并保存，张三随后点“提交管理方”（未改一字），"
                                       "其屏幕上的旧内容覆盖了李四的修改并被提交，无任何提示")
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
        refused = rep.status == "draft"
        kept = "李四补充：已约谈涉事银行" in rep.content_html
    assert refused or kept, "李四的修改被张三屏幕上的旧稿覆盖并提交"
