#!/usr/bin/env bash
# Installs what titan-ops needs on a Debian machine, as root. Safe to run twice.
#   bash scripts/setup.sh          # the runner and the lab: openssh-server, a venv in .venv
#   bash scripts/setup.sh --test   # also the test tools and the ansible-core oracle venv
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TESTS=0
[[ "${1:-}" == "--test" ]] && WITH_TESTS=1

# postgresql, redis-server, nginx, prometheus, prometheus-alertmanager, prometheus-node-exporter,
# sysstat (sar, iostat), node and pm2: the full lab (`titan-ops lab up --titan`); prometheus and
# prometheus-alertmanager also for detection (`titan-ops watch` receives Alertmanager's webhooks).
# procps (ps, pgrep) for the lab and the tests; python3 at /usr/bin/python3 for the oracle's local targets.
# acl (setfacl, getfacl): ansible-core's lineinfile target checks that a rewritten file keeps its ACLs.
# python3-apt: ansible-core's apt module (the oracle) needs it, and would install it itself otherwise.
# unzip, bzip2, xz-utils: the unarchive module on a host (zip, bzip2 and xz archives); zip: its tests.
APT_PACKAGES=(openssh-server openssh-client sudo curl procps python3 postgresql redis-server nginx prometheus
              prometheus-alertmanager prometheus-node-exporter sysstat acl python3-apt unzip zip bzip2 xz-utils)

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# Debian ships the venv module without ensurepip (python3-venv), and a venv cannot be made without it.
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
if ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
fi
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

if ! command -v pm2 >/dev/null 2>&1; then
    echo "setup: installing pm2 (npm install -g pm2)"
    npm install -g --no-fund --no-audit --loglevel=error pm2 >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
extras="[incident]"
((WITH_TESTS)) && extras="[incident,test]"
# compat: the editable install is a plain path entry (a .pth line) rather than an import hook,
# which every start of the CLI would load (a few milliseconds).
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}" --config-settings editable_mode=compat

if ((WITH_TESTS)); then
    # pv's .deb in apt's cache: tests/test_module_apt.py installs and removes it with no network
    ls /var/cache/apt/archives/pv_*.deb >/dev/null 2>&1 ||
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --reinstall \
            --download-only pv >/dev/null
    ORACLE=/opt/titan-ops-oracle
    if [[ ! -x "$ORACLE/bin/ansible-playbook" ]]; then
        echo "setup: installing the ansible-core oracle into $ORACLE (tests only)"
        python3 -m venv "$ORACLE"
        "$ORACLE/bin/python" -m pip install -q --disable-pip-version-check "ansible-core==2.19.14"
    fi
    # Its release source package: the integration targets of tests/integration_targets (never committed here).
    version=$("$ORACLE/bin/python" -c 'import ansible.release as r; print(r.__version__)')
    if [[ ! -f "$ORACLE/src/ansible_core-$version.tar.gz" ]]; then
        echo "setup: fetching ansible-core $version's source package into $ORACLE/src (tests only)"
        .venv/bin/python -m pip download -q --disable-pip-version-check --no-binary :all: --no-deps \
            -d "$ORACLE/src" "ansible-core==$version"
    fi
fi
echo "setup: ok"
