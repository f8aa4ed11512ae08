"""Issue 12 §1: text from a host is data, never a template; every template renders in a bounded sandbox.

The attack: a host prints ``{{ 7 * 7 }}`` and a line that would run a command on the controller if
rendered. Whatever path the text takes (register, set_fact, task and block vars, loops, copy, template,
debug, an HTTP body, the evidence bundle of collect-diagnostics.yml on the Titan lab), nothing runs and
the host's bytes come out as they went in. Local connection, except the runbook test on the Titan lab.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import re
import secrets
import tarfile
import textwrap
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import titan_ops
from titan_ops.engine.results import RunResult, Status
from titan_ops.errors import PlaybookError, TemplateError
from titan_ops.output.console import ConsoleRenderer
from titan_ops.output.triage_table import triage_table
from titan_ops.templating import Templar
from titan_ops.trust import Authored

from tests.runbooks_support import PLAYBOOKS, cli
from tests.serving import served


def _payload(marker: Path) -> str:
    """What a hostile host prints: a template that computes, and one that would run a command."""
    return ("GET /{{ 7 * 7 }} HTTP/1.1 404\n"
            f"agent={{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}\n"
            f"{{% for x in [1] %}}{{{{ lipsum.__globals__['os'].system('touch {marker}') }}}}{{% endfor %}}")


class _Site(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[dict[str, object]]:
    """A local host whose log file and HTTP page hold the payload; the marker a payload run would create."""
    marker = tmp_path / f"PWNED-{secrets.token_hex(4)}"
    payload = _payload(marker)
    (tmp_path / "service.log").write_text(payload)
    (tmp_path / "report.j2").write_text("{{ r.stdout }}\n")
    (tmp_path / "out").mkdir()
    handler = type("Site", (_Site,), {"body": payload.encode()})
    with served(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as server:
        (tmp_path / "inventory.yml").write_text(textwrap.dedent(f"""
            all:
              hosts:
                web1:
                  ansible_connection: local
                  log: {tmp_path / 'service.log'}
                  out: {tmp_path / 'out'}
                  site: http://127.0.0.1:{server.server_address[1]}/
            """))
        yield {"dir": tmp_path, "marker": marker, "payload": payload}


def _run(directory: Path, playbook: str, **options) -> RunResult:
    (directory / "playbook.yml").write_text(textwrap.dedent(playbook))
    return titan_ops.run(directory / "playbook.yml", directory / "inventory.yml", **options)


def _by_task(result: RunResult) -> dict[str, dict]:
    return {task.task: task.result for task in result.host_results("web1")}


FLOWS = """
- hosts: web1
  gather_facts: false
  tasks:
    - name: read the log
      command: cat {{ log }}
      register: r
      changed_when: r.stdout | length > 0
    - name: fetch the page
      uri: {url: "{{ site }}", return_content: true}
      register: page
    - name: facts from host data
      set_fact:
        fact_line: "{{ r.stdout }}"
        fact_mixed: "seen: {{ r.stdout }}"
        fact_lines: "{{ r.stdout_lines }}"
        fact_body: "{{ page.content }}"
    - name: task vars
      debug: {msg: "{{ via_task }}"}
      vars: {via_task: "{{ fact_line }}"}
    - block:
        - name: block vars
          debug: {msg: "{{ via_block }}"}
      vars: {via_block: "{{ fact_mixed }}"}
    - name: loop
      debug: {msg: "{{ item }}"}
      loop: "{{ fact_lines + [fact_body] }}"
    - name: copy
      copy: {content: "{{ r.stdout }}", dest: "{{ out }}/copied"}
    - name: template
      template: {src: report.j2, dest: "{{ out }}/templated"}
    - name: debug var
      debug: {var: fact_body}
    - name: conditions see the data
      debug: {msg: "{{ fact_lines | length }} lines"}
      when: fact_line is string and '{{' in fact_line
"""


def test_host_text_is_never_rendered_however_it_travels(hostile):
    directory, payload = hostile["dir"], hostile["payload"]
    result = _run(directory, FLOWS)
    assert result.exit_code == 0, [task.msg for task in result.host_results("web1")]
    assert not hostile["marker"].exists(), "a host's text ran as code on the controller"
    tasks = _by_task(result)
    facts = tasks["facts from host data"]["ansible_facts"]
    assert facts == {"fact_line": payload, "fact_mixed": f"seen: {payload}", "fact_lines": payload.split("\n"),
                     "fact_body": payload}
    assert tasks["task vars"]["msg"] == payload
    assert tasks["block vars"]["msg"] == f"seen: {payload}"
    assert [item["msg"] for item in tasks["loop"]["results"]] == payload.split("\n") + [payload]
    assert tasks["debug var"]["fact_body"] == payload
    assert tasks["conditions see the data"]["msg"] == "3 lines"
    assert (directory / "out" / "copied").read_text() == payload
    assert (directory / "out" / "templated").read_text() == payload + "\n"


MORE_SOURCES = """
- hosts: web1
  gather_facts: false
  tasks:
    - name: facts from a host that lies (its uname prints the log's lines)
      setup:
      environment: {PATH: "{{ out }}/bin:/usr/bin:/bin"}
    - name: stderr
      shell: cat {{ log }} >&2
      register: err
    - name: fetch the log
      fetch: {src: "{{ log }}", dest: "{{ out }}/fetched/", flat: true}
    - name: slurp the log
      slurp: {src: "{{ log }}"}
      register: slurped
    - name: a fact
      debug: {msg: "{{ ansible_kernel }} {{ ansible_system }}"}
    - name: stderr seen
      debug: {msg: "{{ err.stderr }}"}
    - name: a fetched file read on the controller
      debug: {msg: "{{ lookup('file', out ~ '/fetched/service.log') }}"}
    - name: slurped content
      debug: {msg: "{{ slurped.content | b64decode }}"}
    - name: parsed from host text
      set_fact: {parsed: "{{ ('{\\"line\\": ' ~ (err.stderr | to_json) ~ '}') | from_json }}"}
    - name: a parsed value
      debug: {msg: "{{ parsed.line }}"}
    - name: a host added with host text
      add_host: {name: web2, ansible_connection: local, seen: "{{ err.stderr_lines[1] }}"}
- hosts: web2
  gather_facts: false
  tasks:
    - name: the added host's variable
      debug: {msg: "{{ seen }}"}
"""


def test_facts_stderr_fetched_and_slurped_files_and_what_is_parsed_from_them_are_data(hostile):
    directory, payload = hostile["dir"], hostile["payload"]
    fake = directory / "out" / "bin"
    fake.mkdir()
    lines = payload.split("\n")
    (fake / "uname").write_text(f"#!/bin/sh\ncase \"$1\" in -r) sed -n 1p {directory / 'service.log'} ;; "
                                f"*) sed -n 2p {directory / 'service.log'} ;; esac\n")
    (fake / "uname").chmod(0o755)
    result = _run(directory, MORE_SOURCES)
    assert result.exit_code == 0, [task.msg for task in result.host_results("web1")]
    assert not hostile["marker"].exists(), "a host's text ran as code on the controller"
    shown = {task.task: task.msg for task in result.host_results("web1") + result.host_results("web2")}
    assert shown["a fact"] == f"{lines[0]} {lines[1]}"
    assert shown["stderr seen"] == shown["a fetched file read on the controller"] == shown["slurped content"] == payload
    assert shown["a parsed value"] == payload
    assert shown["the added host's variable"] == lines[1]


def test_host_text_is_never_evaluated_as_an_expression(hostile):
    result = _run(hostile["dir"], """
        - hosts: web1
          gather_facts: false
          tasks:
            - command: cat {{ log }}
              register: r
            - name: host text as an assertion
              assert: {that: "{{ r.stdout_lines[1] }}"}
        """)
    assert not hostile["marker"].exists()
    [failed] = [task for task in result.host_results("web1") if task.status is Status.FAILED]
    assert failed.task == "host text as an assertion"
    assert "is not evaluated" in failed.msg and "(text from a host or a rendered value is data)" in failed.msg


def test_unsafe_text_in_a_playbook_is_never_a_template(hostile):
    marker = hostile["marker"]
    result = _run(hostile["dir"], f"""
        - hosts: web1
          gather_facts: false
          vars:
            raw: !unsafe "{{{{ 7 * 7 }}}}"
          tasks:
            - name: unsafe argument
              debug: {{msg: !unsafe "{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"}}
            - name: unsafe variable
              debug: {{msg: "{{{{ raw }}}} is not {{{{ 6 * 7 }}}}"}}
            - name: unsafe free form
              command: !unsafe echo {{{{ 7 * 7 }}}}
        """)
    assert result.exit_code == 0 and not marker.exists()
    tasks = _by_task(result)
    assert tasks["unsafe argument"]["msg"] == f"{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"
    assert tasks["unsafe variable"]["msg"] == "{{ 7 * 7 }} is not 42"
    assert tasks["unsafe free form"]["stdout"] == "{{ 7 * 7 }}"


@pytest.mark.parametrize("expression", [
    "''.__class__.__mro__",
    "cycler.__init__.__globals__.os.system('touch MARKER')",
    "lipsum.__globals__['os'].system('touch MARKER')",
    "joiner.__init__.__globals__",
    "namespace.__init__.__globals__",
    "self.__init__.__globals__",
    "range.__globals__",
    "(0).__class__.__base__.__subclasses__()",
])
def test_playbook_templates_cannot_reach_python_internals(hostile, expression):
    marker = hostile["marker"]
    expression = expression.replace("MARKER", str(marker))
    (hostile["dir"] / "escape.j2").write_text(f"{{{{ {expression} }}}}\n")
    result = _run(hostile["dir"], f"""
        - hosts: web1
          gather_facts: false
          tasks:
            - name: in an argument
              debug: {{msg: "{{{{ {expression} }}}}"}}
              ignore_errors: true
            - name: in a template file
              template: {{src: escape.j2, dest: "{{{{ out }}}}/escape"}}
              ignore_errors: true
        """)
    assert not marker.exists()
    for task in result.host_results("web1"):
        assert task.status is Status.FAILED and task.ignored
        assert "unsafe" in task.msg, task.msg
    assert not (hostile["dir"] / "out" / "escape").exists()


def test_authored_sources_are_still_templates(hostile, tmp_path):
    (tmp_path / "vars.yml").write_text('from_vars_file: "{{ 6 * 7 }}"\n')
    result = _run(hostile["dir"], """
        - hosts: web1
          gather_facts: false
          vars_files: [vars.yml]
          vars:
            from_play: "{{ from_vars_file + 1 }}"
          tasks:
            - name: every authored source
              debug: {msg: "{{ from_play }} {{ from_extra }} {{ out | basename }}"}
        """, extra_vars={"from_extra": "{{ 2 * 3 }}"})
    assert _by_task(result)["every authored source"]["msg"] == "43 6 out"


PRINTED = {
    "log": b"GET /{{ 7 * 7 }} \xff\xfe HTTP/1.1\r\n\tagent={{ cycler.__init__ }}  \n\n\n",
    "no-final-newline": b"caf\xc3\xa9 \x00 \x1b[2J end",
    "empty": b"",
}


def _bundled(tmp_path: Path, inventory: Path, host: str, folder: str) -> None:
    """Run a diagnostic per PRINTED file of ``folder`` on ``host`` (stdout and stderr) into an evidence
    bundle: each file in the bundle must be the bytes printed, and the manifest's digest of them."""
    (tmp_path / "playbook.yml").write_text(textwrap.dedent(f"""
        - hosts: {host}
          gather_facts: false
          tasks:
            - shell: cat {folder}/{{{{ item.name }}}}; cat {folder}/{{{{ item.name }}}} >&2
              loop: {[{"name": name} for name in PRINTED]}
              register: printed
            - evidence: {{dest: "{tmp_path}/INC-1", results: "{{{{ printed.results }}}}"}}
        """))
    result = titan_ops.run(tmp_path / "playbook.yml", inventory)
    assert result.exit_code == 0, [task.msg for task in result.host_results(host)]
    [bundle] = (tmp_path / "INC-1").glob(f"{host}-*.tar.gz")
    with tarfile.open(bundle) as archive:
        files = {member.name.removeprefix(f"{host}/"): archive.extractfile(member).read()
                 for member in archive if member.isfile()}
    manifest = {entry["name"]: entry for entry in json.loads(files["manifest.json"])["diagnostics"]}
    for name, data in PRINTED.items():
        assert files[f"{name}.txt"] == data, name
        assert files.get(f"{name}.stderr.txt", b"") == data, name
        assert manifest[name]["sha256"] == hashlib.sha256(data).hexdigest()


def test_the_evidence_bundle_holds_what_the_host_printed_byte_for_byte(tmp_path):
    """Bytes that are not UTF-8, control characters, trailing newlines (or none), on stdout and stderr."""
    for name, data in PRINTED.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "inventory.yml").write_text("all:\n  hosts:\n    web1: {ansible_connection: local}\n")
    _bundled(tmp_path, tmp_path / "inventory.yml", "web1", str(tmp_path))


def test_the_evidence_bundle_holds_what_a_host_printed_over_ssh(lab, tmp_path):
    folder = "/srv/titan/printed"
    backing = lab.host_path("lab1", folder)
    backing.mkdir(parents=True, exist_ok=True)
    for name, data in PRINTED.items():
        (backing / name).write_bytes(data)
    _bundled(tmp_path, Path(lab.inventory_path), "lab1", folder)


def test_a_hosts_text_cannot_drive_the_operators_terminal(tmp_path):
    """Escape sequences a host prints (to erase the line, rewrite a FAILED as ok, set the window title) are
    shown escaped on the console: in loop labels, diffs and results; only our colours remain."""
    (tmp_path / "hostile.txt").write_bytes("x\x1b[2K\rok: [web1]\x1b]0;owned\x07\x9b1A\n".encode())
    (tmp_path / "inventory.yml").write_text("all:\n  hosts:\n    web1: {ansible_connection: local}\n")
    (tmp_path / "playbook.yml").write_text(textwrap.dedent(f"""
        - hosts: web1
          gather_facts: false
          tasks:
            - command: cat {tmp_path}/hostile.txt
              register: r
            - debug: {{msg: "{{{{ r.stdout }}}}"}}
              loop: "{{{{ [r.stdout] }}}}"
            - copy: {{content: "{{{{ r.stdout }}}}", dest: "{tmp_path}/copied"}}
            - fail: {{msg: "{{{{ r.stdout }}}}"}}
        """))
    console = io.StringIO()
    titan_ops.run(tmp_path / "playbook.yml", tmp_path / "inventory.yml", diff=True,
                  subscribers=[ConsoleRenderer(console, verbosity=1, color=True)])
    shown = re.sub(r"\x1b\[(3\d|0)m", "", console.getvalue())
    assert "(item=x\\x1b[2K\\x0dok: [web1]\\x1b]0;owned\\x07\\x9b1A)" in shown
    assert "\n+x\\x1b[2K\\x0d\n+ok: [web1]\\x1b]0;owned\\x07\\x9b1A\n" in shown  # the diff
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown)


def test_the_triage_table_escapes_what_hosts_said():
    finding = {"severity": 2, "reason": "titan-brain: \x1b[2K\rhealthy", "details": ["\x1b]0;owned\x07"]}
    table = triage_table({"severity": 2, "findings": [finding]})
    assert "\\x1b[2K\\x0dhealthy" in table and "| \\x1b]0;owned\\x07" in table
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", table)


def test_host_text_a_filter_cannot_parse_fails_that_task_not_the_run(tmp_path):
    """A host that prints what ``from_yaml``/``from_json`` cannot parse fails its own task (it ended the whole
    run with a traceback); the other host goes on."""
    (tmp_path / "inventory.yml").write_text("all:\n  hosts:\n    bad: {ansible_connection: local, says: '{'}\n"
                                            "    good: {ansible_connection: local, says: 'a: 1'}\n")
    (tmp_path / "playbook.yml").write_text(textwrap.dedent("""
        - hosts: all
          gather_facts: false
          tasks:
            - command: echo {{ says }}
              register: r
            - set_fact: {parsed: "{{ r.stdout | from_yaml }}"}
            - name: after
              debug: {msg: "{{ parsed.a }}"}
        """))
    result = titan_ops.run(tmp_path / "playbook.yml", tmp_path / "inventory.yml")
    failed = result.host_results("bad")[-1]
    assert failed.status is Status.FAILED and "from_yaml" in failed.msg and "while parsing" in failed.msg
    assert result.host_results("good")[-1].msg == "1"
    assert result.exit_code == 2


# -- resource limits ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("template", "reason"), [
    ("{{ range(n ** 12) | list }}", "Range too big"),
    ("{{ n ** 100000000 }}", "refused"),
    ("{{ 'x' * n ** 10 }}", "a repetition of 10000000000"),
    ("{{ [0] * n ** 9 }}", "a repetition of 1000000000"),
    ("{{ '%0999999999d' % n }}", "a format width"),
    ("{{ '{:>999999999}'.format(n) }}", "a format width"),
    ("{{ 'x' | center(999999999) }}", "'center'"),
    ("{{ lipsum(n=n ** 9) }}", "lorem ipsum"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion"),
])
def test_a_template_cannot_take_unbounded_memory(template, reason):
    with pytest.raises(TemplateError, match=reason):
        Templar().render(Authored(template), {"n": 10})


@pytest.mark.parametrize("template", [
    "{{ ('a' * 40 + 'b') | regex_search('(a|aa)+$') }}",
    "{{ ('a' * 40 + 'b') | regex_replace('(a|aa)+$', '') }}",
    "{{ ('a' * 40 + 'b') is search('(a|aa)+$') }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% set l = range(100000) | list %}{% for i in l %}{% for j in l %}{% endfor %}{% endfor %}",
])
def test_a_template_cannot_run_past_its_deadline(template):
    with pytest.raises(TemplateError, match="deadline"):
        Templar(seconds=0.2).render(Authored(template), {})


@pytest.mark.parametrize("expression", ["10 ** 100000000", "range(10 ** 12) | list", "'x' * 10 ** 10",
                                        "'%099999999999d' % 1"])
@pytest.mark.parametrize("task", ['debug: {msg: "{{ EXPRESSION }}"}', 'debug: {msg: hi}\n      when: "EXPRESSION"'])
def test_limits_that_constants_reach_are_validation_errors(tmp_path, expression, task):
    playbook = tmp_path / "playbook.yml"
    task = task.replace("EXPRESSION", expression)
    playbook.write_text(f"- hosts: all\n  gather_facts: false\n  tasks:\n    - {task}\n")
    with pytest.raises(PlaybookError, match="refused") as raised:
        titan_ops.load_playbook(playbook)
    assert str(raised.value).startswith(f"{playbook}:{4 + task.count(chr(10))}:")  # the line of the key


def test_a_limit_fails_the_task_with_a_clear_message(hostile):
    result = _run(hostile["dir"], """
        - hosts: web1
          gather_facts: false
          vars: {n: 10}
          tasks:
            - name: huge
              debug: {msg: "{{ n ** 100000000 }}"}
            - name: never reached
              debug: {msg: hi}
        """)
    [task] = result.host_results("web1")
    assert task.status is Status.FAILED and result.exit_code == 2
    assert "an integer of about" in task.msg and "refused" in task.msg


# -- the real runbook path --------------------------------------------------------------------------

def test_collect_diagnostics_bundles_a_hostile_log_line_byte_for_byte(titan_lab, tmp_path):
    """A request line an attacker sent to a Titan service lands in its pm2 log; the evidence bundle of
    collect-diagnostics.yml holds it as written, and nothing runs on the controller."""
    marker = tmp_path / f"PWNED-{secrets.token_hex(4)}"
    lines = ["/{{7*7}}", f"/{{{{cycler.__init__.__globals__.os.system('touch${{IFS}}{marker}')}}}}"]
    for line in lines:
        request = urllib.request.Request(titan_lab.url("titan-brain") + line)
        try:
            urllib.request.urlopen(request, timeout=5).close()
        except urllib.error.HTTPError:
            pass  # a 404: what counts is the line in the service's log
    incidents = tmp_path / "incidents"
    done = cli("run", str(PLAYBOOKS / "collect-diagnostics.yml"), "-i", str(titan_lab.inventory_path),
               "-l", "lab2", "--incident", "INC-HOSTILE", "--incident-dir", str(incidents))
    assert done.returncode == 0, done.stdout[-3000:]
    assert not marker.exists(), "a log line ran as code on the controller"
    [bundle] = (incidents / "INC-HOSTILE").glob("lab2-*.tar.gz")
    with tarfile.open(bundle) as archive:
        logs = archive.extractfile("lab2/pm2-logs.txt").read().decode()
    for line in lines:
        assert f'"GET {line} HTTP/1.1" 404' in logs
    assert "GET /49 " not in logs
