"""Tier and response-plan definitions: the schema and its validation.

A rules document has ``tiers`` (code, rank, name, colour, ``any_of`` rule groups)
and ``plans`` (one per tier: ordered steps with role, deadline, notify, on_breach,
an optional ``checklist`` of items to tick, and ``daily: true`` for a step repeated
once per calendar day while the incident is open, such as the follow-up report 续报).
:func:`parse_rules` turns a dict (from YAML or the console) into validated
:class:`Rules` or raises :class:`PlanValidationError` listing every problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rcops.classifier.taxonomy import CATEGORIES

from .exceptions import PlanValidationError

DEFAULT_RULES_FILE = Path(__file__).with_name("defaults") / "rules.yaml"

#: Roles that plan steps may name, with the Chinese shown to users.
ROLES: dict[str, str] = {
    "administrator": "管理方",
    "operator_lead": "运营负责人",
    "duty_officer": "值班员",
    "analyst": "舆情分析员",
    "spokesperson": "新闻发言人",
    "department": "相关业务部门",
    "institution": "涉事金融机构",
}

MEDIA_LEVELS: dict[str, str] = {
    "central": "中央级",
    "provincial": "省级",
    "municipal": "地市级",
    "industry": "行业",
    "self_media": "自媒体",
}

#: Conditions a rule group may hold: name → (Chinese label, kind)
CONDITIONS: dict[str, tuple[str, str]] = {
    "risk_score_min": ("风险分", "fraction"),
    "keywords_any": ("关键词", "words"),
    "reach_min": ("传播量", "count"),
    "mentions_min": ("信息条数", "count"),
    "sources_min": ("信息源数", "count"),
    "media_levels": ("媒体级别", "levels"),
    "growth_per_hour_min": ("每小时新增", "count"),
    "categories_any": ("风险类别", "categories"),
}


@dataclass(frozen=True)
class TierDef:
    code: str
    rank: int
    name: str
    color: str
    any_of: tuple[dict[str, Any], ...]

    @property
    def label(self) -> str:
        return f"{ROMAN.get(self.code, self.code)}级 {self.name}"


ROMAN = {"I": "Ⅰ", "II": "Ⅱ", "III": "Ⅲ", "IV": "Ⅳ", "V": "Ⅴ"}


@dataclass(frozen=True)
class StepDef:
    title: str
    role: str
    deadline_minutes: int
    notify: tuple[str, ...] = ()
    on_breach: str = ""
    #: "detection": ``deadline_minutes`` after the incident was detected;
    #: "previous": after the previous step's deadline (YAML ``after_previous_minutes``)
    relative_to: str = "detection"
    #: items the owner ticks before completing the task (YAML ``checklist: [item, …]``)
    checklist: tuple[str, ...] = ()
    #: one task per Asia/Shanghai calendar day while the incident is confirmed or being disposed of,
    #: due ``deadline_minutes`` after it is created (YAML ``daily: true``)
    daily: bool = False


@dataclass(frozen=True)
class PlanDef:
    tier: str
    name: str
    steps: tuple[StepDef, ...]


@dataclass(frozen=True)
class Rules:
    tiers: tuple[TierDef, ...]
    plans: tuple[PlanDef, ...] = field(default=())

    def tier(self, code: str) -> TierDef:
        for t in self.tiers:
            if t.code == code:
                return t
        raise KeyError(code)

    def plan(self, code: str) -> PlanDef:
        for p in self.plans:
            if p.tier == code:
                return p
        raise KeyError(code)


def _check_condition(where: str, name: str, value: Any, problems: list[str]) -> None:
    if name not in CONDITIONS:
        problems.append(f"{where}：未知条件“{name}”，可用条件：{', '.join(CONDITIONS)}")
        return
    kind = CONDITIONS[name][1]
    if kind == "fraction":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            problems.append(f"{where}：{name} 应为 0 到 1 之间的数，实际为 {value!r}")
    elif kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(f"{where}：{name} 应为非负整数，实际为 {value!r}")
    elif kind == "words":
        if not isinstance(value, list) or not value or not all(isinstance(w, str) and w.strip() for w in value):
            problems.append(f"{where}：{name} 应为非空的词语列表")
    elif kind in ("levels", "categories"):
        allowed = MEDIA_LEVELS if kind == "levels" else CATEGORIES
        if not isinstance(value, list) or not value:
            problems.append(f"{where}：{name} 不能为空，应列出至少一项（可选：{'、'.join(allowed)}）")
        elif any(v not in allowed for v in value):
            problems.append(f"{where}：{name} 只能包含 {'、'.join(allowed)}，实际为 {value!r}")


def _implies(low: dict[str, Any], high: dict[str, Any]) -> bool:
    """Whether every mention meeting rule group ``low`` also meets ``high`` (decided per condition)."""
    for name, hv in high.items():
        if name not in low or name not in CONDITIONS:
            return False
        lv, kind = low[name], CONDITIONS[name][1]
        try:
            if kind in ("fraction", "count"):
                if not lv >= hv:
                    return False
            elif not set(lv) <= set(hv):
                return False
        except TypeError:
            return False
    return True


def overlap_problems(tiers: list[TierDef]) -> list[str]:
    """Rule groups that can never decide a tier: the same group twice, or a lower tier's group that
    every time it holds also makes a higher tier hold (so the higher tier always wins)."""
    problems: list[str] = []
    ordered = sorted(tiers, key=lambda t: t.rank)
    for a_i, high in enumerate(ordered):
        for b in ordered[a_i:]:
            for j, gb in enumerate(b.any_of):
                for i, ga in enumerate(high.any_of):
                    if b is high and i >= j:
                        continue
                    if gb == ga:
                        problems.append(f"等级 {b.code} 规则组 {j + 1}：与等级 {high.code} 规则组 {i + 1} 完全相同（规则重叠）")
                    elif b is not high and _implies(gb, ga):
                        problems.append(
                            f"等级 {b.code} 规则组 {j + 1}：凡满足它的信息也满足更高的等级 {high.code} 规则组 {i + 1}，"
                            f"该规则组永远不会生效（规则重叠），请调整条件")
    return problems


def _checklist(where: str, value: Any, problems: list[str]) -> tuple[str, ...]:
    """A step's checklist: a list of distinct, non-empty strings (at most 300 characters each)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(f"{where}：checklist 应为检查事项的列表，如 [核实信息来源, 截图留证]，实际为 {value!r}")
        return ()
    items: list[str] = []
    for k, item in enumerate(value, start=1):
        if not isinstance(item, str) or not item.strip():
            problems.append(f"{where}：checklist 第 {k} 项应为非空文字，实际为 {item!r}")
        elif len(item.strip()) > 300:
            problems.append(f"{where}：checklist 第 {k} 项过长（{len(item.strip())} 字，最多 300 字）")
        elif item.strip() in items:
            problems.append(f"{where}：checklist 第 {k} 项“{item.strip()}”重复")
        else:
            items.append(item.strip())
    return tuple(items)


def parse_rules(doc: Any) -> Rules:
    """Validate a rules document; raise PlanValidationError naming every problem."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise PlanValidationError(["文件根节点应为映射（包含 tiers 与 plans）"])
    raw_tiers = doc.get("tiers")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        problems.append("tiers：至少需要定义一个等级")
        raw_tiers = []
    tiers: list[TierDef] = []
    for i, t in enumerate(raw_tiers):
        where = f"tiers[{i}]"
        if not isinstance(t, dict):
            problems.append(f"{where}：应为映射")
            continue
        code, rank, name = t.get("code"), t.get("rank"), t.get("name")
        if not isinstance(code, str) or not code:
            problems.append(f"{where}：缺少等级代码 code")
            continue
        where = f"等级 {code}"
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            problems.append(f"{where}：rank 应为正整数（1 为最高级）")
            rank = 0
        if not isinstance(name, str) or not name:
            problems.append(f"{where}：缺少名称 name")
        groups = t.get("any_of")
        if not isinstance(groups, list) or not groups:
            problems.append(f"{where}：any_of 至少需要一个规则组")
            groups = []
        for j, g in enumerate(groups):
            gwhere = f"{where} 规则组 {j + 1}"
            if not isinstance(g, dict) or not g:
                problems.append(f"{gwhere}：应为非空映射")
                continue
            for cname, cval in g.items():
                _check_condition(gwhere, cname, cval, problems)
        tiers.append(TierDef(code, rank, str(name or ""), str(t.get("color", "")), tuple(
            dict(g) for g in groups if isinstance(g, dict))))
    codes = [t.code for t in tiers]
    for c in {c for c in codes if codes.count(c) > 1}:
        problems.append(f"等级 {c}：代码重复")
    ranks = [t.rank for t in tiers]
    for r in {r for r in ranks if ranks.count(r) > 1 and r}:
        problems.append(f"rank {r}：多个等级使用了同一 rank")

    problems.extend(overlap_problems(tiers))

    raw_plans = doc.get("plans", [])
    if not isinstance(raw_plans, list):
        problems.append("plans：应为列表")
        raw_plans = []
    plans: list[PlanDef] = []
    for i, p in enumerate(raw_plans):
        where = f"plans[{i}]"
        if not isinstance(p, dict):
            problems.append(f"{where}：应为映射")
            continue
        tier = p.get("tier")
        if tier not in codes:
            problems.append(f"{where}：tier {tier!r} 不是已定义的等级")
            continue
        where = f"等级 {tier} 的预案"
        steps_raw = p.get("steps")
        if not isinstance(steps_raw, list) or not steps_raw:
            problems.append(f"{where}：至少需要一个步骤")
            steps_raw = []
        steps: list[StepDef] = []
        for j, s in enumerate(steps_raw):
            swhere = f"{where} 第 {j + 1} 步"
            if not isinstance(s, dict):
                problems.append(f"{swhere}：应为映射")
                continue
            title, role, dl = s.get("title"), s.get("role"), s.get("deadline_minutes")
            relative_to = "detection"
            if "after_previous_minutes" in s:
                if dl is not None:
                    problems.append(f"{swhere}：deadline_minutes 与 after_previous_minutes 只能填一个")
                elif j == 0:
                    problems.append(f"{swhere}：第一步没有上一步，请用 deadline_minutes（自发现起计算）")
                dl, relative_to = s.get("after_previous_minutes"), "previous"
            if not isinstance(title, str) or not title.strip():
                problems.append(f"{swhere}：缺少标题 title")
            if role not in ROLES:
                problems.append(f"{swhere}：未知角色 {role!r}，可用角色：{', '.join(ROLES)}")
            if dl is None:
                problems.append(f"{swhere}：缺少时限 deadline_minutes（自发现起）或 after_previous_minutes（自上一步时限起）")
            elif isinstance(dl, bool) or not isinstance(dl, int) or dl <= 0:
                problems.append(f"{swhere}：时限 deadline_minutes 应为正整数（分钟），实际为 {dl!r}")
            notify = s.get("notify", []) or []
            if not isinstance(notify, list) or any(n not in ROLES for n in notify):
                problems.append(f"{swhere}：notify 只能包含已知角色，实际为 {notify!r}")
                notify = []
            checklist = _checklist(swhere, s.get("checklist", []), problems)
            daily = s.get("daily", False)
            if not isinstance(daily, bool):
                problems.append(f"{swhere}：daily 只能是 true 或 false，实际为 {daily!r}")
                daily = False
            elif daily and relative_to == "previous":
                problems.append(f"{swhere}：每日步骤（daily）的时限自每日生成任务起计算，请用 deadline_minutes，"
                                "不能用 after_previous_minutes")
            steps.append(StepDef(str(title or ""), str(role), dl if isinstance(dl, int) else 0,
                                 tuple(notify), str(s.get("on_breach", "") or ""), relative_to,
                                 checklist, daily))
        if sum(1 for st in steps if st.daily) > 1:
            problems.append(f"{where}：最多只能有一个每日步骤（daily: true），每个事件每天只生成一项续报任务")
        plans.append(PlanDef(str(tier), str(p.get("name") or f"{tier} 级预案"), tuple(steps)))
    ptiers = [p.tier for p in plans]
    for c in {c for c in ptiers if ptiers.count(c) > 1}:
        problems.append(f"等级 {c}：定义了多套预案")
    for c in codes:
        if c not in ptiers:
            problems.append(f"等级 {c}：缺少预案")
    if problems:
        raise PlanValidationError(problems)
    return Rules(tuple(sorted(tiers, key=lambda t: t.rank)), tuple(plans))


def load_rules_file(path: Path | str | None = None) -> Rules:
    path = Path(path) if path else DEFAULT_RULES_FILE
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PlanValidationError([f"找不到分级与预案文件：{path}"]) from exc
    except yaml.YAMLError as exc:
        raise PlanValidationError([f"{path} 不是有效的 YAML：{exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise PlanValidationError([f"{path} 不是 UTF-8 编码的文本"]) from exc
    return parse_rules(doc)
