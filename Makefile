PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install web test lint bench demo vectors clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Chinese glyphs for the PNG poster (the PDF and SVG need no font file). Installed
# with apt when we may; without it, PNG posters carry the English text only.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

$(CJK_FONT):
	-@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; \
	else echo "note: install fonts-wqy-microhei for Chinese text on PNG posters"; fi

# The web client (clients/web): npm ci from the committed lock when the lock is newer
# than the last install, then an esbuild build (milliseconds).
WEB := clients/web
WEB_STAMP := $(WEB)/node_modules/.installed

$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --ignore-scripts --no-audit --no-fund
	touch $(WEB_STAMP)

web: $(WEB_STAMP)
	node $(WEB)/build.mjs

install: $(STAMP) $(CJK_FONT) web

# Debian's Chromium for the browser tests (tests/web), which Playwright drives at
# /usr/bin/chromium: installed with apt when we may, never a browser download.
# Only `make test` needs it, so a newcomer's `make demo` stays fast.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	-@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "note: install Debian's chromium for the browser tests (tests/web)"; fi

test: install $(CHROMIUM)
	node $(WEB)/build.mjs --tests
	node --test $(WEB)/build/test/*.test.js
	$(BIN)/python -m pytest -q -n 2

# mypy resolves imports by folder, and our folders install under placecode.*:
# it checks a tree of links laid out as the installed namespace.
TYPECHECK := $(VENV)/typecheck

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/placecode
	for f in placecode/* crypto service clients; do ln -s $(CURDIR)/$$f $(TYPECHECK)/placecode/; done
	ln -s $(CURDIR)/bench $(TYPECHECK)/bench
	cd $(TYPECHECK) && $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml -p placecode -p bench
	cd $(WEB) && node_modules/.bin/tsc -p tsconfig.json

bench: install
	$(BIN)/python -m bench

vectors: install
	$(BIN)/python docs/generate_vectors.py

demo: install
	$(BIN)/placecode demo

clean:
	rm -rf $(VENV) bench/results.json $(WEB)/node_modules $(WEB)/dist $(WEB)/build
