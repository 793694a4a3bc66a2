# Two commands do everything on a fresh Debian/Ubuntu machine: `make serve` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SITE_URL ?= http://$(HOST):$(PORT)/
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve test site bench quality assets chromium prereqs lint clean

prereqs:
	@scripts/check_prereqs.sh

$(BIN)/.installed: pyproject.toml | prereqs
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

assets: $(BIN)/.installed
	$(BIN)/python scripts/fetch_assets.py

serve: assets  ## build and serve on http://127.0.0.1:8000 with live reload of docs/ and labs_py/
	SITE_URL=$(SITE_URL) $(BIN)/mkdocs serve --strict -a $(HOST):$(PORT) -w labs_py -w scripts

site: assets chromium  ## the static site in site/ with the labs' memory image (set SITE_URL to the production address)
	SITE_URL=$(SITE_URL) $(BIN)/mkdocs build --strict -d site
	$(BIN)/python scripts/heap_snapshot.py site

chromium:
	@scripts/ensure_chromium.sh

lint: $(BIN)/.installed
	$(BIN)/ruff check labs_py tests scripts

test: assets chromium lint  ## unit tests, strict build, browser tests
	$(BIN)/python -m pytest

quality: assets chromium  ## site-wide gates (crawl, axe, keyboard, phone, no-JS, faults, CSP) and a one-screen summary
	$(BIN)/python scripts/quality_report.py

bench: assets chromium  ## naive Pyodide start vs our labs, in headless Chromium
	$(BIN)/python scripts/bench.py

clean:
	rm -rf site .cache $(VENV)
