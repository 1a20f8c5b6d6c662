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

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Renders the demo report in headless Chromium and checks it; installs chromium and playwright on first use.
.PHONY: test-browser
test-browser:
	bash tools/report/check_browser.sh
