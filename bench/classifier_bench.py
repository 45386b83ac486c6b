"""Throughput of the risk classifier next to jieba alone, measured in one run.

    .venv/bin/python bench/classifier_bench.py [--model PATH] [--shared DIR]

Without --model a model is trained into a temporary folder first (training time
is printed too). Texts: FinNSP eval texts cut to 150 characters (the 500 texts
are cycled to make a batch of 1,000), or the packaged seed set when the shared
data folder is absent.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
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
from rcops.classifier.grading import annotate  # noqa: E402
from rcops.classifier.model import load, save, train  # noqa: E402
from rcops.store.settings import Settings  # noqa: E402

CUT = 150
BATCH = 1000
ONE_BY_ONE = 200
ROUNDS = 5

MEMORY_PROBE = """
import sys, warnings
warnings.filterwarnings("ignore")
from pathlib import Path
from rcops.classifier import tokenizer
from rcops.classifier.grading import annotate
from rcops.classifier.model import load
tokenizer.warm_up()
model = load(sys.argv[1])
texts = [line for line in sys.stdin.read().split("\\n") if line]
annotate(model, texts, model.score(texts))
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmRSS:"):
        print(int(line.split()[1]) / 1024)
"""


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def _best_of(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _rss_mb() -> float:
    """Resident memory now (VmRSS), in MB; peak (ru_maxrss) where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
        rows.append(("加载模型（风险+类别+辱骂，3 次中位数）", f"{statistics.median(loads):.2f} s（目标 < 2 s）"))
        extras = "、".join(sorted(model.extras)) or "无"

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
        annotate(model, texts[:10], model.score(texts[:10]))
        # Rounds interleave the systems, so that load from other processes on a shared
        # machine hits them alike; each system keeps its best round.
        systems = {
            "batch": lambda: model.score(texts),
            "full": lambda: annotate(model, texts, model.score(texts)),
            "single": lambda: [model.score_one(x) for x in singles],
            "jieba": lambda: [jieba.lcut(x) for x in texts],
            "tok": lambda: [tokenizer.tokenize(tokenizer.normalize(x)) for x in texts],
            "jieba_single": lambda: [jieba.lcut(x) for x in singles],
        }
        best = {k: float("inf") for k in systems}
        for _ in range(ROUNDS):
            for k, fn in systems.items():
                best[k] = min(best[k], _best_of(fn, repeat=1))
        t_batch, t_full, t_single = best["batch"], best["full"], best["single"]
        t_jieba, t_tok, t_jieba_single = best["jieba"], best["tok"], best["jieba_single"]

        r_batch = _rate(BATCH, t_batch)
        r_full = _rate(BATCH, t_full)
        r_single = _rate(ONE_BY_ONE, t_single)
        r_jieba = _rate(BATCH, t_jieba)
        r_tok = _rate(BATCH, t_tok)
        r_jieba_single = _rate(ONE_BY_ONE, t_jieba_single)
        rows += [
            (f"模型批量打分（{BATCH} 条一批）", f"{r_batch:,.0f} 条/秒"),
            (f"批量研判：风险分+类别+辱骂（{BATCH} 条）", f"{r_full:,.0f} 条/秒（附属模型：{extras}）"),
            (f"模型逐条打分（{ONE_BY_ONE} 条）", f"{r_single:,.0f} 条/秒（{1000 / r_single:.2f} ms/条）"),
            (f"jieba.lcut 单独（{BATCH} 条）", f"{r_jieba:,.0f} 条/秒"),
            (f"jieba.lcut 单独（{ONE_BY_ONE} 条）", f"{r_jieba_single:,.0f} 条/秒"),
            ("rcops tokenize（含归一化、停用词）", f"{r_tok:,.0f} 条/秒"),
            ("批量打分 / jieba 单独", f"{r_batch / r_jieba:.2f}（目标 ≥ 0.50）"),
            ("批量研判（含类别、辱骂）/ jieba 单独", f"{r_full / r_jieba:.2f}"),
            ("逐条打分 / jieba 单独", f"{r_single / r_jieba_single:.2f}"),
        ]

        # a fresh process: jieba + all models loaded, one batch graded
        probe = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path)], input="\n".join(texts),
                               capture_output=True, text=True, cwd=ROOT, check=True)
        rows.append(("新进程常驻内存（jieba+全部模型，研判一批后）", f"{float(probe.stdout.split()[-1]):.0f} MB（目标 < 400 MB）"))
    rows.append(("本进程常驻内存（含训练/多次加载的残留）", f"{_rss_mb():.0f} MB"))
    width = max(sum(2 if ord(c) > 0x2E80 else 1 for c in k) for k, _ in rows)
    print(f"rcops 风险分类器基准（model {model.version}）")
    for key, value in rows:
        pad = width - sum(2 if ord(c) > 0x2E80 else 1 for c in key)
        print(f"  {key}{' ' * pad}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
