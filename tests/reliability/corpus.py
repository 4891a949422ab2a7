"""The bad-input corpus: (where, params, the option the message must name).

``where`` is a module (its params are completed with the private daemon's
URI and a name of the suite's), ``inventory`` (an inventory config) or
``connection`` (the lxc connection plugin's variables). ``{P}``, ``{V}``,
``{N}``, ``{D}``, ``{IMG}``, ``{DIR}`` in strings are the suite's fixture
pool, volume, network, shut-off domain, an image file and a scratch
directory: references that exist, next to ones that do not.

Kinds: wrong types, sizes, names with ``/`` or ``..``, unknown references,
conflicting options, XML that does not parse, XPath that matches nothing,
unknown states and choices.
"""

# Secrets some bad inputs carry: no output may show them (test_bad_input registers them).
SECRETS = ('Vk-pw-12', 'Vk-pw-123', 'Vk-corpus-pw')

NEW = {'memory': 128, 'virt_type': 'qemu', 'state': 'present'}
DISK = {'path': '/var/lib/libvirt/images/x.img'}
NET4 = {'address': '10.77.0.1/24'}


def dhcp(**kw):
    ranges = {'ranges': [{'start': '10.77.0.100', 'end': '10.77.0.150'}]}
    return {'address': '10.77.0.1/24', 'dhcp': dict(ranges, **kw)}


DOMAIN = [
    ({'name': 'a/b'}, 'name'),
    ({'name': '..'}, 'name'),
    ({'name': ''}, 'name'),
    ({'memory': 'lots'}, 'memory'),
    ({'memory': -1}, 'memory'),
    ({'memory': '1K'}, 'memory'),
    ({'memory': [1]}, 'memory'),
    ({'memory': 256, 'max_memory': 128}, 'memory'),
    ({'vcpus': 0}, 'vcpus'),
    ({'vcpus': 'two'}, 'vcpus'),
    ({'vcpus': 4, 'max_vcpus': 2}, 'vcpus'),
    ({'max_vcpus': -1}, 'max_vcpus'),
    ({'state': 'sideways'}, 'state'),
    ({'virt_type': 'vmwarex'}, 'virt_type'),
    ({'cpu': {'mode': 'custom'}}, 'cpu.model'),
    ({'cpu': {'mode': 'host-model', 'model': 'qemu64'}}, 'cpu.model'),
    ({'firmware': 'coreboot'}, 'firmware'),
    ({'boot': ['floppy']}, 'boot'),
    ({'boot': ['hd', 'hd']}, 'boot'),
    ({'kernel': 'vmlinuz'}, 'kernel'),
    ({'kernel': '', 'cmdline': 'console=ttyS0'}, 'kernel'),
    ({'arch': 'x86 64'}, 'arch'),
    ({'machine': 'pc;reboot'}, 'machine'),
    ({'disks': [{}]}, 'disks[0]'),
    ({'disks': 'vda'}, 'disks'),
    ({'disks': [{'path': 'relative.img'}]}, 'disks[0].path'),
    ({'disks': [{'path': '/x.img', 'pool': '{P}'}]}, 'disks[0].pool'),
    ({'disks': [{'volume': '{V}'}]}, 'disks[0].pool'),
    ({'disks': [{'pool': '{P}', 'size': 'huge'}]}, 'disks[0].size'),
    ({'disks': [{'pool': '{P}', 'size': '1K'}]}, 'disks[0].size'),
    ({'disks': [{'pool': '{P}', 'volume': 'a/b'}]}, 'disks[0].volume'),
    ({'disks': [{'pool': 'no-such-pool', 'volume': '{V}'}]}, 'disks[0].pool'),
    ({'disks': [{'pool': '{P}', 'volume': 'no-such.img'}]}, 'disks[0].volume'),
    ({'disks': [{'pool': '{P}', 'size': '1G', 'backing_volume': 'no-such.img'}]}, 'disks[0].backing_volume'),
    ({'disks': [{'pool': '{P}', 'size': '1G', 'device': 'cdrom'}]}, 'disks[0].device'),
    ({'disks': [dict(DISK, target='vdz1')]}, 'disks[0].target'),
    ({'disks': [dict(DISK, bus='virtio', target='sda')]}, 'disks[0].target'),
    ({'disks': [dict(DISK, format='exe')]}, 'disks[0].format'),
    ({'disks': [{'device': 'cdrom', 'bus': 'virtio'}]}, 'disks[0].bus'),
    ({'disks': [dict(DISK, bus='floppy')]}, 'bus'),
    ({'disks': [dict(DISK, target='vda'), {'path': '/y.img', 'target': 'vda'}]}, 'disks'),
    ({'interfaces': [{}]}, 'interfaces[0]'),
    ({'interfaces': [{'network': '{N}', 'bridge': 'br0'}]}, 'interfaces[0]'),
    ({'interfaces': [{'network': 'no-such-net'}]}, 'interfaces[0].network'),
    ({'interfaces': [{'network': 'a/b'}]}, 'interfaces[0].network'),
    ({'interfaces': [{'network': '{N}', 'mac': 'zz:zz'}]}, 'interfaces[0].mac'),
    ({'interfaces': [{'network': '{N}', 'mac': '01:00:5e:00:00:01'}]}, 'interfaces[0].mac'),
    ({'interfaces': [{'network': '{N}', 'model': 'e 1000'}]}, 'interfaces[0].model'),
    ({'interfaces': [{'network': '{N}', 'mac': '52:54:00:00:00:07'},
                     {'network': '{N}', 'mac': '52:54:00:00:00:07'}]}, 'interfaces'),
    ({'graphics': {'type': 'rdp'}}, 'graphics'),
    ({'graphics': {'type': 'none', 'password': 'Vk-pw-12'}}, 'graphics'),
    ({'graphics': {'listen': 'nowhere'}}, 'graphics.listen'),
    ({'graphics': {'password': 'Vk-pw-123'}}, 'graphics.password'),
    ({'console': 'serial'}, 'console'),
    ({'console': {'file': 'relative.log'}}, 'console.file'),
    ({'tags': {'bad key': '1'}}, 'tags'),
    ({'tags': {'k': [1]}}, 'tags.k'),
    ({'guest_agent': True, 'virt_type': 'xen'}, 'guest_agent'),
    ({'rng': True, 'virt_type': 'vmware'}, 'rng'),
    ({'xml': 'not xml at all', 'memory': None, 'virt_type': None}, 'xml'),
    ({'xml': "<domain type='qemu'><name>other</name><memory>1024</memory><os><type>hvm</type></os></domain>",
      'memory': None, 'virt_type': None}, 'xml'),
    ({'xml': "<domain type='qemu'><name>{NAME}</name><memory>1024</memory><os><type>hvm</type></os>"
             "<bogus/></domain>", 'memory': None, 'virt_type': None}, 'xml'),
    ({'xml': "<domain type='qemu'><name>{NAME}</name></domain>", 'memory': 256}, 'xml'),
    ({'xml_patches': [{'xpath': '///'}]}, 'xml_patches[0]'),
    ({'xml_patches': [{'xpath': '/domain/clock'}]}, 'xml_patches[0]'),
    ({'xml_patches': [{'xpath': '/domain/clock', 'value': '1', 'remove': True}]}, 'xml_patches[0]'),
    ({'xml_patches': [{'xpath': '/domain/clock', 'xml': '<timer'}]}, 'xml_patches[0].xml'),
    ({'xml_patches': [{'xpath': '/domain/clock', 'attribute': 'offset'}]}, 'xml_patches[0]'),
    ({'xml_patches': [{'xpath': "//nothing[@x='1']", 'value': '1'}]}, 'xml_patches[0]'),
    ({'xml_patches': [{'xpath': 'count(/domain)', 'value': '1'}]}, 'xml_patches[0]'),
    ({'xml_patches': [{'xpath': '/domain/nonexistent/thing', 'value': '1'}]}, 'xml_patches[0]'),
    ({'xml_patches': [{'xpath': '/domain/memory', 'value': '999999'}], 'memory': 128}, 'xml_patches'),
    ({'name': '{D}', 'state': 'present', 'xml_patches': [{'xpath': "/domain/devices/*[@a='b']", 'value': '1'}],
      'memory': None, 'virt_type': None}, 'xml_patches[0]'),
    ({'wait_for_ip': {'timeout': -1}, 'state': 'running'}, 'wait_for_ip.timeout'),
    ({'wait_for_ip': {'timeout': 5}, 'state': 'present'}, 'wait_for_ip'),
    ({'wait_for_ip': {'sources': ['carrier-pigeon']}, 'state': 'running'}, 'sources'),
    ({'remove_storage': 'maybe', 'state': 'absent'}, 'remove_storage'),
    ({'shutdown_timeout': -5}, 'shutdown_timeout'),
    ({'cloud_init': {'user_data': '#cloud-config\n'}}, 'cloud_init.pool'),
    ({'cloud_init': {'user_data': '#cloud-config\n', 'pool': '{P}', 'bus': 'usb'}}, 'bus'),
    ({'name': None}, 'name'),
    ({'colour': 'red'}, 'colour'),
    ({'uri': 'not a uri'}, 'uri'),
    ({'auth': {'username': 'u', 'password': 'Vk-corpus-pw', 'realm': 'r'}}, 'realm'),
    ({'memory': None, 'vcpus': 1}, 'memory'),
    ({'name': 'no-such-domain-anywhere', 'memory': None, 'virt_type': None, 'state': 'running'}, 'memory'),
    ({'name': '{D}', 'state': 'present', 'memory': None, 'virt_type': None, 'live': 'maybe'}, 'live'),
]

CONTAINER = [
    ({'name': 'a/b'}, 'name'),
    ({'rootfs': {'path': 'relative'}}, 'rootfs.path'),
    ({'rootfs': {'path': '/no/such/rootfs'}}, 'rootfs'),
    ({'rootfs': {'path': '{DIR}', 'archive': 'ftp://example.invalid/x.tar'}}, 'rootfs.archive'),
    ({'rootfs': {'path': '{DIR}', 'checksum': 'sha256:00'}}, 'rootfs'),
    ({'init': 42}, 'init'),
    ({'init': []}, 'init'),
    ({'env': {'1BAD': 'x'}}, 'env'),
    ({'memory': 'x'}, 'memory'),
    ({'vcpus': 0}, 'vcpus'),
    ({'cpu_shares': -1}, 'cpu_shares'),
    ({'mounts': [{'source': 'relative', 'target': '/x'}]}, 'mounts[0].source'),
    ({'mounts': [{'source': '/no/such/dir', 'target': '/x'}]}, 'mounts[0].source'),
    ({'mounts': [{'source': '/tmp', 'target': 'relative'}]}, 'mounts[0].target'),
    ({'idmap': {'uid': 'x'}}, 'idmap.uid'),
    ({'hostname': 'bad_host!'}, 'hostname'),
    ({'share_host_root': True}, 'share_host_root'),
    ({'state': 'frozen'}, 'state'),
    ({'interfaces': [{'network': 'no-such-net'}]}, 'interfaces[0].network'),
    ({'wait_for_ip': {'sources': ['agent']}, 'state': 'running'}, 'sources'),
    ({'xml': "<domain type='qemu'><name>{NAME}</name><memory>1024</memory><os><type>hvm</type></os></domain>",
      'rootfs': None, 'memory': None}, 'xml'),
    ({'xml_patches': [{'xpath': '/domain/devices/filesystem', 'xml': '<<'}]}, 'xml_patches[0].xml'),
]

NETWORK = [
    ({'name': 'a/b'}, 'name'),
    ({'mode': 'bridged'}, 'mode'),
    ({'ipv4': {'address': '10.77.0.1'}}, 'ipv4.address'),
    ({'ipv4': {'address': '10.77.0.0/24'}}, 'ipv4.address'),
    ({'ipv4': {'address': 'fe80::1/64'}}, 'ipv4.address'),
    ({'ipv4': {'address': '10.77.0.1/24', 'dhcp': {'ranges': [{'start': '10.88.0.1', 'end': '10.88.0.9'}]}}},
     'ipv4.dhcp.ranges[0]'),
    ({'ipv4': {'address': '10.77.0.1/24', 'dhcp': {'ranges': [{'start': '10.77.0.90', 'end': '10.77.0.9'}]}}},
     'ipv4.dhcp.ranges[0]'),
    ({'ipv4': dhcp(hosts=[{'mac': '52:54:00:00:00:01', 'ip': '10.99.0.5'}])}, 'ipv4.dhcp.hosts[0].ip'),
    ({'ipv4': dhcp(hosts=[{'mac': 'nope', 'ip': '10.77.0.5'}])}, 'ipv4.dhcp.hosts[0].mac'),
    ({'ipv4': dhcp(hosts=[{'mac': '52:54:00:00:00:01', 'ip': '10.77.0.5'},
                          {'mac': '52:54:00:00:00:01', 'ip': '10.77.0.6'}])}, 'ipv4.dhcp.hosts'),
    ({'mtu': 10}, 'mtu'),
    ({'mtu': 'big'}, 'mtu'),
    ({'bridge': 'this-name-is-far-too-long-for-linux'}, 'bridge'),
    ({'bridge': 'a/b'}, 'bridge'),
    ({'mac': 'zz'}, 'mac'),
    ({'dns': {'hosts': [{'ip': 'x', 'hostnames': ['a']}]}}, 'dns.hosts[0].ip'),
    ({'dns': {'hosts': [{'ip': '10.77.0.5', 'hostnames': []}]}}, 'dns.hosts[0].hostnames'),
    ({'dns': {'forwarders': ['not-an-ip']}}, 'dns.forwarders[0]'),
    ({'dns': {'hosts': 'x'}}, 'hosts'),
    ({'xml': '<network>', 'mode': None, 'ipv4': None}, 'xml'),
    ({'xml': "<network><name>{NAME}</name><bogus/></network>", 'mode': None, 'ipv4': None}, 'xml'),
    ({'xml': "<network><name>other</name></network>", 'mode': None, 'ipv4': None}, 'xml'),
    ({'xml': "<network><name>{NAME}</name></network>"}, 'xml'),
    ({'forward_dev': 'eth0'}, 'forward_dev'),
    ({'mode': 'bridge', 'ipv4': None}, 'bridge'),
    ({'state': 'up'}, 'state'),
    ({'ipv6': {'address': '10.77.0.1/24'}}, 'ipv6.address'),
    ({'domain': 'not a domain'}, 'domain'),
    ({'autostart': 'sometimes'}, 'autostart'),
    ({'name': '{N}', 'ipv4': {'address': '10.77.0.1/24'}, 'mode': 'isolated', 'uuid': 'x'}, 'uuid'),
]

POOL = [
    ({'name': 'a/b'}, 'name'),
    ({'type': 'ceph'}, 'type'),
    ({'path': 'relative/dir'}, 'path'),
    ({'type': 'dir', 'path': None}, 'path'),
    ({'type': 'fs', 'path': '{DIR}/mnt'}, 'source.devices'),
    ({'type': 'fs', 'path': '{DIR}/mnt', 'source': {'devices': ['relative']}}, 'source.devices[0]'),
    ({'type': 'fs', 'path': '{DIR}/mnt', 'source': {'devices': ['/dev/a', '/dev/b']}}, 'source.devices'),
    ({'type': 'fs', 'path': '{DIR}/mnt', 'source': {'devices': ['/dev/no-such-device-here']}},
     'source.devices[0]'),
    ({'type': 'dir', 'source': {'host': 'nfs.example'}}, 'source.host'),
    ({'type': 'fs', 'path': '{DIR}/mnt', 'source': {'devices': ['/dev/null'], 'format': 'ntfs'}}, 'source.format'),
    ({'permissions': {'mode': '999'}}, 'permissions.mode'),
    ({'permissions': {'owner': -1}}, 'permissions.owner'),
    ({'permissions': {'group': 'staff'}}, 'group'),
    ({'purge': True}, 'purge'),
    ({'force': True}, 'force'),
    ({'type': 'iscsi', 'source': {'host': 'h', 'devices': ['not-an-iqn']}}, 'source.devices[0]'),
    ({'type': 'rbd', 'source': {'name': 'p', 'host': 'h'}}, 'path'),
    ({'state': 'on'}, 'state'),
    ({'name': '{P}', 'type': 'fs', 'path': None}, 'type'),
    ({'type': 'netfs', 'source': {'host': 'h', 'dir': 'relative'}}, 'source.dir'),
    ({'source': 'nfs://h/x'}, 'source'),
]

VOLUME = [
    ({'name': 'a/b'}, 'name'),
    ({'pool': '..'}, 'pool'),
    ({'pool': 'no-such-pool'}, 'pool'),
    ({'capacity': 'big'}, 'capacity'),
    ({'capacity': -1}, 'capacity'),
    ({'capacity': None}, 'capacity'),
    ({'format': 'exe'}, 'format'),
    ({'backing_volume': {'name': 'no-such.img'}, 'capacity': None}, 'backing_volume'),
    ({'backing_path': 'relative.img', 'capacity': None}, 'backing_path'),
    ({'clone_from': {'name': 'no-such.img'}, 'capacity': None}, 'clone_from'),
    ({'clone_from': {'name': '{V}'}, 'import': {'path': '{IMG}'}, 'capacity': None}, 'clone_from'),
    ({'import': {'path': '/no/such/image.img'}, 'capacity': None}, 'import.path'),
    ({'import': {'path': '{IMG}', 'url': 'http://127.0.0.1:9/x.img'}, 'capacity': None}, 'import'),
    ({'import': {'path': '{IMG}', 'checksum': 'md5:abc'}, 'capacity': None}, 'import.checksum'),
    ({'import': {'path': '{IMG}', 'checksum': 'sha256:zz'}, 'capacity': None}, 'import.checksum'),
    ({'import': {'path': '{IMG}', 'checksum': 'sha256:' + '0' * 64}, 'capacity': None}, 'import.checksum'),
    ({'import': {'path': '{IMG}', 'format': 'qcow2'}, 'capacity': None}, 'import.format'),
    ({'import': {'url': 'gopher://127.0.0.1/x'}, 'capacity': None}, 'import.url'),
    ({'cloud_init': {}, 'capacity': None}, 'cloud_init'),
    ({'cloud_init': {'user_data': 5}, 'capacity': None}, 'cloud_init.user_data'),
    ({'name': '{V}', 'capacity': '512K'}, 'capacity'),
    ({'name': '{V}', 'format': 'qcow2', 'capacity': None}, 'format'),
    ({'state': 'gone'}, 'state'),
    ({'preallocate': 'yes please'}, 'preallocate'),
    ({'name': '{V}', 'backing_volume': {'name': '{V}'}, 'capacity': None}, 'backing_volume'),
]

INFO = [
    ('domain_info', {'name': 'a/b'}, 'name'),
    ('domain_info', {'state': ['bogus']}, 'state'),
    ('domain_info', {'tags': 'x'}, 'tags'),
    ('network_info', {'name': '..'}, 'name'),
    ('pool_info', {'name': 'a/b'}, 'name'),
    ('volume_info', {'pool': '..'}, 'pool'),
    ('volume_info', {}, 'pool'),
    ('volume_info', {'pool': '{P}', 'name': 'a/../b'}, 'name'),  # 'a/b' is a name: esx's folder/file.vmdk
    ('host_info', {'uri': 'not a uri'}, 'uri'),
    ('host_info', {'auth': 'me'}, 'auth'),
]

INVENTORY = [
    ({'uris': ['not a uri']}, 'uri'),
    ({'uris': [{'uri': 'qemu:///system', 'auth': 'x'}]}, 'auth'),
    ({'uris': [{'auth': {'username': 'a'}}]}, 'uri'),
    ({'uris': [{'uri': 'qemu:///system', 'colour': 'red'}]}, 'colour'),
    ({'states': ['bogus']}, 'states'),
    ({'name_pattern': '(['}, 'name_pattern'),
    ({'ip_sources': ['dns']}, 'ip_sources'),
    ({'concurrency': 'many'}, 'concurrency'),
    ({'concurrency': 0}, 'concurrency'),
    ({'timeout': 'soon'}, 'timeout'),
    ({'timeout': -1}, 'timeout'),
    ({'ansible_host_from': 'mac'}, 'ansible_host_from'),
    ({'filters': [{'maybe': 'true'}]}, 'filters'),
    ({'filters': [{'include': 'true', 'exclude': 'false'}]}, 'filters'),
    ({'ssh_hosts': ['h'], 'ssh_port': 'ssh'}, 'ssh_port'),
    ({'agent_timeout': -1}, 'agent_timeout'),
    ({'ssh_hosts': 'a/b'}, 'ssh_hosts'),
    ({'ip_source': ['lease']}, 'ip_source'),  # misspelt: Ansible passes over keys that are no option
]

CONNECTION = [
    ({'virt_lxc_uri': 'not a uri'}, 'uri'),
    ({'virt_lxc_uri': 'qemu:///system'}, 'uri'),
    ({'virt_port': 'ssh', 'virt_host': '127.0.0.1'}, 'virt_port'),
    ({'virt_container_name': 'a/b'}, 'container'),
    ({'virt_container_name': 'no-such-container-here'}, 'container'),
    ({'virt_host': '127.0.0.1', 'virt_port': 1}, 'SSH host'),
    ({'virt_host': '127.0.0.1', 'virt_known_hosts_file': '/no/such/known_hosts'}, 'known_hosts'),
    ({'virt_host': '127.0.0.1', 'virt_key_file': '/no/such/key', 'virt_known_hosts_file': '{KH}'}, 'key'),
    ({'virt_lxc_python': '/no/such/python', 'virt_container_name': 'no-such-container-here'}, 'container'),
    ({'virt_ssh_timeout': 'soon', 'virt_host': '127.0.0.1'}, 'timeout'),
]


def module_cases():
    """[(module, params, option)] of every module entry."""
    cases = []
    for module, table in (('domain', DOMAIN), ('container', CONTAINER), ('network', NETWORK), ('pool', POOL),
                          ('volume', VOLUME)):
        cases.extend((module, params, option) for params, option in table)
    cases.extend(INFO)
    return cases
