# 农村信用信息系统运营后台 — the two commands a newcomer needs: `make demo` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo run test test-fast console status bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## 演示：本地回放站 + 调度器 + 控制台（http://127.0.0.1:8501/）
demo: install
	$(BIN)/rcops demo

## 真实信息源（需要互联网）：初始化后启动调度器与控制台
run: install
	$(BIN)/rcops init --sources real
	$(BIN)/rcops run --console

## 全部测试（CI 运行的就是它）；按文件分给每个 CPU 核一个进程（TEST_WORKERS=0 则不并行）
TEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: install
	$(BIN)/python -m pytest -m "not browser and not slow"

console: install
	$(BIN)/rcops console

status: install
	$(BIN)/rcops status

bench: install
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf var test-artifacts .pytest_cache
