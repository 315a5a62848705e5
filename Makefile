# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both run scripts/bootstrap first (Debian packages, dockerd; AITHER_SKIP_BOOTSTRAP=1 skips it).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: bootstrap install test demo check bench clean

bootstrap:
	@bash scripts/bootstrap

# Order-only: the venv needs python3-venv, but a bootstrap run does not make the venv stale.
$(STAMP): pyproject.toml | bootstrap
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: bootstrap $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

check: $(STAMP)
	cd $(CURDIR) && PATH=$(CURDIR)/$(VENV)/bin:$$PATH dg check defs
	$(VENV)/bin/ruff check aither_assets aither_assets_tests benchmarks

demo: bootstrap $(STAMP)
	$(VENV)/bin/aither demo

# Issue 7's benchmarks on the embedded stack (about 10-15 min on 2 cores): benchmarks/results.json, RESULTS.md.
bench: $(STAMP)
	$(PY) benchmarks/run_all.py --json benchmarks/results.json --markdown benchmarks/RESULTS.md

clean:
	rm -rf $(VENV) .pytest_cache
