"""The journey users come for, on the bed's real Debian 12 guest (cloud-init,
sshd, the guest agent; tests/bed/image.sh), through our modules only: the
image imported as a volume, a copy-on-write overlay on it, a cloud-init seed
with a user, an SSH key and a runcmd marker, the guest agent, wait_for_ip
from the lease and from the agent; then, through the virtkit.virt.guests
inventory, `ansible -m ping` and real modules over SSH in the guest.

One guest is booted once for the whole session (the `real_guest` fixture) and
shared by the tests that only read it; the tests at the end of this file then
take it further, in order: a disk-only snapshot quiesced by the guest agent
and its deletion, which merges the overlay back; its disk grown live, which
the guest sees at once; an ACPI shutdown and a start that keeps the
address; new user-data, which rebuilds the seed, and the guest re-created -
this time with UEFI, secure boot and a TPM 2.0, so that one more boot proves
those too - which sees the new data; and its removal with its NVRAM and TPM
state. Everything is removed at the end, also on failure.

Host keys: see real_guest.py (the seed carries the host key; known_hosts is
written by the test; StrictHostKeyChecking=yes).
"""
import json
import os
import re
import shutil
import time

import pytest

from harness import free_subnet, prediction_mismatches, run_playbook, task_changes, unique_prefix
from real_guest import (BOOT_TIMEOUT, LISTING_RACE, RUNCMD_FILE, SETUP, TRIES, debian_facts, inventory_host, make_keys,
                        nvram_path, run_ansible, user_data, virsh, wait_until_ssh, write_inventory, write_known_hosts)

# One task of a module of ours, its result written for the test.
ONE_TASK = """
- name: One {module} task
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The {module}
      virtkit.virt.{module}: "{{{{ vk_args }}}}"
      register: vk_result
      diff: true

    - name: Report the result to the test
      ansible.builtin.copy:
        content: "{{{{ vk_result | to_nice_json }}}}"
        dest: "{{{{ vk_out }}}}"
        mode: "0600"
      check_mode: false
      changed_when: false
"""
INFO = """
- name: Read back
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The volumes of the pool
      virtkit.virt.volume_info:
        pool: "{{ vk_pool }}"
      register: vk_volumes

    - name: Report them to the test
      ansible.builtin.copy:
        content: "{{ vk_volumes.volumes | to_nice_json }}"
        dest: "{{ vk_out }}"
        mode: "0600"
      changed_when: false
"""
# In the guest, through the inventory: what cloud-init did, as facts for the test.
IN_GUEST = """
- name: In the guest, over SSH
  hosts: "{{ vk_host }}"
  gather_facts: false
  tasks:
    - name: cloud-init has finished
      ansible.builtin.command: cloud-init status --wait
      register: vk_status
      changed_when: false

    - name: The runcmd marker
      ansible.builtin.slurp:
        src: "{{ vk_marker_file }}"
      register: vk_marker

    - name: The user
      ansible.builtin.getent:
        database: passwd
        key: "{{ ansible_user }}"

    - name: What else the guest says
      ansible.builtin.shell: |
        set -e
        hostname
        cloud-init query subplatform
        df -k --output=size / | tail -n 1
        if sudo -n true 2>/dev/null; then echo sudo; else echo no-sudo; fi
        if [ -d /sys/firmware/efi ]; then echo uefi; else echo bios; fi
        od -An -tu1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c 2>/dev/null \\
          | awk '{ print $NF }' | grep . || echo none
        cat /sys/class/tpm/tpm0/tpm_version_major 2>/dev/null || echo none
        if [ -c /dev/tpm0 ]; then echo tpm0; else echo none; fi
      args:
        executable: /bin/bash
      register: vk_said
      changed_when: false

    - name: Report to the test
      ansible.builtin.copy:
        content: >-
          {{ {'status': vk_status.stdout, 'marker': vk_marker.content | b64decode | trim,
              'passwd': ansible_facts.getent_passwd[ansible_user], 'said': vk_said.stdout_lines} | to_nice_json }}
        dest: "{{ vk_out }}"
        mode: "0600"
      delegate_to: localhost
      changed_when: false
"""


def own_warnings(result):
    """The module's warnings (not Ansible's about templated task args, which the tests use)."""
    return [w for w in result.get('warnings') or [] if 'argsplat' not in w]


def _write(path, text):
    with open(str(path), 'w') as handle:
        handle.write(text)
    return str(path)


class Guest:
    """The shared guest: names, keys, files, and the playbook runs on it."""

    def __init__(self, tmp, facts):
        self.tmp = tmp
        self.prefix = unique_prefix()
        self.name = self.prefix + '-deb'
        self.net, self.pool, self.bridge = self.prefix + '-net', self.prefix + '-pool', self.prefix + 'b'
        self.image_name = self.prefix + '-debian-12.qcow2'
        self.base = str(free_subnet()).rsplit('.', 1)[0]
        self.user = 'vkuser'
        self.marker = 'virtkit-marker-%s-1' % self.prefix
        self.keys = make_keys(tmp, self.prefix)
        self.known_hosts = str(tmp / 'known_hosts')
        self.inventory = write_inventory(tmp / 'guests.virt.yml', '^%s$' % self.name, self.user, self.keys,
                                         self.known_hosts)
        self.console = str(tmp / 'console.log')
        self.facts = facts
        self.files = dict((name, _write(tmp / (name + '.yml'), text))
                          for name, text in (('setup', SETUP), ('domain', ONE_TASK.format(module='domain')),
                                             ('snapshot', ONE_TASK.format(module='snapshot')), ('info', INFO),
                                             ('volume', ONE_TASK.format(module='volume').replace(
                                                 'register: vk_result', 'register: vk_result\n      ignore_errors: true')),
                                             ('in_guest', IN_GUEST)))
        self.extra = {'vk_net': self.net, 'vk_bridge': self.bridge, 'vk_base': self.base, 'vk_pool': self.pool,
                      'vk_pool_path': str(tmp / 'pool'), 'vk_image': facts['debian_image'],
                      'vk_image_name': self.image_name}
        self.timings = {}
        self.ip = None
        self.created = None
        self.disk_size = '3G'  # its overlay's; grown live by a test

    def spec(self, marker=None, **more):
        """The domain module's arguments for the guest: BIOS, direct kernel boot, so that the kernel's command line
        has journald forward to the serial console, whose log then shows how the guest was asked to shut down and
        what its agent did (test_role_guest_real and the domain examples boot the image's disk)."""
        args = {
            'name': self.name, 'virt_type': 'qemu',  # TCG: a KVM guest hangs on the bed
            'memory': 1024, 'vcpus': 2,
            'kernel': self.facts['debian_kernel'], 'initrd': self.facts['debian_initrd'],
            'cmdline': self.facts['debian_cmdline'] + ' systemd.journald.forward_to_console=1',
            'disks': [{'size': self.disk_size, 'pool': self.pool, 'backing_volume': self.image_name}],
            'interfaces': [{'network': self.net}],
            'guest_agent': True,
            'console': {'file': self.console},
            'cloud_init': {'user_data': user_data(self.user, self.keys, marker or self.marker)},
            'tags': {'run': self.prefix},
        }
        args.update(more)
        return dict((key, value) for key, value in args.items() if value is not None)

    def play(self, name, step, check=False, timeout=900, inventory=None, **extra):
        """One ansible-playbook run; ``(its recorded task results, seconds)``."""
        record = self.tmp / ('%s.jsonl' % step)
        started = time.monotonic()
        for _attempt in range(TRIES if inventory else 1):
            result = run_playbook(self.files[name], dict(self.extra, vk_tmp=str(self.tmp), **extra), check=check,
                                  timeout=timeout, record=record, inventory=inventory)
            if LISTING_RACE not in result.stdout + result.stderr:
                break
        self.timings[step] = time.monotonic() - started
        _write(self.tmp / ('%s.out' % step), result.stdout + result.stderr)
        assert result.returncode == 0, '%s failed:\n%s' % (step, (result.stdout + result.stderr)[-8000:])
        return record

    def domain(self, args, step, check=False):
        """The domain module with ``args``: ``(its result, the run's record)``."""
        return self.task('domain', args, step, check=check)

    def task(self, module, args, step, check=False):
        """``module`` (a play of ONE_TASK) with ``args``: ``(its result, the run's record)``."""
        out = self.tmp / ('%s.json' % step)
        record = self.play(module, step, check=check, vk_args=args, vk_out=str(out))
        with open(str(out)) as handle:
            return json.load(handle), record

    def volumes(self, step):
        out = self.tmp / ('%s.json' % step)
        self.play('info', step, vk_out=str(out))
        with open(str(out)) as handle:
            return dict((vol['name'], vol) for vol in json.load(handle))

    def in_guest(self, step):
        """What the guest says over SSH, through the inventory."""
        out = self.tmp / ('%s.json' % step)
        self.play('in_guest', step, inventory=['-i', self.inventory], vk_host=self.name,
                  vk_marker_file=RUNCMD_FILE, vk_out=str(out))
        with open(str(out)) as handle:
            found = json.load(handle)
        keys = ('hostname', 'subplatform', 'root_kib', 'sudo', 'firmware', 'secure_boot',
                'tpm_version', 'tpm_device')
        found['said'] = dict(zip(keys, found['said']))
        return found

    def boot_wait(self, ip, step):
        """known_hosts for ``ip``, then until SSH answers and cloud-init is done."""
        self.ip = ip
        write_known_hosts(self.known_hosts, [(ip, self.keys)])
        self.timings[step + ' (SSH)'] = wait_until_ssh(self.inventory, self.name)

    def cleanup(self):
        """Through the modules first; what they leave, with virsh."""
        try:
            self.domain({'name': self.name, 'state': 'absent', 'remove_storage': True}, 'cleanup-domain')
        except AssertionError as exc:
            print(exc)
        virsh('destroy', self.name)
        virsh('undefine', self.name, '--nvram', '--tpm')
        for kind, name in (('pool', self.pool), ('net', self.net)):
            virsh('%s-destroy' % kind, name)
            virsh('%s-undefine' % kind, name)
        shutil.rmtree(str(self.tmp / 'pool'), ignore_errors=True)


@pytest.fixture(scope='session')
def real_guest(tmp_path_factory):
    """The real guest, created in four steps through the modules (check mode,
    apply with wait_for_ip from the lease, check again, apply again), then
    awaited over SSH; removed at the end of the session, also on failure."""
    facts = debian_facts()
    if not facts.get('debian_image'):
        pytest.fail('the bed has no real Debian guest: run tests/bed/setup.sh (no debian.env)')
    guest = Guest(tmp_path_factory.mktemp('real-guest'), facts)
    try:
        guest.play('setup', 'setup')
        spec = guest.spec(wait_for_ip={'timeout': BOOT_TIMEOUT, 'sources': ['lease']})
        guest.created = {}
        for step, check in (('check', True), ('apply', False), ('recheck', True), ('again', False)):
            guest.created[step] = guest.domain(spec, step, check=check)
        guest.boot_wait(guest.created['apply'][0]['domain']['ip'], 'apply')
        yield guest
    finally:
        guest.cleanup()
        print('real guest timings: %s' % ', '.join('%s %.0fs' % item for item in guest.timings.items()))


# -- reading the guest --------------------------------------------------------------------

def test_created_in_four_steps_from_the_image(real_guest):
    g = real_guest
    (check, check_record), (apply, apply_record) = g.created['check'], g.created['apply']
    assert prediction_mismatches(check_record, apply_record, 'localhost') == []
    assert check['actions'] == apply['actions']
    assert apply['actions'][0] == 'volume %s/%s-disk0.qcow2: create overlay on %s' % (
        g.pool, g.name, os.path.join(g.extra['vk_pool_path'], g.image_name))
    assert apply['actions'][1].startswith('volume %s/%s-cidata.iso: create cloud-init seed' % (g.pool, g.name))
    assert apply['actions'][2:] == ['define', 'start']
    assert not check['domain']['exists'] and apply['domain']['state'] == 'running'
    for step in ('recheck', 'again'):
        result, record = g.created[step]
        assert result['changed'] is False and result['actions'] == [], (step, result['actions'])
        assert not any(task_changes(record, 'localhost').values()), step
    domain = apply['domain']
    assert domain['ip'].startswith(g.base + '.') and domain['guest_agent'] and domain['firmware'] == 'bios'
    # The overlay is vda; the seed a read-only virtio disk, vdb (the cloud kernel has no AHCI).
    assert [(d['target'], d['device'], d['bus'], d['readonly']) for d in domain['disks']] == [
        ('vda', 'disk', 'virtio', False), ('vdb', 'disk', 'virtio', True)]
    volumes = g.volumes('volumes')
    overlay = volumes['%s-disk0.qcow2' % g.name]
    assert overlay['capacity'] == 3 * 1024 ** 3 and overlay['backing_chain'][0]['name'] == g.image_name
    assert volumes[g.image_name]['format'] == 'qcow2'


def test_cloud_init_read_the_seed_and_ansible_runs_modules_over_ssh(real_guest):
    """Through the inventory: ping, then real modules (slurp, getent, command)."""
    g = real_guest
    for _attempt in range(TRIES):
        pong = run_ansible('ansible', ['-i', g.inventory, g.name, '-m', 'ansible.builtin.ping', '-o'])
        if LISTING_RACE not in pong.stderr:
            break
    assert pong.returncode == 0 and '"ping": "pong"' in pong.stdout, pong.stdout + pong.stderr
    host = inventory_host(g.inventory, g.name)
    assert host['ansible_host'] == g.ip and host['virt_tags'] == {'run': g.prefix}
    found = g.in_guest('in-guest')
    said = found['said']
    assert found['status'].strip().endswith('status: done'), found['status']
    assert found['marker'] == g.marker
    assert found['passwd'][4:6] == ['/home/%s' % g.user, '/bin/bash']
    assert said['sudo'] == 'sudo'  # the seed's sudo rule
    assert said['hostname'] == g.name  # meta-data's local-hostname: the domain's name
    assert said['subplatform'] == 'config-disk (/dev/vdb)'
    assert int(said['root_kib']) > 2560 * 1024  # grown to the 3 GiB overlay
    assert said['firmware'] == 'bios' and said['tpm_device'] == 'none'


def test_wait_for_ip_from_the_agent_and_the_inventorys_agent_source(real_guest):
    g = real_guest
    result, _record = g.domain({'name': g.name, 'state': 'running',
                                'wait_for_ip': {'timeout': BOOT_TIMEOUT, 'sources': ['agent']}}, 'agent')
    assert result['changed'] is False and result['domain']['ip'] == g.ip
    assert result['domain']['interfaces'][0]['addresses'] == [g.ip]  # no loopback, no link-local
    agent_inventory = write_inventory(g.tmp / 'agent.virt.yml', '^%s$' % g.name, g.user, g.keys, g.known_hosts,
                                      ip_sources=['agent'])
    host = inventory_host(agent_inventory, g.name)
    assert host['ansible_host'] == g.ip and host['virt_ips'] == [g.ip]


# -- taking it further, in order ------------------------------------------------------------

def test_a_quiesced_disk_only_snapshot_freezes_through_the_agent_and_merges_back(real_guest):
    """The snapshot example test_examples_run cannot run on the busybox guest:
    the agent freezes the guest's filesystems while its disk moves onto an
    overlay (the read-only seed stays out), in the four steps; the guest
    writes on; deleting the snapshot merges the overlay back."""
    g = real_guest
    snap = {'domain': g.name, 'name': 'quiesced', 'disk_only': True, 'quiesce': True}
    overlay = os.path.join(g.extra['vk_pool_path'], '%s-disk0.quiesced.qcow2' % g.name)
    freezes = len(re.findall('guest-fsfreeze called', _console(g)))
    taken = dict((step, g.task('snapshot', snap, 'quiesce-' + step, check=check))
                 for step, check in (('check', True), ('apply', False), ('recheck', True), ('again', False)))
    (check, check_record), (apply, apply_record) = taken['check'], taken['apply']
    assert prediction_mismatches(check_record, apply_record, 'localhost') == []
    assert check['actions'] == apply['actions'] == ['take external snapshot (disks only, quiesced) (%s)' % overlay]
    assert apply['diff']['after']['quiesce'] is True
    assert apply['snapshot']['state'] == 'disk-snapshot' and not apply['snapshot']['memory']
    assert [(d['name'], d.get('overlay')) for d in apply['snapshot']['disks'] if d.get('overlay')] == [('vda', overlay)]
    for step in ('recheck', 'again'):
        assert taken[step][0]['changed'] is False and taken[step][0]['actions'] == [], step
    # qemu-ga logs each command to the journal, which the console shows; one freeze, and only by the real run.
    console = _console(g)
    assert len(re.findall('guest-fsfreeze called', console)) == freezes + 1, console[-3000:]
    # Thawed: a write to the root filesystem and its sync come back.
    for _attempt in range(TRIES):
        wrote = run_ansible('ansible', ['-i', g.inventory, g.name, '-m', 'ansible.builtin.shell',
                                        '-a', 'echo written > ~/after-snapshot && sync && cat ~/after-snapshot'],
                            timeout=120)
        if LISTING_RACE not in wrote.stderr:
            break
    assert wrote.returncode == 0 and 'written' in wrote.stdout, wrote.stdout + wrote.stderr
    on_overlay, _record = g.domain({'name': g.name, 'state': 'running'}, 'quiesce-disks')
    assert on_overlay['domain']['disks'][0]['path'] == overlay

    gone = {'domain': g.name, 'name': 'quiesced', 'state': 'absent'}
    deleted = dict((step, g.task('snapshot', gone, 'unquiesce-' + step, check=check))
                   for step, check in (('check', True), ('apply', False), ('again', False)))
    assert deleted['check'][0]['actions'] == deleted['apply'][0]['actions'] == ['delete']
    assert deleted['again'][0]['changed'] is False
    assert not os.path.exists(overlay)
    merged, _record = g.domain({'name': g.name, 'state': 'running'}, 'unquiesce-disks')
    assert (merged['domain']['disks'][0]['pool'], merged['domain']['disks'][0]['volume']) == (
        g.pool, '%s-disk0.qcow2' % g.name)  # the disk as the task defined it: the pool's volume
    assert merged['domain']['state'] == 'running'


def test_its_disk_grows_live_and_the_guest_sees_it(real_guest):
    """The overlay grows under the running guest through QEMU (libvirt's
    qemu-img cannot open an image QEMU holds locked), in the four steps, and
    the guest's kernel sees the new size at once. The image under the overlay
    cannot be deleted while the guest runs."""
    g = real_guest
    spec = g.spec()
    grown = dict(spec, disks=[dict(spec['disks'][0], size='4G')])
    done = dict((step, g.domain(grown, 'grow-' + step, check=check))
                for step, check in (('check', True), ('apply', False), ('recheck', True), ('again', False)))
    (check, check_record), (apply, apply_record) = done['check'], done['apply']
    assert prediction_mismatches(check_record, apply_record, 'localhost') == []
    assert check['actions'] == apply['actions'] == [
        "volume %s/%s-disk0.qcow2: grow from 3GiB to 4GiB (live, as disk vda of '%s')" % (g.pool, g.name, g.name)]
    assert not apply['restart_required'] and apply['domain']['state'] == 'running'
    for step in ('recheck', 'again'):
        assert done[step][0]['changed'] is False and done[step][0]['actions'] == [], step
    g.disk_size = '4G'  # what later specs ask for: a smaller size would be a shrink, refused
    for _attempt in range(TRIES):
        seen = run_ansible('ansible', ['-i', g.inventory, g.name, '-m', 'ansible.builtin.command',
                                       '-a', 'lsblk --bytes --nodeps --noheadings --output SIZE /dev/vda'], timeout=120)
        if LISTING_RACE not in seen.stderr:
            break
    assert seen.returncode == 0, seen.stdout + seen.stderr
    assert seen.stdout.split()[-1] == str(4 * 1024 ** 3), seen.stdout
    # The image under its overlay (in its running XML's backing chain) is not deleted from under it.
    refused, _record = g.task('volume', {'pool': g.pool, 'name': g.image_name, 'state': 'absent'}, 'delete-base')
    assert refused['failed'] and refused['error'] == 'conflict', refused
    assert "the running guest '%s' (under disk vda) uses this volume" % g.name in refused['msg']
    assert g.image_name in g.volumes('after-delete-base')


def test_shutdown_by_acpi_then_a_start_keeps_the_address(real_guest):
    g = real_guest
    down = {'name': g.name, 'state': 'shutdown'}  # no force: ACPI must do it
    predicted, _record = g.domain(down, 'shutdown-check', check=True)
    started = time.monotonic()
    done, _record = g.domain(down, 'shutdown')
    g.timings['ACPI shutdown'] = time.monotonic() - started
    again, _record = g.domain(down, 'shutdown-again')
    assert predicted['actions'] == done['actions'] == ['shutdown']
    assert done['domain']['state'] == 'shutoff' and not own_warnings(done)
    assert again['changed'] is False
    # dhclient released the lease when the guest shut down.
    assert g.ip not in virsh('net-dhcp-leases', g.net).stdout

    # The power button (systemd-logind saw it; journald forwards to the
    # console), not the guest agent, which QEMU asks by default when one runs.
    console = _console(g)
    assert re.search(r'systemd-logind\[\d+\]: Power key pressed', console), console[-3000:]
    assert 'guest-shutdown' not in console

    up = {'name': g.name, 'state': 'running', 'wait_for_ip': {'timeout': BOOT_TIMEOUT, 'sources': ['lease']}}
    predicted, _record = g.domain(up, 'start-check', check=True)
    started = time.monotonic()
    done, _record = g.domain(up, 'start')
    g.timings['restart (lease)'] = time.monotonic() - started
    assert predicted['actions'] == done['actions'] == ['start']
    assert done['domain']['ip'] == g.ip  # the same address, awaited again (the old lease was released)
    assert inventory_host(g.inventory, g.name)['ansible_host'] == g.ip


def _console(guest):
    with open(guest.console, errors='replace') as handle:
        return handle.read().replace('\r', '')


def test_new_user_data_rebuilds_the_seed_and_a_recreated_guest_sees_it(real_guest):
    g = real_guest
    seed = '%s-cidata.iso' % g.name
    before = g.volumes('seed-before')[seed]['cloud_init']['sha256']
    marker = 'virtkit-marker-%s-2' % g.prefix
    changed = g.spec(marker=marker)
    predicted, _record = g.domain(changed, 'seed-check', check=True)
    rebuilt, _record = g.domain(changed, 'seed')
    after = g.volumes('seed-after')[seed]['cloud_init']['sha256']
    assert predicted['actions'] == rebuilt['actions'], (predicted['actions'], rebuilt['actions'])
    assert len(rebuilt['actions']) == 1 and rebuilt['actions'][0].startswith('volume %s/%s: ' % (g.pool, seed))
    assert after != before and not rebuilt['restart_required']

    # Re-created: removed with its storage (the base image stays) ...
    removed, _record = g.domain({'name': g.name, 'state': 'absent', 'remove_storage': True}, 'recreate-absent')
    assert removed['actions'] == ['destroy', 'undefine', 'delete volume %s/%s-disk0.qcow2' % (g.pool, g.name),
                                  'delete volume %s/%s' % (g.pool, seed)]
    assert list(g.volumes('recreate-left')) == [g.image_name]
    # ... and made again with that user-data: UEFI booting its disk (shim, grub,
    # kernel), secure boot with the enrolled keys, a TPM 2.0 - in four steps.
    uefi = g.spec(marker=marker, kernel=None, initrd=None, cmdline=None, firmware='uefi', secure_boot=True,
                  tpm=True, boot=['hd'], wait_for_ip={'timeout': BOOT_TIMEOUT, 'sources': ['lease']})
    for key in ('kernel', 'initrd', 'cmdline'):
        uefi.pop(key, None)
    check, check_record = g.domain(uefi, 'uefi-check', check=True)
    started = time.monotonic()
    made, made_record = g.domain(uefi, 'uefi')
    g.timings['re-created UEFI (lease)'] = time.monotonic() - started
    assert prediction_mismatches(check_record, made_record, 'localhost') == []
    assert check['actions'] == made['actions'] and made['actions'][-2:] == ['define', 'start']
    domain = made['domain']
    assert (domain['machine'], domain['firmware'], domain['secure_boot']) == ('pc-q35-7.2', 'uefi', True), domain
    assert domain['tpm'] == {'model': 'tpm-crb', 'backend': 'emulator', 'version': '2.0'}
    # The loader and NVRAM libvirt picked at the start are in the running
    # guest's XML only: no change for the next runs.
    for step, check_mode in (('uefi-recheck', True), ('uefi-again', False)):
        result, _record = g.domain(uefi, step, check=check_mode)
        assert result['changed'] is False and result['actions'] == [], (step, result['actions'])
    g.boot_wait(domain['ip'], 'uefi')
    found = g.in_guest('uefi-guest')
    said = found['said']
    assert found['marker'] == marker and said['hostname'] == g.name
    assert said['firmware'] == 'uefi' and said['secure_boot'] == '1', said
    assert said['tpm_device'] == 'tpm0' and said['tpm_version'] == '2', said
    nvram = nvram_path(g.name)
    assert nvram and os.path.exists(nvram), nvram
    g.nvram = nvram
    g.tpm_state = '/var/lib/libvirt/swtpm/%s' % domain['uuid']
    assert os.path.isdir(g.tpm_state)


def test_removal_takes_the_nvram_and_the_tpm_state(real_guest):
    g = real_guest
    if not getattr(g, 'nvram', None):
        pytest.skip('the UEFI guest of the test before was not made')
    # A graceful shutdown through the guest agent first (shutdown_mode: agent).
    down = {'name': g.name, 'state': 'shutdown', 'shutdown_mode': 'agent'}
    done, _record = g.domain(down, 'agent-shutdown')
    assert done['actions'] == ['shutdown'] and done['domain']['state'] == 'shutoff' and not own_warnings(done)
    absent = {'name': g.name, 'state': 'absent', 'remove_storage': True}
    predicted, check_record = g.domain(absent, 'remove-check', check=True)
    removed, record = g.domain(absent, 'remove')
    again, _record = g.domain(absent, 'remove-again')
    assert prediction_mismatches(check_record, record, 'localhost') == []
    assert removed['actions'] == ['undefine', 'delete volume %s/%s-disk0.qcow2' % (g.pool, g.name),
                                  'delete volume %s/%s-cidata.iso' % (g.pool, g.name)]
    assert again['changed'] is False and not again['domain']['exists']
    assert not os.path.exists(g.nvram), 'undefine left the NVRAM %s' % g.nvram
    assert not os.path.exists(g.tpm_state), 'undefine left the TPM state %s' % g.tpm_state
    assert virsh('dominfo', g.name).returncode != 0
    print('real guest timings so far: %s' % ', '.join('%s %.0fs' % item for item in g.timings.items()))


def test_no_loose_ends(real_guest):
    """Nothing of the guest's in libvirt's NVRAM directory (the finalizer removes the rest)."""
    leftovers = [name for name in os.listdir('/var/lib/libvirt/qemu/nvram') if name.startswith(real_guest.prefix)]
    assert leftovers == []
    assert not re.search(re.escape(real_guest.name), virsh('list', '--all', '--name').stdout)
