#!/usr/bin/env bash
# Side-by-side benchmark, spanward against Rotel (`rotel==0.0.1a15` from PyPI), in one command:
# builds the release binaries (spanward and examples/count_receiver.rs), sets up a Python venv
# with matplotlib at target/bench-venv, fetches Rotel's wheel and unpacks its `rotel-agent`,
# then runs benches/compare.py, which writes docs/bench/compare.{md,png,json} and prints the
# markdown. See `benches/compare.sh --help`.
#
# usage: benches/compare.sh [--runs 3] [--secs 20] [--concurrency 8] [--only main|sweeps]
#        benches/compare.sh --quick     # 1 run x 3 s of everything, into target/bench-quick/
#        benches/compare.sh --only main --baseline OLD/spanward   # plus before/after rows
#          (OLD/spanward: an older build, e.g. from a `git worktree`; it is not rebuilt here)
set -euo pipefail
cd "$(dirname "$0")/.."

matplotlib=3.10.3
rotel_version=0.0.1a15
target=${CARGO_TARGET_DIR:-target}

cargo build --release --locked --quiet --bin spanward --example count_receiver

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  { echo "benches/compare.sh needs Python >= 3.11 (tomllib)" >&2; exit 1; }
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import matplotlib, sys; sys.exit(matplotlib.__version__ != '$matplotlib')" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "matplotlib==$matplotlib"
fi

rotel_dir=$venv/rotel-$rotel_version
if [ ! -x "$rotel_dir/rotel/rotel-agent" ]; then
  rm -rf "$venv/rotel-wheel" "$rotel_dir"
  "$venv/bin/pip" download --quiet --no-deps --disable-pip-version-check \
    "rotel==$rotel_version" -d "$venv/rotel-wheel"
  "$venv/bin/python" -m zipfile -e "$venv"/rotel-wheel/rotel-"$rotel_version"-*.whl "$rotel_dir"
  chmod +x "$rotel_dir/rotel/rotel-agent"
fi

# exec: signals (Ctrl-C) go straight to compare.py, which stops every child it started.
exec "$venv/bin/python" benches/compare.py \
  --spanward "$target/release/spanward" \
  --receiver "$target/release/examples/count_receiver" \
  --rotel "$rotel_dir/rotel/rotel-agent" \
  "--argv=$*" "$@"
