"""Custom modules written for the tests, one of each kind Ansible's module protocol has, and a playbook
that runs them: shared by the local, lab and oracle tests of custom modules."""

from __future__ import annotations

API_MODULE = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True, aliases=['label']),
            count=dict(type='int', default=2),
            hidden=dict(type='str', no_log=True),
            data=dict(type='dict', default={}),
            state=dict(choices=['present', 'absent'], default='present'),
        ),
        supports_check_mode=True,
    )
    if module.params['name'] == 'fail':
        module.fail_json(msg='asked to fail', count=module.params['count'])
    rc, out, err = module.run_command(['echo', module.params['name']])
    module.warn('a warning')
    module.exit_json(changed=not module.check_mode, name=module.params['name'], count=module.params['count'],
                     echoed=out.strip(), check=module.check_mode, hidden=module.params['hidden'],
                     said='the hidden value is %s' % module.params['hidden'],
                     data=camel_dict_to_snake_dict(module.params['data']),
                     ansible_facts={'api_fact': '{{ 6 * 7 }}'})


if __name__ == '__main__':
    main()
'''

NO_CHECK_MODE = '''from ansible.module_utils.basic import AnsibleModule

AnsibleModule({}).exit_json(changed=True)
'''

RAISES = '''from ansible.module_utils.basic import AnsibleModule

AnsibleModule({})
raise ValueError('kaput')
'''

OLD_STYLE = '''#!/bin/sh
. "$1"
printf '{"changed": true, "name": "%s", "check": "%s"}\\n' "$name" "$_ansible_check_mode"
'''

WANT_JSON = '''#!/bin/sh
# WANT_JSON
printf '{"changed": false, "args": %s}\\n' "$(cat "$1")"
'''

NOT_JSON = '''#!/bin/sh
echo "no json here"
echo "oops" >&2
exit 3
'''

JUNK_AFTER = '''#!/bin/sh
echo 'before'
echo '{"changed": false, "text": "{{ 1 + 1 }}"}'
echo 'after'
'''

NO_INTERPRETER = '''import json
print(json.dumps({}))
'''

FILE_MODE = '''from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule({'path': {'type': 'path', 'required': True}}, add_file_common_args=True,
                       supports_check_mode=True)
arguments = module.load_file_common_arguments(module.params)
diff = {}
changed = module.set_fs_attributes_if_different(arguments, False, diff)
module.exit_json(changed=changed, diff=diff)
'''

LIBRARY = {
    "library/api_module.py": API_MODULE, "library/no_check_mode.py": NO_CHECK_MODE, "library/raises.py": RAISES,
    "library/old_style.sh": OLD_STYLE, "library/want_json.sh": WANT_JSON, "library/not_json": NOT_JSON,
    "library/junk_after.sh": JUNK_AFTER, "library/no_interpreter.py": NO_INTERPRETER, "library/file_mode.py": FILE_MODE,
}
"""The modules, in a ``library/`` folder beside the playbook."""

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: module API
      api_module: {label: hello, hidden: "{{ secret }}", data: {TOPLevelKey: {IAMUser: x}}}
      vars: {secret: s3cr3t-value}
    - {name: module API fact, debug: {var: api_fact}}
    - {name: module API check mode, api_module: {name: checked}, check_mode: true}
    - {name: module API fails, api_module: {name: fail}, ignore_errors: true}
    - {name: module API bad type, api_module: {name: x, count: many}, ignore_errors: true}
    - {name: module API unknown option, api_module: {name: x, colour: red}, ignore_errors: true}
    - {name: module API bad choice, api_module: {name: x, state: gone}, ignore_errors: true}
    - {name: module API missing option, api_module: {count: 1}, ignore_errors: true}
    - {name: no check mode support, no_check_mode: {}, check_mode: true}
    - {name: raises, raises: {}, ignore_errors: true}
    - {name: old style, old_style: name=fred}
    - {name: old style check mode, old_style: name=fred, check_mode: true}
    - {name: want json, want_json: {name: fred, n: 3}}
    - {name: not json, not_json: {}, ignore_errors: true}
    - {name: junk after, junk_after: {}}
    - {name: no interpreter, no_interpreter: {}, ignore_errors: true}
"""
