# Two commands for a fresh machine (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BUILT  := $(VENV)/.built
export PYOTP_HW_STRICT := 1

.PHONY: demo site test sysdeps venv lint unit kernels sanitize bench bench-guard lowest clean

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

# The suite on JOBS processes (pytest-xdist; each has its own pcscd and PostgreSQL), then the
# tests marked serial alone: they compare timings, which a neighbouring process would distort.
JOBS ?= 2
unit: venv
	$(PY) -m pytest -q -p no:cacheprovider --benchmark-disable --durations=15 -n $(JOBS) -m "not serial" tests
	$(PY) -m pytest -q -p no:cacheprovider --benchmark-disable -m serial tests

sanitize: venv
	JOBS=$(JOBS) $(PY) scripts/sanitize.py

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

# The lowest versions pyproject allows, in their own environment: the constraints come from
# scripts/lowest_constraints.py, pyotp-hw is built with them (no build isolation) and installed
# as a wheel, not editable, so that the C core there is compiled by the oldest cffi.
LOWEST    ?= .venv-lowest
LOWEST_PY := $(LOWEST)/bin/python
$(LOWEST)/.installed: $(STAMP) pyproject.toml setup.py scripts/lowest_constraints.py $(wildcard csrc/*.c csrc/*.h) csrc/build_core.py
	rm -rf $(LOWEST)
	$(PYTHON) -m venv $(LOWEST)
	$(PY) scripts/lowest_constraints.py > $(LOWEST)/constraints.txt
	$(LOWEST_PY) -m pip install -q -c $(LOWEST)/constraints.txt setuptools wheel cffi
	$(LOWEST_PY) -m pip install -q --no-build-isolation -c $(LOWEST)/constraints.txt '.[test]'
	touch $@

# The core, provisioning, token, vault and verifier suites on those versions (not the kernel
# matrix, the oathtool comparison nor pyotp's upstream suite, which no dependency's version
# changes; not the HTTP service and browser suites, to keep CI within its time).
# PYTHONSAFEPATH and --import-mode=append keep this checkout's own pyotp_hw (built by the newest
# cffi) off the front of sys.path; the hypothesis profile "lowest" searches less (make unit
# already ran the full search on the newest versions). The timing comparisons (serial) ran in
# make unit: no dependency's version changes them.
lowest: sysdeps $(LOWEST)/.installed
	cd /tmp && PYTHONSAFEPATH=1 $(abspath $(LOWEST_PY)) -c "import pyotp_hw, sys; \
	  assert '$(LOWEST)' in pyotp_hw.__file__, pyotp_hw.__file__"
	$(LOWEST_PY) -m pip freeze --exclude pyotp-hw | grep -iE '^(cffi|cryptography|pyscard|fido2|psycopg|numpy|hypothesis|pytest)=='
	PYTHONSAFEPATH=1 HYPOTHESIS_PROFILE=lowest $(LOWEST_PY) -m pytest -q -p no:cacheprovider \
	  --import-mode=append -n $(JOBS) --durations=10 \
	  --benchmark-disable -m "not slow and not serial" --ignore=tests/pyotp_suite \
	  --ignore=tests/test_kernels.py --ignore=tests/test_oathtool_compat.py \
	  --ignore=tests/service --ignore=tests/site tests

bench: venv
	$(PY) -m pytest bench --benchmark-only --benchmark-group-by=group --benchmark-columns=mean,ops

# Each step in turn, with the seconds it took (CI's time budget is read from these lines).
TEST_STEPS := venv lint unit kernels sanitize bench-guard lowest
test:
	@for step in $(TEST_STEPS); do \
	  started=$$(date +%s); \
	  $(MAKE) --no-print-directory $$step || exit 1; \
	  echo "== make $$step: $$(( $$(date +%s) - started )) s"; \
	done

clean:
	rm -rf build build-asan $(VENV) $(LOWEST) *.egg-info pyotp_hw/_core*.so pyotp_hw/_core.c
