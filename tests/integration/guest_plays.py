"""What the guest role's tests share (test_role_guest*.py, real_guest.py):
the play that makes what the guests need (an isolated network with DHCP, a
dir pool), run for real before the role's runs so that check mode can be
held to them task by task; the play that removes the guests through the
role and writes what is left to ``{{ vk_tmp }}/left.json``; and the runner
of the steps, each recorded for that comparison.
Variables: vk_net, vk_bridge, vk_base (three octets), vk_pool, vk_pool_path,
vk_prefix (the ``run`` tag of the guests), vk_tmp."""
import time

from harness import run_playbook, task_changes

SETUP = """
- name: What the guests need
  hosts: localhost
  gather_facts: false
  tasks:
    - name: An isolated network with DHCP (no forwarding)
      virtkit.virt.network:
        name: "{{ vk_net }}"
        mode: isolated
        bridge: "{{ vk_bridge }}"
        ipv4:
          address: "{{ vk_base }}.1/24"
          dhcp:
            ranges: [{start: "{{ vk_base }}.100", end: "{{ vk_base }}.150"}]

    - name: A dir pool
      virtkit.virt.pool:
        name: "{{ vk_pool }}"
        type: dir
        path: "{{ vk_pool_path }}"
"""

REMOVE = """
- name: Remove the guests
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The guests, absent
      ansible.builtin.include_role:
        name: virtkit.virt.guest

    - name: The domains left
      virtkit.virt.domain_info:
        tags:
          run: "{{ vk_prefix }}"
      register: vk_domains

    - name: The volumes left
      virtkit.virt.volume_info:
        pool: "{{ vk_pool }}"
      register: vk_volumes

    - name: Report them to the test
      ansible.builtin.copy:
        content: >-
          {{ {'domains': vk_domains.domains | map(attribute='name') | list,
              'volumes': vk_volumes.volumes | map(attribute='name') | sort} | to_nice_json }}
        dest: "{{ vk_tmp }}/left.json"
        mode: "0600"
      changed_when: false
      check_mode: false
"""


def step_runner(tmp_path, files, extra, timings, inventory=None, timeout=600):
    """``run(playbook, step, check=False, **more)``: ansible-playbook on
    ``files[playbook]`` with ``extra`` (and ``more``) variables; its output
    is kept in STEP.out and its record (the path returned) in STEP.jsonl,
    its seconds in ``timings[step]``."""
    def run(playbook, step, check=False, **more):
        record = tmp_path / (step + '.jsonl')
        started = time.monotonic()
        result = run_playbook(str(files[playbook]), dict(extra, **more), check=check, timeout=timeout,
                              record=record, inventory=inventory)
        timings[step] = time.monotonic() - started
        output = result.stdout + result.stderr
        (tmp_path / (step + '.out')).write_text(output)
        assert result.returncode == 0, '%s:\n%s' % (step, output[-8000:])
        return record
    return run


def changes(record, hosts):
    """{host: {task: how many of its results changed}} of a step's record, changed tasks only."""
    return dict((host, dict((task, n) for task, n in task_changes(record, host).items() if n)) for host in hosts)
