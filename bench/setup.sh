#!/usr/bin/env bash
# Creates the benchmark-only virtual environments (gitignored), as root. Safe to run twice.
#   bench/.venv-bench    the driver: psutil, matplotlib, titan-ops (editable, for the lab)
#   bench/.venv-ansible  ansible-core 2.19 (ssh and paramiko connections)
#   bench/.venv-pyinfra  pyinfra 3
# titan-ops itself and the plain-paramiko floor run from the project's .venv
# (scripts/setup.sh), which is what an operator runs.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -x .venv/bin/titan-ops ]] || bash scripts/setup.sh
# titan-ops-cluster: the dask scheduler and workers run from .venv too (the cluster extra)
.venv/bin/python -c "import distributed" 2>/dev/null ||
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[incident,cluster]" \
        --config-settings editable_mode=compat

make_venv() {  # make_venv DIR STAMP PACKAGES...
    local dir=$1 stamp=$2; shift 2
    if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$stamp" ]]; then
        return
    fi
    echo "bench setup: $dir ($*)"
    [[ -x "$dir/bin/python" ]] || python3 -m venv "$dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check "$@"
    echo "$stamp" >"$dir/.stamp"
}

make_venv bench/.venv-bench   "v2" psutil "matplotlib>=3.7" py-spy -e .
make_venv bench/.venv-ansible "v1" "ansible-core>=2.19,<2.20" paramiko
make_venv bench/.venv-pyinfra "v1" "pyinfra>=3.0,<4"
echo "bench setup: ok"
