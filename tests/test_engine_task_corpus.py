"""Task and templating semantics ansible-core's integration targets found different (set_fact, command,
environment, debug, template, lookups...), as whole playbooks on local hosts (no sshd).

Each case holds what ansible-playbook gives; ``test_ansible_gives_the_same`` checks it still does.
"""

from __future__ import annotations

from tests.engine_cases import Case, case_tests

CASES = {
    "gathered_facts_are_below_play_vars_and_set_fact_above": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - setup: {gather_subset: [min]}
        - hosts: h1
          gather_facts: false
          vars: {ansible_nodename: from-play-vars}
          tasks:
            - debug: msg="{{ ansible_nodename }}"
            - set_fact: {ansible_nodename: from-set-fact}
            - debug: msg="{{ ansible_nodename }}"
            - set_fact: {cached_fact: cached, cacheable: true}
              register: cached_result
            - debug: msg="{{ cached_result.keys() | sort | join(',') }}"
            - meta: clear_facts
            - debug: msg="{{ ansible_nodename }} {{ cached_fact }}"
        """,
        rc=0, recap={"h1": "7 0 0 0 0 0 0"},
        messages={"h1": ["from-play-vars", "from-set-fact", "ansible_facts,changed,failed",
                         "from-set-fact cached"]}),
    "a_lookup_name_that_is_no_plugin_name_fails_the_task_when_it_runs": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - debug: {msg: "{{ lookup('{{ \\"pipe\\" }}') }}"}
              register: templated_name
              ignore_errors: true
            - debug: msg="{{ 'lookup plugin' in templated_name.msg and 'not found' in templated_name.msg }}"
        """,
        rc=0, recap={"h1": "2 0 0 0 0 0 1"}, messages={"h1": ["True"]}),
    "a_free_form_command_joins_continued_lines_and_keeps_its_spaces_and_final_newline": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - shell: |
                echo a \\
                  b "c \\
                d"
                executable=/bin/sh
                echo  x
              register: continued
            - debug: {msg: "{{ continued.cmd | to_json }} {{ continued.stdout | to_json }}"}
            - shell: echo one
              args: {executable: /bin/sh}
              register: with_executable
            - debug: {msg: "{{ with_executable.cmd | to_json }}"}
        """,
        rc=0, recap={"h1": "4 2 0 0 0 0 0"},
        messages={"h1": ['"echo a  b \\"c \\\\\\nd\\"\\necho  x\\n" "a b c d\\nx"',
                         '"echo one"']}),
    "chdir_enters_the_physical_directory_and_shell_refuses_expand_argument_vars_in_ansibles_words": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - file: {path: "{{ playbook_dir }}/real/inner", state: directory}
            - file: {path: "{{ playbook_dir }}/link", src: "{{ playbook_dir }}/real", state: link}
            - shell: dirname "$PWD"
              args: {chdir: "{{ playbook_dir }}/link/inner"}
              register: parent
            - debug: {msg: "{{ parent.stdout == playbook_dir ~ '/real' }}"}
            - shell: echo hi
              args: {expand_argument_vars: false}
              register: refused
              ignore_errors: true
            - debug: {msg: "{{ refused.msg }}"}
        """,
        rc=0, recap={"h1": "6 3 0 0 0 0 1"},
        messages={"h1": ["True", "Unsupported parameters for (shell) module: expand_argument_vars"]}),
    "environment_values_render_one_by_one_and_ansible_env_is_gathered": Case(
        playbook="""
        - hosts: h1
          gather_facts: true
          environment:
            PATH: "{{ ansible_env.PATH }}:/extra"
            KEPT: kept
            GONE: "{{ omit }}"
          tasks:
            - debug: msg="{{ '/extra' in ansible_env.PATH }} {{ ansible_env.KEPT }} {{ 'GONE' in ansible_env }}"
            - command: printenv PATH KEPT
              register: printed
            - debug: msg="{{ printed.stdout_lines[0].endswith(':/extra') }} {{ printed.stdout_lines[1] }}"
        """,
        rc=0, recap={"h1": "4 1 0 0 0 0 0"}, messages={"h1": ["False kept False", "True kept"]}),
    "debug_as_ansible_2_19_placeholders_verbosity_templated_var_and_splatted_args": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          vars: {indirect_omit: "{{ omit }}", greeting: hi}
          tasks:
            - debug: {var: not_defined_here}
              register: undefined_var
            - debug: msg="{{ undefined_var.not_defined_here }} {{ undefined_var.warnings | length }}"
            - debug: {var: indirect_omit}
              register: omitted
            - debug: msg="{{ omitted.indirect_omit }} {{ omitted.warnings[0] is search('could not be omitted') }}"
            - debug: {var: "{{ omit }}"}
            - debug: {msg: quiet, verbosity: "{{ 1 }}"}
            - debug: {msg: both}
              args: "{{ {'var': 'greeting'} }}"
              ignore_errors: true
              register: both
            - debug: {msg: "{{ 'parameters are mutually exclusive: msg|var' in both.msg }}"}
            - debug:
              args: "{{ 'not a mapping' }}"
              ignore_errors: true
              register: not_mapping
            - debug: {msg: "{{ not_mapping.msg is search('Finalization of task args') }}"}
        """,
        rc=0, recap={"h1": "9 0 0 0 1 0 2"},
        messages={"h1": ["None", "<< error 1 - 'not_defined_here' is undefined >> 1", "None", "<<Omit>> True",
                         "Hello world!", "True", "True"]}),
    "loop_control_break_when_ends_the_loop_and_extended_allitems_leaves_allitems_out": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - command: echo {{ item }}
              loop: [1, 2, 3, 4]
              loop_control: {break_when: [result.stdout == '2']}
              register: result
            - debug: msg="{{ result.results | map(attribute='item') | list }}"
            - debug: msg="{{ ansible_loop.allitems is defined }} {{ ansible_loop.length }}"
              loop: [a, b]
              loop_control: {extended: true, extended_allitems: false}
              register: looped
            - debug: msg="{{ looped.results | map(attribute='msg') | list }}"
        """,
        rc=0, recap={"h1": "4 1 0 0 0 0 0"},
        messages={"h1": ["[1, 2]", "All items completed", "['False 2', 'False 2']"]}),
    "set_fact_refuses_names_a_template_makes_invalid_in_ansibles_words": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - set_fact: {"{{ 'true' }}": value}
              ignore_errors: true
              register: constant
            - set_fact: {"{{ 1 }}": value}
              ignore_errors: true
              register: number
            - debug: {msg: '{{ constant.msg.endswith("Invalid variable name ''true''.") }}'}
            - debug: {msg: '{{ number.msg.endswith("Invalid variable name ''1'' of type ''int''.") }}'}
        """,
        rc=0, recap={"h1": "4 0 0 0 0 0 2"}, messages={"h1": ["True", "True"]}),
    "the_template_lookup_finds_the_templates_a_template_includes_and_imports": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          vars: {mylist: [alpha, bravo]}
          tasks:
            - debug: {msg: "{{ lookup('template', 'outer.j2') | trim }}"}
        """,
        files={"templates/outer.j2": "{% from 'macros.j2' import shout %}"
                                     "{% for x in mylist %}{% include 'inner.j2' %}{% endfor %}{{ shout('end') }}\n",
               "templates/inner.j2": "[{{ x }}]",
               "templates/macros.j2": "{% macro shout(word) %}{{ word | upper }}{% endmacro %}"},
        rc=0, recap={"h1": "1 0 0 0 0 0 0"}, messages={"h1": ["[alpha][bravo]END"]}),
    "a_missing_element_is_worded_as_ansible_without_its_class": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          vars: {empty: [], first: "{{ empty[0] }}"}
          tasks:
            - debug: msg="{{ first }}"
              ignore_errors: true
              register: missing
            - debug: msg="{{ 'object has no element 0' in missing.msg }}"
        """,
        rc=0, recap={"h1": "2 0 0 0 0 0 1"}, messages={"h1": ["True"]}),
    "failed_when_sees_attempts_under_until_and_decides_after_the_last_retry": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - command: "true"
              register: tried
              until: false
              retries: 2
              delay: 0
              failed_when: tried.attempts > 6
            - debug: msg="{{ tried.attempts }}"
        """,
        rc=0, recap={"h1": "2 1 0 0 0 0 0"}, messages={"h1": ["2"]}),
    "a_var_template_shows_the_variable_it_names_when_the_name_is_authored": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          vars: {name: target, target: 42, with_newline: "{{ name }}\\n", prefixed: "x{{ name }}"}
          tasks:
            - command: echo target
              register: printed
            - set_fact: {from_play: "{{ name }}", from_host: "{{ printed.stdout }}"}
            - debug: {var: "{{ name }}"}
              register: named
            - debug: {var: "{{ from_play }}"}
              register: named_by_fact
            - debug: {var: "{{ with_newline }}"}
              register: named_with_newline
            - debug: {var: "{{ from_host }}"}
              register: named_by_host
              ignore_errors: true
            - debug: {var: "{{ prefixed }}"}
              register: named_by_rendered_text
              ignore_errors: true
            - debug: msg="{{ named.target }} {{ named_by_fact.target }} {{ named_with_newline[with_newline] }}
                {{ named_by_host.msg is search('untrusted') }} {{ named_by_rendered_text.failed }}"
        """,
        rc=0, recap={"h1": "8 1 0 0 0 0 2"}, messages={"h1": ["None", "None", "None", "42 42 42 True True"]}),
    "a_program_that_cannot_be_started_fails_with_its_errno_and_no_output": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - command: commandthatdoesnotexist --would-be-awkward
              register: missing
              ignore_errors: true
            - command: /etc
              register: directory
              ignore_errors: true
            - shell: echo hi
              args: {executable: /no/shell}
              register: no_shell
              ignore_errors: true
            - command: sh -c 'echo out; exit 127'
              register: own_status
              ignore_errors: true
            - debug: msg="{{ [missing.rc, missing.msg, missing.stdout, missing.stderr, missing.changed, missing.cmd] }}"
            - debug: msg="{{ [directory.rc, no_shell.rc, no_shell.cmd, own_status.rc, own_status.stdout] }}"
        """,
        rc=0, recap={"h1": "6 1 0 0 0 0 4"},
        messages={"h1": ["[2, 'Error executing command.', '', '', False, "
                         "'commandthatdoesnotexist --would-be-awkward']",
                         "[13, 2, \"/no/shell -c 'echo hi'\", 127, 'out']"]}),
    "a_background_job_holding_the_output_does_not_hold_the_task": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          tasks:
            - shell: sleep 8 & echo early
              register: background
              timeout: 5
            - debug: msg="{{ background.stdout }}"
        """,
        rc=0, recap={"h1": "2 1 0 0 0 0 0"}, messages={"h1": ["early"]}),
    "a_template_of_one_output_keeps_its_value_and_none_is_nothing_in_text": Case(
        playbook="""
        - hosts: h1
          gather_facts: false
          vars:
            listed: "{% if true %}{{ [1, 2] }}{% endif %}"
            nothing: "{% if true %}{{ none }}{% endif %}"
            joined: "x{{ none }}y"
            from_macro: '{% macro m() %}{{ {"foo": "bar"} }}{% endmacro %}{{ m() }}'
          tasks:
            - debug:
                msg: "{{ [listed | type_debug, nothing | type_debug, joined, from_macro.foo,
                         lookup('template', 'macro.j2').foo] }}"
            - template: {src: none.j2, dest: "{{ playbook_dir }}/out.txt"}
            - debug: msg="{{ lookup('file', playbook_dir ~ '/out.txt') }}"
            - debug: msg="{{ lookup('template', 'imports.j2') }}"
              ignore_errors: true
              register: imported
            - debug: {msg: "{{ imported.msg is search('.undefined_variable. is undefined') }}"}
        """,
        files={"templates/macro.j2": '{% macro m() %}{{ {"foo": "bar"} }}{% endmacro %}\n{{ m() }}\n',
               "templates/none.j2": "[{{ none }}]\n",
               "templates/imports.j2": "{% import 'imported.j2' as t %}\n{{ t }}\n",
               "templates/imported.j2": "{{ undefined_variable }}\n"},
        rc=0, recap={"h1": "5 1 0 0 0 0 1"},
        messages={"h1": ["['list', 'NoneType', 'xy', 'bar', 'bar']", "[]", "True"]}),
}

test_titan_ops_runs_it_as_ansible, test_ansible_gives_the_same = case_tests(CASES)
