"""Throughput of the risk classifier next to jieba alone, measured in one run.

    .venv/bin/python bench/classifier_bench.py [--model PATH] [--shared DIR]

Without --model a model is trained into a temporary folder first (training time
is printed too). Texts: FinNSP eval texts cut to 150 characters (the 500 texts
are cycled to make a batch of 1,000), or the packaged seed set when the shared
data folder is absent.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message=".*pkg_resources.*")

import jieba  # noqa: E402

from rcops.classifier import tokenizer  # noqa: E402
from rcops.classifier.data import load_finnsp, load_seed, shared_available  # noqa: E402
from rcops.classifier.model import load, save, train  # noqa: E402
from rcops.store.settings import Settings  # noqa: E402

CUT = 150
BATCH = 1000
ONE_BY_ONE = 200


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def _best_of(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a saved model file (default: train one now)")
    parser.add_argument("--shared", type=Path, default=(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="rcops-bench-") as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "var", shared_data_dir=args.shared)  # type: ignore[call-arg]
        tokenizer.configure(Path(tmp) / "cache")
        t = time.perf_counter()
        tokenizer.warm_up()
        rows.append(("jieba 词典加载（含领域词典）", f"{time.perf_counter() - t:.2f} s"))

        path = args.model
        if path is None:
            t = time.perf_counter()
            model = train(settings)
            rows.append(("训练（含读数据）", f"{time.perf_counter() - t:.1f} s，{model.metadata['data']['total']} 条"))
            path = Path(tmp) / "risk-bench.joblib"
            t = time.perf_counter()
            save(model, path)
            rows.append(("保存模型", f"{time.perf_counter() - t:.2f} s，{path.stat().st_size / 1e6:.1f} MB"))
        loads = []
        for _ in range(3):
            t = time.perf_counter()
            model = load(path)
            loads.append(time.perf_counter() - t)
        rows.append(("加载模型（3 次中位数）", f"{statistics.median(loads):.2f} s"))

        if shared_available(args.shared):
            source = [text for text, _ in load_finnsp(args.shared, "eval")]
            source_name = "FinNSP 验证集"
        else:
            source = [text for text, _ in load_seed()]
            source_name = "种子数据"
        texts = [source[i % len(source)][:CUT] for i in range(BATCH)]
        singles = texts[:ONE_BY_ONE]
        mean_len = statistics.mean(len(x) for x in texts)
        rows.append(("文本", f"{source_name}，截到 {CUT} 字，平均 {mean_len:.0f} 字"))

        model.score(texts[:10])  # warm caches
        t_batch = _best_of(lambda: model.score(texts))
        t_single = _best_of(lambda: [model.score_one(x) for x in singles])
        t_jieba = _best_of(lambda: [jieba.lcut(x) for x in texts])
        t_tok = _best_of(lambda: [tokenizer.tokenize(tokenizer.normalize(x)) for x in texts])
        t_jieba_single = _best_of(lambda: [jieba.lcut(x) for x in singles])

        r_batch = _rate(BATCH, t_batch)
        r_single = _rate(ONE_BY_ONE, t_single)
        r_jieba = _rate(BATCH, t_jieba)
        r_tok = _rate(BATCH, t_tok)
        r_jieba_single = _rate(ONE_BY_ONE, t_jieba_single)
        rows += [
            (f"模型批量打分（{BATCH} 条一批）", f"{r_batch:,.0f} 条/秒"),
            (f"模型逐条打分（{ONE_BY_ONE} 条）", f"{r_single:,.0f} 条/秒（{1000 / r_single:.2f} ms/条）"),
            (f"jieba.lcut 单独（{BATCH} 条）", f"{r_jieba:,.0f} 条/秒"),
            (f"jieba.lcut 单独（{ONE_BY_ONE} 条）", f"{r_jieba_single:,.0f} 条/秒"),
            ("rcops tokenize（含归一化、停用词）", f"{r_tok:,.0f} 条/秒"),
            ("批量打分 / jieba 单独", f"{r_batch / r_jieba:.2f}"),
            ("逐条打分 / jieba 单独", f"{r_single / r_jieba_single:.2f}"),
        ]

    width = max(sum(2 if ord(c) > 0x2E80 else 1 for c in k) for k, _ in rows)
    print(f"rcops 风险分类器基准（model {model.version}）")
    for key, value in rows:
        pad = width - sum(2 if ord(c) > 0x2E80 else 1 for c in key)
        print(f"  {key}{' ' * pad}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
