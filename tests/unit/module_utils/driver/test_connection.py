import pytest

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri, resolve_uri
from ansible_collections.virtkit.virt.plugins.module_utils.errors import InvalidSpec


def test_default_uri_order():
    assert resolve_uri(None, {}) == 'qemu:///system'
    assert resolve_uri(None, {'LIBVIRT_DEFAULT_URI': 'lxc:///'}) == 'lxc:///'
    assert resolve_uri('test:///default', {'LIBVIRT_DEFAULT_URI': 'lxc:///'}) == 'test:///default'


@pytest.mark.parametrize('uri', ['qemu:///system', 'qemu+ssh://root@hv1:2222/system?keyfile=/k',
                                 'esx://vcenter.example/?no_verify=1', 'test:///tmp/host.xml', 'lxc:///',
                                 'esx://root@esx1.example.com:8443/?no_verify=1&auto_answer=1', 'esx://esx1?no_verify=1',
                                 'vpx://vc.example.com/DC1/Cluster1/esx1.example.com?no_verify=1',
                                 'vpx://vc.example.com/folder1/DC1/folder2/esx1.example.com',
                                 'esx://[fd00::1]:443/?proxy=socks://proxy.example.com:1080'])
def test_good_uris(uri):
    assert resolve_uri(uri, {}) == uri


@pytest.mark.parametrize('uri', ['qemu', 'qemu:/system', '://x', 'qemu:///sys tem', 'QEMU:///system'])
def test_malformed_uri_names_the_field(uri):
    with pytest.raises(InvalidSpec) as info:
        resolve_uri(uri, {})
    assert info.value.field == 'uri'


@pytest.mark.parametrize('uri, local', [('qemu:///system', True), ('lxc:///', True), ('test:///default', True),
                                        ('qemu+ssh://root@hv1/system', False), ('lxc+tls://hv1/', False),
                                        ('esx://esx1/?no_verify=1', False), ('vpx://vc/DC1/esx1', False)])
def test_local_uris_name_no_host(uri, local):
    assert is_local_uri(uri) is local
