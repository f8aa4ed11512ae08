"""The titan-ops benchmark: the same 12-task workload run by titan-ops, ansible-core, pyinfra and plain paramiko.

    bash bench/run.sh [--hosts 1,10,50,200] [--reps 3] [--runners ...] [--skip-above RUNNER=N ...]

(``bench/run.sh`` creates the benchmark venvs, then runs ``bench/.venv-bench/bin/python -m bench``.)

For each host count it starts (or reuses) a lab of that many sshd hosts and,
for every repetition, runs each runner in turn (the order rotates between
repetitions): the target directory is removed on every host, then the
runner's first run and its second (idempotent) run. Every runner is a child
process; its wall time is measured from spawn to exit, and its memory is the
peak of the summed RSS of its process tree (sampled every 0.1 s; for
ansible's ssh connection the ControlPersist masters, which leave the tree,
are counted too). Medians are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORKLOAD = BENCH / "workload"
TASKS = 12
BENCH_DIR = "/srv/titan/bench"

RUNNERS = ["floor", "floor-naive", "floor-session", "titan-ops", "titan-ops-session", "titan-ops-api",
           "titan-ops-cluster", "pyinfra", "ansible-ssh", "ansible-paramiko"]
DESCRIPTIONS = {
    "floor": "plain paramiko: a connection per host, a thread per host, a channel per command; "
             "TCP_NODELAY and TCP_QUICKACK on its socket",
    "floor-naive": "the same with paramiko's socket defaults (a delayed ACK, about 40 ms, on most commands)",
    "floor-session": "the floor's commands through one /bin/sh session per host (framed: exit status, end of "
                     "stdout and stderr), no channel per command: below the per-command floor",
    "titan-ops": "titan-ops CLI: titan-ops run -f HOSTS (wall time of the command)",
    "titan-ops-session": "titan-ops CLI with --session: each host's commands through one shell session "
                         "(ansible_titan_session), no channel per command",
    "titan-ops-api": "titan-ops API: titan_ops.run(forks=HOSTS) in a fresh python (wall time of the process)",
    "titan-ops-cluster": "titan-ops CLI with --cluster: the hosts' connections on a dask scheduler and "
                         "CLUSTER_WORKERS dask workers on this machine, started once for the benchmark; "
                         "memory counts the scheduler and workers too",
    "pyinfra": "pyinfra deploy, --parallel HOSTS",
    "ansible-ssh": "ansible-playbook, ssh connection, ControlPersist, pipelining, -f HOSTS",
    "ansible-paramiko": "ansible-playbook -c paramiko, pipelining, -f HOSTS",
}
REFERENCE = "titan-ops"
TITAN_SRC: str | None = None  # --titan-src: run titan-ops from this copy of the sources
CLUSTER: Any = None  # the dask processes of titan-ops-cluster (tests/cluster_support.DaskProcesses)
CLUSTER_WORKERS = 2
SAMPLE_SECONDS = 0.1


# -- one measured process --------------------------------------------------------------------
@dataclass
class Measure:
    runner: str
    hosts: int
    run: str  # "first" or "second"
    rep: int
    wall: float
    inner: float | None
    peak_mb: float
    rc: int
    log: str
    ok: bool = True
    cpu: float | None = None  # CPU seconds (user + system) of the runner's process and its reaped children
    load: float | None = None  # the machine's 1-minute load average when the run ended
    host_cpu: float | None = None  # CPU seconds of the hosts' sshd and all it ran (sessions, shells, commands)


class TreeSampler(threading.Thread):
    """Peak summed RSS of a process, its descendants, and processes whose command line holds ``marker``."""

    def __init__(self, pid: int, marker: str | None = None):
        super().__init__(daemon=True)
        self.pid = pid
        self.marker = marker
        self.peak = 0
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._halt.is_set():
            self.sample(root)
            self._halt.wait(SAMPLE_SECONDS)

    def sample(self, root: psutil.Process) -> None:
        processes: dict[int, psutil.Process] = {}
        try:
            processes[root.pid] = root
            for child in root.children(recursive=True):
                processes[child.pid] = child
        except psutil.NoSuchProcess:
            pass
        if self.marker:
            for process in psutil.process_iter(["cmdline"]):
                if any(self.marker in part for part in (process.info["cmdline"] or ())):
                    processes[process.pid] = process
        total = 0
        for process in processes.values():
            try:
                total += process.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def measure(argv: list[str], env: dict[str, str], log: Path, marker: str | None = None,
            cwd: Path = ROOT) -> tuple[float, int, int, str, float]:
    """Run ``argv``; (wall seconds, peak bytes, exit code, stdout, CPU seconds). The CPU is the
    process's and its descendants' that it waited for: for the cluster runner the controller's alone
    (the dask scheduler and workers are not its children)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log, "wb") as output:
        start = time.monotonic()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=output,
                                   stdin=subprocess.DEVNULL)
        sampler = TreeSampler(process.pid, marker)
        sampler.start()
        stdout, _ = process.communicate()
        wall = time.monotonic() - start
        peak = sampler.stop()
        output.write(stdout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, peak, process.returncode, stdout.decode("utf-8", "replace"), cpu


# -- the files each runner reads ----------------------------------------------------------------------
@dataclass
class Setup:
    hosts: int
    names: list[str]
    directory: Path
    lab: Any
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return str(self.lab.client_key_path)

    @property
    def known_hosts(self) -> str:
        return str(self.lab.known_hosts_path)


def write_inputs(setup: Setup) -> None:
    d = setup.directory
    d.mkdir(parents=True, exist_ok=True)
    lab_inventory = yaml.safe_load(Path(setup.lab.inventory_path).read_text())
    all_hosts = lab_inventory["all"]["children"]["lab"]["hosts"]
    setup.entries = {name: all_hosts[name] for name in setup.names}
    # titan-ops: the lab's own inventory, cut to these hosts
    titan = {"all": {"children": {"lab": {"hosts": setup.entries}}}}
    (d / "titan-inventory.yml").write_text(yaml.safe_dump(titan, sort_keys=False))
    # ansible: the same hosts, the lab's key and known_hosts
    common = f"-o UserKnownHostsFile={setup.known_hosts} -o StrictHostKeyChecking=yes"
    ansible_hosts = {name: {key: value for key, value in entry.items()
                            if key in ("ansible_host", "ansible_port", "ansible_user",
                                       "ansible_ssh_private_key_file")}
                     for name, entry in setup.entries.items()}
    ansible = {"all": {"vars": {"ansible_python_interpreter": "/usr/bin/python3",
                                "ansible_ssh_common_args": common},
                       "children": {"lab": {"hosts": ansible_hosts}}}}
    (d / "ansible-inventory.yml").write_text(yaml.safe_dump(ansible, sort_keys=False))
    # pyinfra: a python inventory with its ssh settings
    lines = ["# pyinfra inventory for the benchmark (generated)", "lab = ["]
    for name, entry in setup.entries.items():
        data = {"ssh_hostname": entry["ansible_host"], "ssh_port": entry["ansible_port"],
                "ssh_user": entry["ansible_user"], "ssh_key": setup.key,
                "ssh_known_hosts_file": setup.known_hosts, "ssh_strict_host_key_checking": "yes"}
        lines.append(f"    ({name!r}, {data!r}),")
    lines.append("]")
    (d / "pyinfra_inventory.py").write_text("\n".join(lines) + "\n")
    # the floor
    floor = [{"name": name, "hostname": entry["ansible_host"], "port": entry["ansible_port"],
              "user": entry["ansible_user"], "key": setup.key, "known_hosts": setup.known_hosts}
             for name, entry in setup.entries.items()]
    (d / "floor-hosts.json").write_text(json.dumps(floor, indent=1))
    # ansible's home: known_hosts for -c paramiko (which reads ~/.ssh/known_hosts), its local tmp
    home = d / "ansible-home"
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    shutil.copy(setup.known_hosts, home / ".ssh" / "known_hosts")


def ansible_config(setup: Setup, control_dir: str) -> Path:
    home = setup.directory / "ansible-home"
    path = setup.directory / "ansible.cfg"
    path.write_text(
        "[defaults]\n"
        "host_key_checking = True\n"
        f"forks = {setup.hosts}\n"
        "retry_files_enabled = False\n"
        "interpreter_python = /usr/bin/python3\n"
        f"local_tmp = {home}/.ansible/tmp\n"
        "[ssh_connection]\n"
        "pipelining = True\n"
        "ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s\n"
        f"control_path_dir = {control_dir}\n"
        "[paramiko_connection]\n"
        "record_host_keys = False\n"
    )
    return path


def command(runner: str, setup: Setup, control_dir: str) -> tuple[list[str], dict[str, str], str | None]:
    """argv, environment and the memory marker of ``runner``."""
    d = setup.directory
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "PYINFRA_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an operator's install has its bytecode cached
    playbook = str(WORKLOAD / "playbook.yml")
    forks = str(setup.hosts)
    if TITAN_SRC and runner.startswith("titan-ops"):
        env["PYTHONPATH"] = TITAN_SRC
    if runner in ("floor", "floor-naive"):
        return [str(ROOT / ".venv/bin/python"), str(BENCH / "floor.py"), str(d / "floor-hosts.json")] + \
            (["--naive"] if runner == "floor-naive" else []), env, None
    if runner == "floor-session":
        return [str(ROOT / ".venv/bin/python"), str(BENCH / "floor_session.py"), str(d / "floor-hosts.json")], env, None
    if runner == "titan-ops":
        return [str(ROOT / ".venv/bin/titan-ops"), "run", playbook, "-i", str(d / "titan-inventory.yml"),
                "-f", forks], env, None
    if runner == "titan-ops-session":
        return [str(ROOT / ".venv/bin/titan-ops"), "run", playbook, "-i", str(d / "titan-inventory.yml"),
                "-f", forks, "--session"], env, None
    if runner == "titan-ops-cluster":
        return [str(ROOT / ".venv/bin/titan-ops"), "run", playbook, "-i", str(d / "titan-inventory.yml"),
                "-f", forks, "--cluster", CLUSTER.address], env, str(CLUSTER.logs[0].parent)
    if runner == "titan-ops-api":
        return [str(ROOT / ".venv/bin/python"), str(BENCH / "titan_api.py"), playbook,
                str(d / "titan-inventory.yml"), forks], env, None
    if runner == "pyinfra":
        return [str(BENCH / ".venv-pyinfra/bin/pyinfra"), "-y", "--parallel", forks,
                str(d / "pyinfra_inventory.py"), str(WORKLOAD / "deploy.py")], env, None
    if runner in ("ansible-ssh", "ansible-paramiko"):
        env["HOME"] = str(d / "ansible-home")
        env["ANSIBLE_CONFIG"] = str(ansible_config(setup, control_dir))
        argv = [str(BENCH / ".venv-ansible/bin/ansible-playbook"), "-i", str(d / "ansible-inventory.yml"),
                "-f", forks]
        if runner == "ansible-paramiko":
            argv += ["-c", "paramiko"]
        return argv + [playbook], env, (control_dir if runner == "ansible-ssh" else None)
    raise ValueError(runner)


def hosts_cpu(setup: Setup, settled: bool = False) -> float:
    """CPU seconds (user + system) the setup's hosts' sshd have spent so far with everything they reaped:
    connections, sessions, shells, commands. ``settled``: first wait (up to 5 s) until no connection of
    theirs is left to reap, so that a run just ended is counted whole."""
    listeners = []
    names = set(setup.names)
    for host in setup.lab.hosts:
        if host.name in names and host.pid is not None:
            try:
                listeners.append(psutil.Process(host.pid))
            except psutil.NoSuchProcess:
                pass
    deadline = time.monotonic() + 5
    while settled and time.monotonic() < deadline and any(_has_children(process) for process in listeners):
        time.sleep(0.05)
    total = 0.0
    for process in listeners:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _has_children(process: psutil.Process) -> bool:
    try:
        return bool(process.children())
    except psutil.NoSuchProcess:
        return False


def end_masters(control_dir: str) -> None:
    """Stop the ControlPersist masters that ansible started for this repetition (found by their socket dir)."""
    for process in psutil.process_iter(["cmdline", "name"]):
        if process.info["name"] == "ssh" and any(control_dir in part for part in (process.info["cmdline"] or ())):
            try:
                process.terminate()
            except psutil.NoSuchProcess:
                pass


def clean(setup: Setup) -> None:
    for name in setup.names:
        target = setup.lab.host_path(name, BENCH_DIR)
        if target.exists():
            shutil.rmtree(target)


def verify(setup: Setup) -> str | None:
    """None when the last run left the expected files on the first and the last host."""
    for name in {setup.names[0], setup.names[-1]}:
        app = setup.lab.host_path(name, f"{BENCH_DIR}/app.conf")
        conf = setup.lab.host_path(name, f"{BENCH_DIR}/bench.conf")
        if not app.exists() or f"rendered for {name}\n" not in app.read_text():
            return f"{name}: {app} missing or wrong"
        if conf.read_bytes() != (WORKLOAD / "files" / "bench.conf").read_bytes():
            return f"{name}: {conf} differs"
    return None


# -- the run ------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", default="1,10,50,200", help="host counts, comma separated (default 1,10,50,200)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each runner (default 3)")
    parser.add_argument("--slow-reps", default="3,50:1", metavar="SPEC",
                        help="repetitions of the ansible runners: R, or R,N:R2 for R2 from N hosts up "
                             "(default 3,50:1: ansible takes minutes a run at 50 hosts); never more than --reps")
    parser.add_argument("--runners", default=",".join(RUNNERS), help=f"comma separated, of {', '.join(RUNNERS)}")
    parser.add_argument("--skip-above", action="append", default=[], metavar="RUNNER=N",
                        help="skip RUNNER (or a prefix: ansible) above N hosts; repeatable "
                             "(default: ansible=50 unless --no-default-skips)")
    parser.add_argument("--no-default-skips", action="store_true", help="run every runner at every host count")
    parser.add_argument("--lab-dir", default=str(BENCH / "work" / "lab"), help="the lab's directory")
    parser.add_argument("--keep-lab", action="store_true", help="leave the lab running at the end")
    parser.add_argument("--out", default=str(BENCH / "results" / "latest"),
                        help="results prefix: writes PREFIX.json and PREFIX.png (default bench/results/latest)")
    parser.add_argument("--titan-src", metavar="DIR",
                        help="import titan_ops from DIR (e.g. a `git archive` snapshot) instead of the work tree, "
                             "still with .venv's interpreter and packages")
    parser.add_argument("--titan-rev", metavar="REV",
                        help="measure titan_ops as committed at git revision REV (extracted to bench/work/src-REV "
                             "and used as --titan-src)")
    parser.add_argument("--runs", default="first,second", choices=["first", "first,second"],
                        help="the runs of each repetition: first (creates the files) and second (nothing to "
                             "change), or first alone (default first,second)")
    parser.add_argument("--title", default="", help="a note stored in the JSON")
    return parser.parse_args(argv)


def slow_reps(spec: str, hosts: int) -> int:
    """Repetitions for a slow runner at ``hosts`` from a spec like ``3`` or ``3,50:1``."""
    parts = [part.strip() for part in spec.split(",") if part.strip()]
    reps = int(parts[0])
    for part in parts[1:]:
        threshold, _, count = part.partition(":")
        if hosts >= int(threshold):
            reps = int(count)
    return reps


def skip_limits(args: argparse.Namespace) -> dict[str, int]:
    limits: dict[str, int] = {} if args.no_default_skips else {"ansible": 50}
    for item in args.skip_above:
        name, _, number = item.partition("=")
        limits[name] = int(number)
    return limits


def skipped(runner: str, hosts: int, limits: dict[str, int]) -> int | None:
    for name, limit in limits.items():
        if (runner == name or runner.startswith(name + "-")) and hosts > limit:
            return limit
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from titan_ops import lab as titan_lab

    counts = [int(item) for item in args.hosts.split(",") if item.strip()]
    runners = [item.strip() for item in args.runners.split(",") if item.strip()]
    for runner in runners:
        if runner not in RUNNERS:
            sys.exit(f"unknown runner {runner}; known: {', '.join(RUNNERS)}")
    limits = skip_limits(args)
    global TITAN_SRC
    TITAN_SRC = str(Path(args.titan_src).resolve()) if args.titan_src else None
    if args.titan_rev:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.titan_rev], check=True,
                             capture_output=True, text=True).stdout.strip()
        source = BENCH / "work" / f"src-{rev}"
        if not (source / "titan_ops").is_dir():
            source.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "titan_ops"], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
            (source / "REV").write_text(rev + "\n")
        TITAN_SRC = str(source)
    load_before = os.getloadavg()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    work = BENCH / "work" / stamp
    print(f"bench: hosts {counts}, {args.reps} repetitions, runners {runners}; logs in {work}", flush=True)
    started = time.monotonic()
    bed = titan_lab.up(hosts=max(counts), directory=args.lab_dir)
    print(f"bench: lab of {len(bed.hosts)} hosts up in {time.monotonic() - started:.1f}s", flush=True)
    global CLUSTER
    if "titan-ops-cluster" in runners:
        sys.path.insert(0, str(ROOT))
        from tests import cluster_support  # the tests' launcher of dask processes on loopback

        CLUSTER = cluster_support.start(work / "dask", CLUSTER_WORKERS, dask=str(ROOT / ".venv/bin/dask"),
                                        pythonpath=TITAN_SRC)
        print(f"bench: dask scheduler and {CLUSTER_WORKERS} workers at {CLUSTER.address}", flush=True)
    names = sorted((host.name for host in bed.hosts), key=lambda name: int(name[3:]))
    measures: list[Measure] = []
    skips: dict[str, int] = {}
    errors: list[str] = []
    try:
        for count in counts:
            setup = Setup(count, names[:count], work / f"h{count}", bed)
            write_inputs(setup)
            active = []
            for runner in runners:
                limit = skipped(runner, count, limits)
                if limit is None:
                    active.append(runner)
                else:
                    skips[f"{runner}@{count}"] = limit
                    print(f"bench: {runner} skipped at {count} hosts (--skip-above {runner.split('-')[0]}"
                          f"={limit})", flush=True)
            for rep in range(args.reps):
                order = active[rep % len(active):] + active[:rep % len(active)]
                for runner in order:
                    if runner.startswith("ansible") and rep >= slow_reps(args.slow_reps, count):
                        continue
                    control_dir = tempfile.mkdtemp(prefix="tbcp-", dir="/tmp")
                    try:
                        clean(setup)
                        for run in [item for item in ("first", "second") if item in args.runs.split(",")]:
                            argv_, env, marker = command(runner, setup, control_dir)
                            log = setup.directory / f"{runner}-{rep}-{run}.log"
                            hosts_before = hosts_cpu(setup)
                            wall, peak, rc, stdout, cpu = measure(argv_, env, log, marker)
                            host_cpu = hosts_cpu(setup, settled=True) - hosts_before
                            inner = None
                            if runner in ("floor", "floor-naive", "floor-session", "titan-ops-api"):
                                try:
                                    inner = json.loads(stdout.strip().splitlines()[-1])["seconds"]
                                except (ValueError, IndexError, KeyError):
                                    pass
                            problem = verify(setup) if rc == 0 else f"exit code {rc}"
                            if problem:
                                errors.append(f"{runner} {count} hosts rep {rep} {run}: {problem} (log {log})")
                                print(f"bench: ERROR {errors[-1]}", flush=True)
                            load = os.getloadavg()[0]
                            measures.append(Measure(runner, count, run, rep, wall, inner, peak / 2**20, rc,
                                                    str(log.relative_to(ROOT)), ok=problem is None, cpu=cpu,
                                                    load=load, host_cpu=host_cpu))
                            print(f"bench: {count:>4} hosts rep {rep} {runner:<17} {run:<6} {wall:8.2f}s "
                                  f"{peak / 2**20:7.0f} MB {cpu:7.2f}s CPU {host_cpu:7.2f}s hosts' CPU "
                                  f"load {load:5.1f}"
                                  + (f"  (inner {inner:.2f}s)" if inner else ""),
                                  flush=True)
                    finally:
                        end_masters(control_dir)
                        shutil.rmtree(control_dir, ignore_errors=True)
    finally:
        if CLUSTER is not None:
            CLUSTER.stop()
        if not args.keep_lab:
            titan_lab.down(args.lab_dir)
    rows = summarise(measures, runners, counts)
    verdicts = targets(rows)
    overheads = cluster_overheads(rows)
    print()
    print(table(rows))
    print()
    for verdict in verdicts:
        print(f"{'MET   ' if verdict['met'] else 'MISSED'} {verdict['target']}: {verdict['detail']}")
    for line in overheads:
        print(line)
    for key, limit in skips.items():
        print(f"skipped: {key} (above {limit} hosts)")
    for error in errors:
        print(f"FAILED (left out of the medians): {error}")
    document = {
        "title": args.title,
        "date": datetime.now().isoformat(timespec="seconds"),
        "command": "bash bench/run.sh " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "versions": versions(),
        "tasks_per_host": TASKS,
        "repetitions": args.reps,
        "runners": {runner: DESCRIPTIONS[runner] for runner in runners},
        "skipped": skips,
        "errors": errors,
        "rows": rows,
        "targets": verdicts,
        "cluster_overheads": overheads,
        "measures": [asdict(item) for item in measures],
        "seconds_total": time.monotonic() - started,
        "titan_src": TITAN_SRC or str(ROOT),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(document, indent=1) + "\n")
    skipped_above: dict[str, int] = {}
    for key, limit in skips.items():
        skipped_above[key.split("@")[0]] = limit
    notes = [f"{runner} not run above {limit} hosts" for runner, limit in skipped_above.items()]
    chart(rows, counts, out.with_suffix(".png"), notes)
    scale_chart(rows, counts, out.with_name(out.name + "-scale.png"))
    print(f"\nbench: wrote {out.with_suffix('.json')}, {out.with_suffix('.png')} and "
          f"{out.with_name(out.name + '-scale.png')} ({time.monotonic() - started:.0f}s in all)")
    return 1 if errors else 0


def summarise(measures: list[Measure], runners: list[str], counts: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    medians: dict[tuple[str, int, str], float] = {}
    for count in counts:
        for run in ("first", "second"):
            for runner in runners:
                tried = [m for m in measures if (m.runner, m.hosts, m.run) == (runner, count, run)]
                chosen = [m for m in tried if m.ok]  # a failed run does not count
                if not chosen:
                    continue
                wall = statistics.median(m.wall for m in chosen)
                medians[(runner, count, run)] = wall
                inner = [m.inner for m in chosen if m.inner is not None]
                rows.append({
                    "runner": runner, "hosts": count, "run": run, "reps": len(chosen),
                    "failed_reps": len(tried) - len(chosen),
                    "wall": wall, "walls": [m.wall for m in chosen],
                    "inner": statistics.median(inner) if inner else None,
                    "per_host_task": wall / (count * TASKS),
                    "cpu_per_host_task": (statistics.median(m.cpu for m in chosen) / (count * TASKS)
                                          if all(m.cpu is not None for m in chosen) else None),
                    "peak_mb": statistics.median(m.peak_mb for m in chosen),
                    "peak_mb_max": max(m.peak_mb for m in chosen),
                    "cpu": (statistics.median(m.cpu for m in chosen)
                            if all(m.cpu is not None for m in chosen) else None),
                    "load": [m.load for m in chosen],
                    "host_cpu": (statistics.median(m.host_cpu for m in chosen)
                                 if all(m.host_cpu is not None for m in chosen) else None),
                })
    for row in rows:
        reference = medians.get((REFERENCE, row["hosts"], row["run"]))
        floor = medians.get(("floor", row["hosts"], row["run"]))
        row["x_titan_ops"] = row["wall"] / reference if reference else None
        row["x_floor"] = row["wall"] / floor if floor else None
        naive = medians.get(("floor-naive", row["hosts"], row["run"]))
        row["x_floor_naive"] = row["wall"] / naive if naive else None
    return rows


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, checked against the medians (titan-ops = the CLI's wall time)."""
    wall = {(row["runner"], row["hosts"], row["run"]): row for row in rows}
    verdicts: list[dict[str, Any]] = []

    def add(target: str, met: bool, detail: str) -> None:
        verdicts.append({"target": target, "met": met, "detail": detail})

    for count in (10, 50, 200):
        for run in ("first", "second"):
            titan, floor = wall.get((REFERENCE, count, run)), wall.get(("floor", count, run))
            if titan and floor:
                ratio = titan["wall"] / floor["wall"]
                add(f"titan-ops <= 1.3x floor, {count} hosts, {run} run", ratio <= 1.3,
                    f"{titan['wall']:.2f}s vs {floor['wall']:.2f}s = {ratio:.2f}x")
            session = wall.get(("titan-ops-session", count, run))
            if session and floor:
                ratio = session["wall"] / floor["wall"]
                add(f"titan-ops --session <= 1.0x floor, {count} hosts, {run} run", ratio <= 1.0,
                    f"{session['wall']:.2f}s vs {floor['wall']:.2f}s = {ratio:.2f}x")
    for run in ("first", "second"):
        titan = wall.get((REFERENCE, 50, run))
        ansibles = [row for key, row in wall.items() if key[0].startswith("ansible") and key[1:] == (50, run)]
        if titan and ansibles:
            fastest = min(ansibles, key=lambda row: row["wall"])
            ratio = fastest["wall"] / titan["wall"]
            add(f"titan-ops >= 25x faster than the fastest ansible, 50 hosts, {run} run", ratio >= 25,
                f"{fastest['runner']} {fastest['wall']:.2f}s / {titan['wall']:.2f}s = {ratio:.1f}x")
        pyinfra = wall.get(("pyinfra", 50, run))
        if titan and pyinfra:
            ratio = pyinfra["wall"] / titan["wall"]
            add(f"titan-ops >= 2x faster than pyinfra, 50 hosts, {run} run", ratio >= 2,
                f"{pyinfra['wall']:.2f}s / {titan['wall']:.2f}s = {ratio:.1f}x")
    for run in ("first", "second"):
        per = {count: wall[(REFERENCE, count, run)]["per_host_task"] for count in (10, 50, 200)
               if (REFERENCE, count, run) in wall}
        if 10 in per and 200 in per:
            worst = max(per[count] / per[10] for count in per)
            add(f"time per host-task flat (within 1.5x) from 10 to 200 hosts, {run} run", worst <= 1.5,
                ", ".join(f"{count}: {value * 1000:.2f} ms" for count, value in per.items())
                + f"; the most above the 10-host figure: {worst:.2f}x")
    for run in ("first", "second"):
        titan = wall.get((REFERENCE, 200, run))
        if titan:
            add(f"controller memory at 200 hosts < 300 MB, {run} run", titan["peak_mb_max"] < 300,
                f"{titan['peak_mb_max']:.0f} MB (highest of the repetitions)")
    for run in ("first", "second"):
        titan, base = wall.get((REFERENCE, 1000, run)), wall.get((REFERENCE, 200, run))
        if titan and base:
            ratio = titan["per_host_task"] / base["per_host_task"]
            add(f"time per host-task at 1000 hosts within 1.5x of the 200-host figure, {run} run", ratio <= 1.5,
                f"{titan['per_host_task'] * 1000:.2f} ms vs {base['per_host_task'] * 1000:.2f} ms = {ratio:.2f}x")
        if titan:
            add(f"controller memory at 1000 hosts < 500 MB, {run} run", titan["peak_mb_max"] < 500,
                f"{titan['peak_mb_max']:.0f} MB (highest of the repetitions)")
    return verdicts


def cluster_overheads(rows: list[dict[str, Any]]) -> list[str]:
    """The cluster runner against the local CLI, host count by host count: what a cluster costs here."""
    wall = {(row["runner"], row["hosts"], row["run"]): row for row in rows}
    lines = []
    for (runner, count, run), row in wall.items():
        local = wall.get((REFERENCE, count, run))
        if runner == "titan-ops-cluster" and local:
            extra = (row["wall"] - local["wall"]) / (count * TASKS)
            lines.append(f"cluster vs local, {count} hosts, {run} run: {row['wall']:.2f}s vs {local['wall']:.2f}s "
                         f"= {row['wall'] / local['wall']:.2f}x, {row['per_host_task'] * 1000:.2f} vs "
                         f"{local['per_host_task'] * 1000:.2f} ms per host-task ({extra * 1000:+.2f} ms); "
                         f"{row['peak_mb_max']:.0f} MB with the scheduler and workers vs {local['peak_mb_max']:.0f} MB"
                         + (f"; controller CPU {row['cpu_per_host_task'] * 1000:.2f} vs "
                            f"{local['cpu_per_host_task'] * 1000:.2f} ms per host-task"
                            if row.get("cpu_per_host_task") and local.get("cpu_per_host_task") else ""))
    return lines


def table(rows: list[dict[str, Any]]) -> str:
    header = ("| runner | hosts | run | wall s (median) | s per host-task | x titan-ops | x floor | "
              "x floor-naive | peak MB | CPU s (median) | CPU per host-task | hosts' CPU s | load average at the end |")
    lines = [header, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        def ratio(value: float | None) -> str:
            return "" if value is None else f"{value:.2f}"
        cpu = "" if row.get("cpu_per_host_task") is None else f"{row['cpu_per_host_task'] * 1000:.2f} ms"
        seconds = "" if row.get("cpu") is None else f"{row['cpu']:.2f}"
        loads = ", ".join(f"{load:.1f}" for load in row.get("load", []) if load is not None)
        hosts = "" if row.get("host_cpu") is None else f"{row['host_cpu']:.2f}"
        lines.append(f"| {row['runner']} | {row['hosts']} | {row['run']} | {row['wall']:.2f} | "
                     f"{row['per_host_task'] * 1000:.2f} ms | {ratio(row['x_titan_ops'])} | {ratio(row['x_floor'])} | "
                     f"{ratio(row['x_floor_naive'])} | {row['peak_mb']:.0f} | {seconds} | {cpu} | {hosts} | {loads} |")
    return "\n".join(lines)


def chart(rows: list[dict[str, Any]], counts: list[int], path: Path, notes: list[str] | None = None) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    figure, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for axis, run in zip(axes, ("first", "second")):
        for runner in RUNNERS:
            points = sorted((row["hosts"], row["wall"]) for row in rows
                            if row["runner"] == runner and row["run"] == run)
            if points:
                axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=runner,
                          linewidth=3 if runner == REFERENCE else 1.5)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(counts)
        axis.set_xticklabels([str(c) for c in counts])
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.yaxis.set_minor_formatter(NullFormatter())
        axis.set_xlabel("hosts (forks = hosts)")
        axis.set_title(f"{run} run: 12 tasks per host, median wall seconds")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("wall seconds (log)")
    axes[1].legend(loc="upper left", fontsize=8)
    if notes:
        figure.text(0.01, 0.01, "; ".join(notes), fontsize=8, color="dimgray")
    figure.tight_layout(rect=(0, 0.04 if notes else 0, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def scale_chart(rows: list[dict[str, Any]], counts: list[int], path: Path) -> None:
    """Time per host-task and peak memory against hosts, one line per runner and run."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    figure, (timing, memory) = plt.subplots(1, 2, figsize=(12, 5))
    for runner in RUNNERS:
        for run, style in (("first", "-"), ("second", "--")):
            points = sorted((row["hosts"], row["per_host_task"] * 1000, row["peak_mb_max"],
                             (row.get("cpu_per_host_task") or 0) * 1000) for row in rows
                            if row["runner"] == runner and row["run"] == run)
            if not points:
                continue
            hosts = [point[0] for point in points]
            line, = timing.plot(hosts, [point[1] for point in points], style, marker="o",
                                label=f"{runner} ({run} run): wall")
            if all(point[3] for point in points):
                timing.plot(hosts, [point[3] for point in points], ":", marker="x", color=line.get_color(),
                            label=f"{runner} ({run} run): CPU of its processes")
            if run == "first":
                memory.plot(hosts, [point[2] for point in points], marker="o", label=runner)
    for axis in (timing, memory):
        axis.set_xscale("log")
        axis.set_xticks(counts)
        axis.set_xticklabels([str(c) for c in counts])
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.set_xlabel("hosts (forks = hosts)")
        axis.grid(True, which="both", alpha=0.3)
        axis.set_ylim(bottom=0)
    timing.set_ylabel("ms per host-task (wall / hosts / 12 tasks)")
    timing.set_title("time per host-task")
    memory.set_ylabel("peak MB (process tree)")
    memory.set_title("peak memory (first run)")
    timing.legend(fontsize=7)
    memory.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "kernel": platform.release(), "os": _first_line(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"])}


def versions() -> dict[str, str]:
    def pip_version(venv: str, package: str) -> str:
        return _first_line([str(BENCH / venv / "bin/python"), "-c",
                            f"import importlib.metadata as m; print(m.version({package!r}))"])
    return {
        "titan-ops": titan_version(),
        "python": _first_line([str(ROOT / ".venv/bin/python"), "--version"]),
        "paramiko (titan-ops, floor)": _first_line([str(ROOT / ".venv/bin/python"), "-c",
                                                    "import paramiko; print(paramiko.__version__)"]),
        "ansible-core": pip_version(".venv-ansible", "ansible-core"),
        "paramiko (ansible)": pip_version(".venv-ansible", "paramiko"),
        "pyinfra": pip_version(".venv-pyinfra", "pyinfra"),
        "openssh": _first_line(["sh", "-c", "ssh -V 2>&1"]),
    }


def titan_version() -> str:
    """The revision measured: a snapshot's REV file, else the work tree's ``git describe``."""
    if TITAN_SRC:
        rev = Path(TITAN_SRC) / "REV"
        return (rev.read_text().strip() if rev.exists() else "?") + f" (snapshot in {TITAN_SRC})"
    return _first_line(["git", "-C", str(ROOT), "describe", "--always", "--dirty"]) + " (work tree)"


def _first_line(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
