# SPDX-FileCopyrightText: 2026 The ilwp-embed authors
# SPDX-License-Identifier: Apache-2.0
# The two set-up commands of the README: `make demo` and `make test`.
# Both create .venv, install the Python dependencies and the Arm toolchain + QEMU (apt, as root).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export ILWP_DATA_DIR ?= $(abspath ../shared/data)
export PLATFORMIO_SETTING_ENABLE_TELEMETRY := no
export PLATFORMIO_DISABLE_UPGRADE_CHECK := true

.PHONY: setup toolchain cmsis-nn demo test bench clean

setup: $(STAMP) toolchain cmsis-nn

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,farm,cluster]'
	@# pyserial and labgrid's pyserial-labgrid both install `serial`: the fork (3.5 + rfc2217 fixes) wins, always
	$(PY) -m pip install -q --no-deps --force-reinstall pyserial-labgrid==3.5.0.2
	touch $(STAMP)

toolchain:
	@scripts/install-toolchain.sh

# CMSIS-NN for --kernels cmsis-nn and its tests: the pinned registry copy (PyPI wheel
# aidge-export-arm-cortexm==0.2.1, sha256-checked), only Include/ and Source/, into .cmsis-nn/
# (git-ignored). Does nothing when it is there already.
cmsis-nn: $(STAMP)
	@$(PY) -m ilwp_embedded setup-cmsis-nn

demo: setup
	$(VENV)/bin/ilwp-embed demo

# pytest exits 5 when it collected no test: that is a failure here, said plainly. Two workers, one test
# file each at a time (module fixtures build once); no test depends on the host's load.
test: setup
	@$(PY) -m pytest -q -n 2 --dist loadfile tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$rc

clean:
	rm -rf $(VENV) build out .pytest_cache .cmsis-nn
