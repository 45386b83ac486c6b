"""Classifier commands: ``train``, ``evaluate``, ``grade``, ``models`` (list / use).

Thin: each opens the settings (and the store when it is initialised) and calls
functions of :mod:`rcops.classifier`. Errors print a Chinese message on stderr
and exit with code 1.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Annotated, Any

import typer
from rich.console import Console

from rcops.store.settings import Settings, get_settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("rcops")


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]错误：[/]{message}", markup=True, highlight=False)
    return typer.Exit(code=1)


def _setup(settings: Settings) -> None:
    settings.ensure_dirs()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("jieba", "alembic"):  # the schema check's plugin chatter is not the user's business
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _store_session(settings: Settings):  # type: ignore[no-untyped-def]
    """A session on the store when it is initialised (schema at the latest
    migration), else None: training and grading work without a database."""
    from rcops.store.db import check_schema, make_engine, make_sessionmaker
    from rcops.store.exceptions import StoreError

    url = settings.db_url
    if url.startswith("sqlite:///") and not settings.database_url and not (settings.data_dir / "rcops.db").is_file():
        return None
    engine = make_engine(url)
    try:
        check_schema(engine)
    except StoreError as exc:
        log.info("数据库未初始化或不可用（%s），不使用数据库中的数据。", exc)
        engine.dispose()
        return None
    return make_sessionmaker(engine)()


def _current_model(settings: Settings):  # type: ignore[no-untyped-def]
    from rcops.classifier import tokenizer
    from rcops.classifier.model import current_path, load

    tokenizer.configure(settings.data_dir / "cache")
    path = current_path(settings)
    if not path.exists():
        raise _fail(f"还没有训练好的模型（{path}）。请先运行 `rcops train`。")
    return load(path)


def train() -> None:
    """训练新版本模型（风险、类别、辱骂语言；含运营人员的研判标注），评测后设为当前版本。"""
    from rcops.classifier.evaluate import format_table
    from rcops.classifier.labels import category_examples, operator_examples
    from rcops.classifier.training import train_version

    settings = get_settings()
    _setup(settings)
    t0 = time.monotonic()
    try:
        session = _store_session(settings)
        examples, categories = [], []
        if session is not None:
            with session:
                examples, categories = operator_examples(session), category_examples(session)
        result = train_version(settings, examples, category_examples=categories)
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure gets a clear message
        raise _fail(str(exc)) from exc
    data = result.model.metadata["data"]
    out.print(f"[green]模型 {result.model.version} 已保存并设为当前版本[/]（{time.monotonic() - t0:.1f} 秒）："
              f"{result.path}")
    out.print(f"训练样本 {data['total']} 条，其中运营人员标注 {len(examples)} 条；数据指纹 {data['sha256'][:16]}…")
    cat = result.model.metadata.get("category") or {}
    if cat:
        out.print(f"类别模型样本 {cat['examples']} 条，其中运营人员类别标注 {len(categories)} 条；"
                  f"数据指纹 {cat['sha256'][:16]}…")
    out.print(format_table(result.metrics))


def evaluate(
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（按评测集分组）")] = False,
    snownlp: Annotated[bool, typer.Option("--snownlp/--no-snownlp", help="是否对比 SnowNLP 情感基线（首次较慢）")] = True,
) -> None:
    """在评测集上评估当前模型，并与多数类、关键词、SnowNLP 基线对比。"""
    from rcops.classifier.evaluate import as_json as to_json
    from rcops.classifier.evaluate import evaluate as run_eval
    from rcops.classifier.evaluate import format_table

    settings = get_settings()
    _setup(settings)
    try:
        model = _current_model(settings)
        result = run_eval(model, settings, snownlp=snownlp, category_cv=True)
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc
    if as_json:
        print(json.dumps(to_json(result), ensure_ascii=False, indent=2))
    else:
        out.print(format_table(result), highlight=False)


def grade(
    text: Annotated[str, typer.Argument(help="要研判的文本")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """研判一段文本：等级、风险分、类别和解释（数据库已初始化时用其中的分级标准，否则用默认规则）。"""
    from rcops.classifier.grading import grade_texts
    from rcops.plans.schema import load_rules_file
    from rcops.plans.store_io import tier_defs

    if not text.strip():
        raise _fail("文本为空，请给出要研判的文本。")
    settings = get_settings()
    _setup(settings)
    try:
        model = _current_model(settings)
        session = _store_session(settings)
        tiers: list[Any] = []
        rules_from = "默认规则文件"
        if session is not None:
            with session:
                tiers = tier_defs(session)
            rules_from = "数据库中的分级标准"
        if not tiers:
            tiers = list(load_rules_file(None).tiers)
            rules_from = "默认规则文件"
        result = grade_texts(model, [text], tiers)[0]
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc
    doc = {**result.as_dict(), "rules_from": rules_from}
    if as_json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    label = doc["tier_label"] or result.tier_code if result.tier_code else "未分级"
    out.print(f"等级：{label}", highlight=False)
    out.print(f"风险分：{result.risk_score:.3f}", highlight=False)
    out.print(f"类别：{result.category}", highlight=False)
    if result.abusive is not None:
        out.print(f"辱骂/攻击性语言：{'是' if result.abusive else '否'}", highlight=False)
    out.print(f"解释：{result.explanation_text()}", highlight=False)
    out.print(f"（依据：{rules_from}；模型 {model.version}）", highlight=False)


models_app = typer.Typer(help="模型版本：列出、切换（回滚）", no_args_is_help=False, add_completion=False)


@models_app.callback(invoke_without_command=True)
def models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """列出所有模型版本（★ 为当前版本），含训练时的评测结果与数据指纹。"""
    if ctx.invoked_subcommand is not None:
        return
    from rcops.classifier.versions import list_versions

    settings = get_settings()
    try:
        versions = list_versions(settings)
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc
    if as_json:
        print(json.dumps([v.as_dict() for v in versions], ensure_ascii=False, indent=2))
        return
    if not versions:
        out.print("还没有模型版本。请运行 `rcops train`。")
        return
    for v in versions:
        f1 = "，".join(f"{k} {x:.3f}" for k, x in v.negative_f1.items()) or "无评测"
        out.print(f"{'★' if v.current else ' '} {v.version}  训练于 {v.trained_at}  样本 {v.total}"
                  f"（运营标注 {v.operator_labels}）  指纹 {v.data_sha256[:12]}  负面F1：{f1}", highlight=False)


@models_app.command("use")
def use(version: Annotated[str, typer.Argument(help="模型版本名（见 `rcops models`）")]) -> None:
    """把指定版本设为当前模型（回滚或前进）；切换是原子的。"""
    from rcops.classifier.versions import use_version

    settings = get_settings()
    try:
        model = use_version(settings, version)
    except Exception as exc:  # noqa: BLE001
        raise _fail(str(exc)) from exc
    out.print(f"[green]当前模型已切换为 {model.version}[/]")


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(evaluate)
    app.command()(grade)
    app.add_typer(models_app, name="models")


__all__ = ["register", "train", "evaluate", "grade", "models", "use"]
