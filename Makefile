# Two entry points for a fresh machine (see README):
#   make run   - set up, then run the QA job on sample_audio/ into out/
#   make test  - set up, then run the test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CALLQA_WHISPER_MODEL ?= ../shared/models/whisper-base.pt
export CALLQA_WHISPER_MODEL

.PHONY: setup run test

setup: $(BIN)/callqa
	@command -v ffmpeg >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq ffmpeg; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq ffmpeg; fi; }

$(BIN)/callqa: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test]"
	@touch $@

run: setup
	$(BIN)/callqa run sample_audio/ --out out/

test: setup
	$(BIN)/python -m pytest -q -ra
