# Two commands for a fresh machine (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BUILT  := $(VENV)/.built
export PYOTP_HW_STRICT := 1

.PHONY: demo site test sysdeps venv lint unit kernels sanitize bench bench-guard clean

sysdeps:
	bash scripts/system-deps.sh

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel cffi
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Rebuild the C extension whenever a C source or the build script changes.
$(BUILT): $(STAMP) $(wildcard csrc/*.c csrc/*.h) csrc/build_core.py
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(BUILT)

venv: sysdeps $(BUILT)

demo: venv
	$(PY) scripts/demo.py

# The reference site for a person to try: the service, the site, a virtual token, an SMTP sink.
site: venv
	$(PY) scripts/site_demo.py --serve

lint: venv
	$(VENV)/bin/ruff check pyotp_hw tests bench csrc scripts setup.py
	$(VENV)/bin/mypy

unit: venv
	$(PY) -m pytest -q -p no:cacheprovider --benchmark-disable tests

sanitize: venv
	$(PY) scripts/sanitize.py

bench-guard: venv
	$(PY) -m pytest -q -p no:cacheprovider bench/test_throughput_guard.py bench/test_bench_cli.py

# The core suite once per instruction set this CPU runs, each forced with PYOTP_HW_KERNEL;
# scripts/kernel_matrix.py says on stderr which it skips and which CPU feature is missing.
kernels: venv
	isas=$$($(PY) scripts/kernel_matrix.py) || exit 1; \
	for isa in $$isas; do \
	  echo "== PYOTP_HW_KERNEL=$$isa"; \
	  PYOTP_HW_KERNEL=$$isa $(PY) -m pytest -q -p no:cacheprovider --benchmark-disable tests/test_vectors.py tests/test_properties.py tests/test_bulk.py tests/test_scalar_api.py || exit 1; \
	done

bench: venv
	$(PY) -m pytest bench --benchmark-only --benchmark-group-by=group --benchmark-columns=mean,ops

test: lint unit kernels sanitize bench-guard

clean:
	rm -rf build build-asan $(VENV) *.egg-info pyotp_hw/_core*.so pyotp_hw/_core.c
