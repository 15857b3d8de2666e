# Two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk git poppler-utils openssh-client

.PHONY: demo test fuzz setup system venv bench clean readme-images

setup: system $(STAMP)

# Debian packages WeasyPrint needs, installed only when missing (apt-get works as root)
system:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo: setup
	bash scripts/demo.sh

# docs/images/*.png for the README: page 1 of the demo's Chinese quote and pipeline report
readme-images: setup
	bash scripts/readme-images.sh

test: setup
	$(BIN)/python -m pytest

# the property tests with fresh random examples (make test uses a fixed seed)
fuzz: setup
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -k "not dataset"

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) out .crmctl build *.egg-info
