#!/bin/sh
# Quick start, step 1 of 2: install what is missing, build everything,
# create .venv with the scalene package, and profile the demo program.
# Safe to run again.  Step 2 is `make test`.
set -eu
cd "$(dirname "$0")/.."

APT_PACKAGES="build-essential pkg-config python3 python3-venv libcriterion-dev abigail-tools libzstd-dev libmsgpack-dev libyaml-dev libdw-dev clang libclang-rt-14-dev chromium chromium-driver fonts-noto-color-emoji"
missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "quickstart: installing Debian packages:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel pytest selenium ipython >/dev/null

make -s lib PYTHON="$PWD/.venv/bin/python"
.venv/bin/python -m pip install -q --no-build-isolation ./bindings/python >/dev/null
# Also build the extension in-tree so tests can run from the checkout.
make -s python PYTHON="$PWD/.venv/bin/python"

echo "quickstart: profiling examples/demo.py"
.venv/bin/scalene run -o build/demo-profile.json examples/demo.py
.venv/bin/scalene view --cli --reduced build/demo-profile.json
