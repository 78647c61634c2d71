# Python tests: real CPython subprocesses against the in-tree package.
PYTEST_ARGS ?= -q
PY_VERSIONS ?= 3.10 3.11 3.12 3.13
PYENV_ROOT ?= $(HOME)/.pyenv

.PHONY: test-python test-all-pythons test-browser

test-python: python alloc-programs
	PYTHONPATH=$(abspath bindings/python) $(PYTHON) -m pytest $(PYTEST_ARGS) tests/python

# The HTML report in real headless Chromium (Debian's chromium and
# chromium-driver, selenium from PyPI).  A missing browser fails the run
# instead of skipping it.
test-browser: python
	SCALENE_REQUIRE_BROWSER=1 PYTHONPATH=$(abspath bindings/python) $(PYTHON) -m pytest $(PYTEST_ARGS) tests/browser

# The same Python tests on every CPython under pyenv, each in its own venv
# under $(BUILD)/venv-X.Y with the extension built in-tree for it.
test-all-pythons: lib alloc-programs
	@set -e; for v in $(PY_VERSIONS); do \
	  py=$$(ls -d $(PYENV_ROOT)/versions/$$v.*/bin/python$$v 2>/dev/null | tail -n 1); \
	  if [ -z "$$py" ]; then echo "test-all-pythons: CPython $$v not found under $(PYENV_ROOT)"; exit 1; fi; \
	  venv=$(BUILD)/venv-$$v; \
	  [ -x $$venv/bin/python ] || $$py -m venv $$venv; \
	  $$venv/bin/python -m pip install -q setuptools pytest ipython numpy; \
	  (cd bindings/python && SCALENECORE_BUILD=$(abspath $(BUILD)) $(abspath $(BUILD))/venv-$$v/bin/python setup.py -q build_ext --inplace); \
	  echo "== CPython $$v"; \
	  PYTHONPATH=$(abspath bindings/python) $$venv/bin/python -m pytest $(PYTEST_ARGS) tests/python; \
	done
