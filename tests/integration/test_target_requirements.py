"""A target host without libvirt-python: the module says what to install where."""
import json
import os
import subprocess
import sys

from harness import collections_path


def test_missing_libvirt_python_on_the_target(tmp_path):
    bare = tmp_path / 'bare'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(bare)], check=True)
    playbook = tmp_path / 'play.yml'
    out = tmp_path / 'result.json'
    playbook.write_text(
        '- hosts: localhost\n  gather_facts: false\n  tasks:\n'
        '    - virtkit.virt.host_info:\n      register: result\n      ignore_errors: true\n'
        '    - ansible.builtin.copy: {content: "{{ result | to_json }}", dest: "%s"}\n' % out)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING='0')
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(playbook), '-i', 'localhost,',
         '-c', 'local', '-e', 'ansible_python_interpreter=%s' % (bare / 'bin' / 'python')],
        env=env, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    task = json.loads(out.read_text())
    assert task['failed'] and task['error'] == 'missing library'
    assert 'libvirt-python' in task['msg'] and 'target host' in task['msg']
    assert 'Traceback' not in task['msg']
