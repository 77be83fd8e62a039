# Wangge — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup fonts assets run test lint typecheck migrations-check pytest bench chromium clean

help:
	@echo "make run    - set up, migrate, load the demo city (first run) and serve on http://$(HOST):$(PORT)"
	@echo "make test   - set up and run the whole suite (lint, types, migrations, unit, API, browser)"
	@echo "make bench  - benchmarks (ratios against in-run baselines)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

build/vendor/.built: package.json
	npm install --no-audit --no-fund --loglevel=error
	rm -rf build/vendor && mkdir -p build/vendor/leaflet build/vendor/echarts build/vendor/htmx build/vendor/alpinejs
	cp -r node_modules/leaflet/dist/. build/vendor/leaflet/
	cp node_modules/echarts/dist/echarts.min.js build/vendor/echarts/
	cp node_modules/htmx.org/dist/htmx.min.js build/vendor/htmx/
	cp node_modules/alpinejs/dist/cdn.min.js build/vendor/alpinejs/alpine.min.js
	mkdir -p build/vendor/leaflet.heat && cp node_modules/leaflet.heat/dist/leaflet-heat.js build/vendor/leaflet.heat/
	touch build/vendor/.built

setup: $(STAMP) build/vendor/.built fonts
	@command -v msgfmt >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }
	$(BIN)/wangge compilemessages --ignore=.venv --ignore=node_modules >/dev/null
	$(BIN)/wangge collectstatic --noinput --verbosity 0

assets: build/vendor/.built

run: setup
	$(BIN)/wangge migrate --noinput
	$(BIN)/wangge run --host $(HOST) --port $(PORT)

# The CJK TrueType font embedded in PDF reports (analytics, decision 0009).
fonts:
	@test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; }

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src/wangge

migrations-check: $(STAMP)
	$(BIN)/wangge makemigrations --check --dry-run

pytest: setup chromium
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test: setup chromium lint typecheck migrations-check pytest

bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules build var staticfiles
