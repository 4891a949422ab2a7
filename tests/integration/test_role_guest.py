"""The virtkit.virt.guest role against the real daemon, with real ansible-playbook runs.

Two of the bed's TCG guests (direct kernel boot through the role's `domain`
pass-through) on an isolated network: one on an empty disk, one on an overlay
of an image the role imports. The role waits for their leases and adds them to
the in-memory inventory, which a second play reads; the guests print the
user-data of their seed on the serial console. The network and pool come
first (guest_plays.SETUP); then check mode predicts each run of the role task
by task (the first, which it makes nothing in, the second, which changes
nothing, and the removal); `state: absent` removes the guests with their
disks and seeds (the imported base image stays), and a second removal
changes nothing.
"""
import json
import os
import re
import shutil
import subprocess

import pytest

from guest_plays import REMOVE, SETUP, changes, step_runner
from harness import free_subnets, prediction_mismatches, unique_prefix, wait_for

PROVISION = """
- name: The guests
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The guests
      ansible.builtin.include_role:
        name: virtkit.virt.guest

    - name: What the role returned
      ansible.builtin.copy:
        content: "{{ guest_hosts | to_nice_json }}"
        dest: "{{ vk_tmp }}/guest_hosts.json"
        mode: "0644"

- name: Later plays reach the guests through the in-memory inventory
  hosts: virt_guests
  connection: local  # only the variables are read here: the bed's guests run no sshd
  gather_facts: false
  tasks:
    - name: What the inventory holds for each guest
      ansible.builtin.copy:
        content: >-
          {{ {'ansible_host': ansible_host | default(none), 'ansible_user': ansible_user | default(none),
              'group_names': group_names, 'virt_hypervisor': virt_hypervisor | default(none),
              'virt_tags': virt_tags | default(none), 'vk_run': vk_run | default(none)} | to_nice_json }}
        dest: "{{ vk_tmp }}/host-{{ inventory_hostname }}.json"
        mode: "0644"
"""


def virsh(*args):
    return subprocess.run(['virsh', '-q', '-c', 'qemu:///system'] + list(args),
                          capture_output=True, text=True, check=False, timeout=120)


def read_json(path):
    with open(str(path)) as handle:
        return json.load(handle)


def console_userdata(log_path):
    """The user-data the guest printed from its seed (between the markers)."""
    def printed():
        if not os.path.exists(log_path):
            return None
        with open(log_path, errors='replace') as handle:
            lines = [line.rstrip('\r\n').rstrip('\r') for line in handle]
        if 'VIRTKIT-USERDATA-END' not in lines:
            return None
        return lines[lines.index('VIRTKIT-USERDATA-BEGIN') + 1:lines.index('VIRTKIT-USERDATA-END')]
    return wait_for(printed, 60, what='the user-data on the console of %s' % log_path)


def console_ip(log_path):
    def printed():
        with open(log_path, errors='replace') as handle:
            found = re.findall(r'^VIRTKIT-IP (\S+)\r?$', handle.read(), re.M)
        return found and found[-1]
    return wait_for(printed, 30, what='the address on the console of %s' % log_path)


def lease_ips(network):
    out = virsh('net-dhcp-leases', network).stdout
    return set(re.findall(r'ipv4\s+(\d+\.\d+\.\d+\.\d+)/', out))


@pytest.fixture
def names(tmp_path):
    prefix = unique_prefix()
    names = {'prefix': prefix, 'net': prefix + '-net', 'pool': prefix + '-pool',
             'a': prefix + '-a', 'b': prefix + '-b', 'base': prefix + '-base.qcow2'}
    yield names
    for guest in (names['a'], names['b']):
        virsh('destroy', guest)
        virsh('undefine', guest, '--nvram')
    virsh('pool-destroy', names['pool'])
    virsh('pool-undefine', names['pool'])
    shutil.rmtree(str(tmp_path / 'pool'), ignore_errors=True)
    virsh('net-destroy', names['net'])
    virsh('net-undefine', names['net'])


def test_guest_role_provisions_adds_hosts_and_removes(bed, tmp_path, names, monkeypatch):
    monkeypatch.setenv('ANSIBLE_VERBOSITY', '2')  # results in full: the password hash must not show
    secret = '$6$vk%s$notarealhash' % names['prefix']
    image = tmp_path / 'image.qcow2'
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', str(image), '16M'], check=True)
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', names['prefix'] + '@test',
                    '-f', str(tmp_path / 'id')], check=True)
    key = (tmp_path / 'id.pub').read_text().strip()
    logs = {name: str(tmp_path / ('%s.log' % name)) for name in ('a', 'b')}
    subnet = str(free_subnets(1)[0]).rsplit('.', 1)[0]

    def boot(log):
        """The bed's kernel, printing the seed (a read-only virtio disk after the guest's disk: /dev/vdb)."""
        return {'kernel': bed['kernel'], 'initrd': bed['initrd'], 'cmdline': 'console=ttyS0 virtkit.cat=/dev/vdb',
                'console': {'file': log}}

    guests = [
        {'name': names['a'], 'memory': 256, 'vcpus': 1,
         'disk': {'size': '16M', 'pool': names['pool']},
         'networks': [names['net']],
         'cloud_init': {'user': 'vkuser', 'ssh_authorized_keys': [key], 'packages': ['htop']},
         'tags': {'role': 'web', 'run': names['prefix']},
         'domain': boot(logs['a'])},
        {'name': names['b'], 'memory': '256MiB',
         'disk': {'image': {'path': str(image), 'name': names['base']}, 'pool': names['pool']},
         'networks': [{'network': names['net'], 'model': 'virtio'}],
         'cloud_init': {'user': 'other', 'password_hash': secret},
         'tags': {'run': names['prefix']},
         'groups': ['vk_extra'],
         'domain': boot(logs['b'])},
    ]
    extra = {'vk_prefix': names['prefix'], 'vk_tmp': str(tmp_path), 'vk_net': names['net'],
             'vk_bridge': names['prefix'] + 'b', 'vk_base': subnet, 'vk_pool': names['pool'],
             'vk_pool_path': str(tmp_path / 'pool'), 'virt_guests': guests,
             'guest_virt_type': 'qemu',  # TCG: a KVM guest hangs on the bed (see TESTBED.md)
             'guest_wait_timeout': 120, 'guest_wait_sources': ['lease'],
             'guest_connection': {'vk_run': names['prefix']}}
    files = dict((name, tmp_path / (name + '.yml')) for name in ('setup', 'provision', 'remove'))
    for name, text in (('setup', SETUP), ('provision', PROVISION), ('remove', REMOVE)):
        files[name].write_text(text)
    timings = {}
    run = step_runner(tmp_path, files, extra, timings)
    every = ['localhost', names['a'], names['b']]
    run('setup', 'setup')

    # Check mode first: the guests and the image import are predicted, nothing is made;
    # the real run then does what it predicted, task by task.
    check_first = run('provision', 'check_first', check=True)
    assert not set([names['a'], names['b']]) & set(virsh('list', '--all', '--name').stdout.split())
    assert virsh('vol-list', names['pool']).stdout.strip() == ''
    provision = run('provision', 'provision')
    assert prediction_mismatches(check_first, provision, 'localhost') == []
    assert changes(provision, ['localhost'])['localhost'] == {
        'Import the base images into their pools': 1, 'Define the guests and bring them to their state': 1,
        'What the role returned': 1}

    # The role waited for the leases: each guest is in the inventory with its
    # address, its cloud-init user and its groups.
    leases = lease_ips(names['net'])
    returned = dict((host['name'], host) for host in read_json(tmp_path / 'guest_hosts.json'))
    assert sorted(returned) == sorted([names['a'], names['b']])
    hosts = dict((name, read_json(tmp_path / ('host-%s.json' % names[name]))) for name in ('a', 'b'))
    for name, user in (('a', 'vkuser'), ('b', 'other')):
        host = hosts[name]
        assert host['ansible_host'] in leases, (host, leases)
        assert host['ansible_host'].startswith(subnet + '.')
        assert host['ansible_host'] == returned[names[name]]['ip']
        assert host['ansible_host'] == console_ip(logs[name])
        assert host['ansible_user'] == user
        assert host['virt_hypervisor'] == 'localhost'
        assert host['vk_run'] == names['prefix']
    assert hosts['a']['ansible_host'] != hosts['b']['ansible_host']
    assert sorted(hosts['a']['group_names']) == sorted(['virt_guests', 'virt_tag_role_web',
                                                        'virt_tag_run_%s' % names['prefix']])
    assert sorted(hosts['b']['group_names']) == sorted(['virt_guests', 'vk_extra', 'virt_tag_run_%s' % names['prefix']])
    assert hosts['a']['virt_tags'] == {'role': 'web', 'run': names['prefix']}

    # The seed's user-data as the guest read it: #cloud-config with the user and the key.
    printed = console_userdata(logs['a'])
    assert printed[0] == '#cloud-config', printed
    user_data = json.loads('\n'.join(printed[1:]))
    assert user_data == {'users': [{'name': 'vkuser', 'shell': '/bin/bash', 'lock_passwd': True,
                                    'sudo': 'ALL=(ALL) NOPASSWD:ALL', 'ssh_authorized_keys': [key]}],
                         'packages': ['htop']}
    printed_b = console_userdata(logs['b'])
    account = json.loads('\n'.join(printed_b[1:]))['users'][0]
    assert (account['name'], account['hashed_passwd'], account['lock_passwd']) == ('other', secret, False)

    # The disks: an empty one, an overlay on the imported image; the seeds.
    volumes = sorted(virsh('vol-list', names['pool']).stdout.split()[0::2])
    assert volumes == sorted([names['base'], names['a'] + '-disk0.qcow2', names['a'] + '-cidata.iso',
                              names['b'] + '-disk0.qcow2', names['b'] + '-cidata.iso'])
    overlay = virsh('vol-dumpxml', '--pool', names['pool'], names['b'] + '-disk0.qcow2').stdout
    assert '<backingStore>' in overlay and names['base'] in overlay.split('<backingStore>')[1], overlay

    # Again, in check mode and for real: nothing changes, the hosts are added again.
    check = run('provision', 'check', check=True)
    again = run('provision', 'again')
    for host in every:
        assert prediction_mismatches(check, again, host) == [], host
    assert changes(again, every) == dict((host, {}) for host in every)
    assert read_json(tmp_path / ('host-%s.json' % names['a'])) == hosts['a']

    # Removal, predicted and done: guests, disks and seeds go; the imported base image stays.
    absent = {'virt_guests': [dict(guest, state='absent') for guest in guests]}
    remove_check = run('remove', 'remove_check', check=True, **absent)
    remove = run('remove', 'remove', **absent)
    assert prediction_mismatches(remove_check, remove, 'localhost') == []
    assert changes(remove, ['localhost'])['localhost'] == {'Define the guests and bring them to their state': 1}
    left = read_json(tmp_path / 'left.json')
    assert left == {'domains': [], 'volumes': [names['base']]}
    remove_again = run('remove', 'remove_again', **absent)
    assert changes(remove_again, ['localhost']) == {'localhost': {}}
    for step in timings:
        with open(str(tmp_path / (step + '.out'))) as handle:
            assert secret not in handle.read(), 'the password hash shows in the output of %s' % step
    print('timings: %s' % ', '.join('%s %.1fs' % item for item in timings.items()))
