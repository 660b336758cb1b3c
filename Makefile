# dvx developer entry points. Two are public: `make demo` and `make test`.
# uv installs the locked set in ~5 s where pip's resolver takes ~40 s
# (../shared/notes/deps.md); bytecode is compiled at install because this
# machine sets PYTHONDONTWRITEBYTECODE and great_expectations then imports
# in 4.5 s instead of 2.3 s.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
UV_VERSION := 0.13.9
export UV_CACHE_DIR ?= $(HOME)/.cache/uv
export GX_ANALYTICS_ENABLED := false

.PHONY: demo test venv install install-dev chromium xfsprogs lint bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.runtime: $(BIN)/python requirements/runtime.lock pyproject.toml setup.py dvx/_cdc.c
	$(UV) pip install -q --python $(BIN)/python --compile-bytecode -r requirements/runtime.lock
	$(UV) pip install -q --python $(BIN)/python --compile-bytecode --no-deps -e .
	$(BIN)/python -m compileall -q dvx
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements/dev.lock
	$(UV) pip install -q --python $(BIN)/python --compile-bytecode -r requirements/dev.lock
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# Headless Chromium renders the HTML reports in tests (Debian package).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "warning: could not install chromium; report rendering tests will be skipped"; }

# mkfs.xfs for the copy-on-write clone test (a loop-mounted XFS image; skipped with its reason without root or loop devices).
xfsprogs:
	@command -v mkfs.xfs >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xfsprogs >/dev/null) \
	    || echo "warning: could not install xfsprogs; the reflink clone test will be skipped"; }

demo: install
	$(BIN)/python -m dvx._demo

lint: install-dev
	$(BIN)/ruff check dvx tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install-dev chromium xfsprogs lint
	$(BIN)/python -m pytest -n 2 -q tests

bench: install-dev
	$(BIN)/python bench/run.py

lock:
	$(UV) pip compile pyproject.toml --python-version 3.11 -q -o requirements/runtime.lock
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 -q -o requirements/dev.lock

clean:
	rm -rf $(VENV) build *.egg-info dvx/*.so
