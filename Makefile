# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install test demo check clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

check: $(STAMP)
	cd $(CURDIR) && PATH=$(CURDIR)/$(VENV)/bin:$$PATH dg check defs

demo: $(STAMP)
	$(VENV)/bin/aither demo

clean:
	rm -rf $(VENV) .pytest_cache
