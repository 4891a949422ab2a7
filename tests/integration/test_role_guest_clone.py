"""The virtkit.virt.guest role's clone_from against the real daemon.

A template guest (the bed's TCG guest on a blank qcow2 disk, defined and
never started) and a guest the role clones from it as a linked clone, with
its own memory, tags and kernel command line. Check mode predicts each run
of the role task by task: the first (it makes nothing; the real run boots
the clone, waits for its lease and adds it to the inventory), the second
(nothing changes) and the removal (the clone's overlay goes, the template and
its disk stay as they were).
"""
import json
import os
import re
import shutil
import subprocess

import pytest

from guest_plays import SETUP, changes, step_runner
from harness import free_subnets, prediction_mismatches, unique_prefix

TEMPLATE = SETUP + """
    - name: The template's disk
      virtkit.virt.volume: {pool: "{{ vk_pool }}", name: template.qcow2, format: qcow2, capacity: 16MiB}

    - name: The template, defined, never started
      virtkit.virt.domain:
        name: "{{ vk_template }}"
        virt_type: qemu
        memory: 192
        kernel: "{{ vk_kernel }}"
        initrd: "{{ vk_initrd }}"
        cmdline: console=ttyS0 no_timer_check
        disks: [{volume: template.qcow2, pool: "{{ vk_pool }}"}]
        interfaces: [{network: "{{ vk_net }}"}]
        state: present
"""

PROVISION = """
- name: A clone of the template
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The clone
      ansible.builtin.include_role:
        name: virtkit.virt.guest

    - name: The domains now
      virtkit.virt.domain_info: {name: "{{ item }}"}
      loop: ["{{ vk_template }}", "{{ vk_clone }}"]
      register: domains

    - name: Write them down
      ansible.builtin.copy:
        content: "{{ domains.results | map(attribute='domains') | list | to_nice_json }}"
        dest: "{{ vk_tmp }}/domains.json"
        mode: "0644"
      changed_when: false  # a report to the test, not a change of the play's
      check_mode: false

- name: The clone in the in-memory inventory
  hosts: virt_guests
  connection: local  # only the variables are read here: the bed's guests run no sshd
  gather_facts: false
  tasks:
    - name: What the inventory holds
      ansible.builtin.copy:
        content: "{{ {'ansible_host': ansible_host | default(none), 'group_names': group_names} | to_nice_json }}"
        dest: "{{ vk_tmp }}/host-{{ inventory_hostname }}.json"
        mode: "0644"
"""


def virsh(*args):
    return subprocess.run(['virsh', '-q', '-c', 'qemu:///system'] + list(args),
                          capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture
def names(tmp_path):
    prefix = unique_prefix()
    names = {'prefix': prefix, 'net': prefix + '-net', 'pool': prefix + '-pool', 'template': prefix + '-tpl',
             'clone': prefix + '-web'}
    yield names
    for guest in (names['clone'], names['template']):
        virsh('destroy', guest)
        virsh('undefine', guest, '--nvram')
    virsh('pool-destroy', names['pool'])
    virsh('pool-undefine', names['pool'])
    shutil.rmtree(str(tmp_path / 'pool'), ignore_errors=True)
    virsh('net-destroy', names['net'])
    virsh('net-undefine', names['net'])


def test_guest_role_clones_a_template(bed, tmp_path, names):
    subnet = str(free_subnets(1)[0]).rsplit('.', 1)[0]
    log = str(tmp_path / 'clone.log')
    guest = {'name': names['clone'], 'memory': 160, 'tags': {'role': 'web'},
             'clone_from': {'name': names['template'], 'linked': True},
             'domain': {'cmdline': 'console=ttyS0 no_timer_check virtkit.hostname=web virtkit.mark=/dev/vda:R1 virtkit.watch=/dev/vda',
                        'console': {'file': log}}}
    extra = {'vk_prefix': names['prefix'], 'vk_tmp': str(tmp_path), 'vk_net': names['net'],
             'vk_bridge': names['prefix'] + 'b', 'vk_base': subnet, 'vk_pool': names['pool'],
             'vk_pool_path': str(tmp_path / 'pool'), 'vk_template': names['template'], 'vk_clone': names['clone'],
             'vk_kernel': bed['kernel'], 'vk_initrd': bed['initrd'], 'virt_guests': [guest],
             'guest_virt_type': 'qemu', 'guest_wait_timeout': 240, 'guest_wait_sources': ['lease']}
    files = dict((name, tmp_path / (name + '.yml')) for name in ('setup', 'provision'))
    files['setup'].write_text(TEMPLATE)
    files['provision'].write_text(PROVISION)
    run = step_runner(tmp_path, files, extra, {})
    every = ['localhost', names['clone']]
    run('setup', 'setup')

    # Check mode predicts the clone, makes nothing; the real run does what it predicted.
    predicted = run('provision', 'check_first', check=True)
    assert names['clone'] not in virsh('list', '--all', '--name').stdout.split()
    assert 'web-vda' not in virsh('vol-list', names['pool']).stdout
    made = run('provision', 'provision')
    assert prediction_mismatches(predicted, made, 'localhost') == []
    assert changes(made, ['localhost'])['localhost'] == {'Define the guests and bring them to their state': 1}
    template, clone = [entries[0] for entries in json.loads((tmp_path / 'domains.json').read_text())]
    host = json.loads((tmp_path / ('host-%s.json' % names['clone'])).read_text())
    assert clone['state'] == 'running' and clone['memory'] == 160 and clone['tags'] == {'role': 'web'}
    assert clone['cloned_from'] == {'source': names['template'], 'snapshot': None, 'linked': True}
    assert clone['interfaces'][0]['network'] == names['net']
    assert clone['interfaces'][0]['mac'] != template['interfaces'][0]['mac']
    assert host['ansible_host'] == clone['ip'] and host['ansible_host'].startswith(subnet + '.')
    assert 'virt_tag_role_web' in host['group_names']
    assert template['state'] == 'shutoff' and template['memory'] == 192
    overlay = virsh('vol-dumpxml', '--pool', names['pool'], names['clone'] + '-vda.qcow2').stdout
    assert '<backingStore>' in overlay and str(tmp_path / 'pool' / 'template.qcow2') in overlay, overlay
    with open(log, errors='replace') as handle:
        assert re.search(r'^VIRTKIT-MARKED R1\r?$', handle.read(), re.M)

    # Again: check mode predicts no change, and there is none, on any host.
    check, again = run('provision', 'check', check=True), run('provision', 'again')
    for host in every:
        assert prediction_mismatches(check, again, host) == [], host
    assert changes(again, every) == dict((host, {}) for host in every)

    absent = {'virt_guests': [dict(guest, state='absent')]}
    remove_check = run('provision', 'remove_check', check=True, **absent)
    remove = run('provision', 'remove', **absent)
    assert prediction_mismatches(remove_check, remove, 'localhost') == []
    assert changes(remove, ['localhost'])['localhost'] == {'Define the guests and bring them to their state': 1}
    assert names['clone'] not in virsh('list', '--all', '--name').stdout.split()
    assert sorted(virsh('vol-list', names['pool']).stdout.split()[0::2]) == ['template.qcow2']
    assert names['template'] in virsh('list', '--all', '--name').stdout.split()
    assert os.path.exists(str(tmp_path / 'pool' / 'template.qcow2'))
