"""The benchmark workload as a pyinfra deploy: the same 12 tasks as playbook.yml."""

from pathlib import Path

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.operations import files, server

HERE = Path(__file__).resolve().parent
BENCH_DIR = "/srv/titan/bench"

server.shell(name="hostname", commands=["hostname"])
server.shell(name="kernel", commands=["uname -sr"])
server.shell(name="user", commands=["id -u"])
server.shell(name="clock", commands=["date +%s"])
server.shell(name="disk", commands=["df -P / | tail -n 1"])
server.shell(name="processes", commands=["ps -e | wc -l"])
server.shell(name="listing", commands=["ls -1 /opt/titan | wc -l"])
server.shell(name="echo", commands=[f"echo '{host.name} ok'"])
files.directory(name="directory", path=BENCH_DIR, mode="755")
files.put(name="copy", src=str(HERE / "files" / "bench.conf"), dest=f"{BENCH_DIR}/bench.conf", mode="644")
files.template(name="template", src=str(HERE / "templates" / "app.conf.j2"), dest=f"{BENCH_DIR}/app.conf",
               mode="644", inventory_hostname=host.name, bench_port=8080, bench_dir=BENCH_DIR,
               bench_peers=["alpha", "beta", "gamma"])
# stat: pyinfra reads remote state through facts (one remote command)
host.get_fact(File, path=f"{BENCH_DIR}/app.conf")
