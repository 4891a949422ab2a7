"""What a running container takes live (domain/live.py with libvirt's LXC rules)."""
from ansible_collections.virtkit.virt.plugins.module_utils.container.manager import CONTAINER_RESTART_KEYS
from ansible_collections.virtkit.virt.plugins.module_utils.domain.live import hotpluggable_interface, plan_live

LIVE = {'memory_kib': 65536, 'max_memory_kib': 65536, 'vcpus': 1, 'max_vcpus': 1, 'cpu_shares': 1024,
        'init': '/bin/sh', 'init_args': [], 'init_env': {}, 'rootfs': '/srv/ct', 'mounts': [], 'idmap': {},
        'host_network': False, 'tags': {},
        'interfaces': [{'type': 'network', 'network': 'lab', 'bridge': None, 'direct': None,
                        'mac': '52:54:00:00:00:01', 'model': None}]}


def plan(desired, live=None, config=None, **kw):
    live = dict(LIVE, **(live or {}))
    return plan_live(desired, config or live, live, 'lxc', restart_keys=CONTAINER_RESTART_KEYS, **kw)


def test_memory_is_a_limit_up_to_the_start_value():
    # compared with the running definition: the limit is what it has
    assert plan({'memory_kib': 49152, 'max_memory_kib': 49152}) == ([('memory', 49152)], [])
    assert plan({'memory_kib': 65536, 'max_memory_kib': 65536}, live={'memory_kib': 49152}) == \
        ([('memory', 65536)], [])
    # more than at start: at the restart - still pending once the persistent definition has it
    more = {'memory_kib': 98304, 'max_memory_kib': 98304}
    assert plan(more) == ([], ['memory_kib'])
    assert plan(more, config=dict(LIVE, **more)) == ([], ['memory_kib'])
    assert plan({'memory_kib': 49152, 'max_memory_kib': 49152}, live_updates=False) == ([], ['memory_kib'])


def test_no_live_vcpus_but_live_cpu_shares():
    assert plan({'vcpus': 2, 'max_vcpus': 2}) == ([], ['max_vcpus', 'vcpus'])
    assert plan({'cpu_shares': 256}) == ([('cpu_shares', 256)], [])
    assert plan({'cpu_shares': 256}, live_updates=False) == ([], ['cpu_shares'])


def test_what_only_a_restart_changes():
    for key, value in (('init', '/sbin/init'), ('init_args', ['-c']), ('init_env', {'A': '1'}), ('rootfs', '/x'),
                       ('mounts', [{'source': '/a', 'target': '/b', 'readonly': False}]),
                       ('idmap', {'uid': [], 'gid': []}), ('host_network', True)):
        assert plan({key: value}) == ([], [key]), key
    assert plan({'init_env': {}}, live={'init_env': {'A': '1'}}) == ([], ['init_env'])  # a removal counts


def test_interfaces_live_only_in_a_network_namespace_of_its_own():
    new = {'type': 'network', 'network': 'lab', 'bridge': None, 'direct': None, 'mac': None, 'model': None}
    both = {'interfaces': LIVE['interfaces'] + [new]}
    assert plan(both) == ([('attach-interface', (len(LIVE['interfaces']), new))], [])
    assert plan({'interfaces': []}) == ([('detach-interface', LIVE['interfaces'][0])], [])
    # sharing the host's namespace: a new veth would land on the host
    assert plan({'interfaces': [new]}, live={'interfaces': [], 'host_network': True}) == ([], ['interfaces.new'])
    assert not hotpluggable_interface('lxc') and hotpluggable_interface('kvm')
