# The two commands of the README. Both install missing system libraries first.
SWIFT ?= swift
SPEC ?= pipelines/demo.yaml

.PHONY: demo test deps build

deps:
	bash tools/install-deps.sh

build: deps
	$(SWIFT) build -c release --product refinery

demo: build
	$(SWIFT) run -c release --skip-build refinery run $(SPEC) --force
	@echo "look inside: $(SWIFT) run -c release --skip-build refinery inspect out/demo"

# The Swift test suite, then the report in headless Chromium with the debug binary the suite just built.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	REFINERY_BIN="$$($(SWIFT) build --show-bin-path)/refinery" bash tools/report/check_browser.sh

# Only the browser test (installs chromium and playwright on first use; builds a release binary unless REFINERY_BIN is set).
.PHONY: test-browser
test-browser:
	bash tools/report/check_browser.sh

# The scale-out test on a real one-node Slurm (tools/slurm/README.md): installs slurm-wlm and munge when missing,
# starts the daemons under /tmp, runs the demo and a generated corpus with --executor slurm --tasks 4 (one map task
# killed and resubmitted), compares each dataset byte for byte with the local executor's, stops the daemons.
.PHONY: test-slurm
test-slurm: deps
	$(SWIFT) build --product refinery
	REFINERY_BIN="$$($(SWIFT) build --show-bin-path)/refinery" bash tools/slurm/test.sh

# The end-to-end benchmark (tools/bench/README.md, "End-to-end benchmark"): the seven stages on a 1 GB corpus, and
# datatrove beside Refinery on a 50 MB one. REFINERY_BENCH_SIZES="100 1000 5000" for the scaling; other settings
# are REFINERY_BENCH_* environment variables.
.PHONY: bench
bench:
	bash tools/bench/e2e.sh
