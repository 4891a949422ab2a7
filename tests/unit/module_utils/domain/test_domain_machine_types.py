"""Machine type aliases a host offers (libvirt stores 'pc' as 'pc-i440fx-7.2')."""
from ansible_collections.virtkit.virt.plugins.module_utils.domain.manager import machine_aliases
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.host import parse_capabilities

CAPS = """<capabilities><host><cpu><arch>x86_64</arch></cpu></host>
<guest><os_type>hvm</os_type><arch name='x86_64'>
  <machine maxCpus='255'>pc-i440fx-7.2</machine>
  <machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>
  <machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>
  <domain type='qemu'/><domain type='kvm'/></arch></guest></capabilities>"""


def test_machine_aliases_from_capabilities():
    assert machine_aliases(parse_capabilities(CAPS), 'x86_64', 'qemu') == {'pc': 'pc-i440fx-7.2', 'q35': 'pc-q35-7.2'}
    assert machine_aliases(parse_capabilities(CAPS), 'aarch64', 'qemu') == {}


def test_machine_aliases_of_one_domain_type():
    caps = parse_capabilities("""<capabilities><host/><guest><os_type>hvm</os_type><arch name='x86_64'>
      <machine canonical='pc-i440fx-7.2'>pc</machine>
      <domain type='qemu'/><domain type='kvm'><machine canonical='pc-q35-7.1'>q35</machine></domain>
      </arch></guest></capabilities>""")
    assert machine_aliases(caps, 'x86_64', 'kvm') == {'pc': 'pc-i440fx-7.2', 'q35': 'pc-q35-7.1'}
    assert machine_aliases(caps, 'x86_64', 'qemu') == {'pc': 'pc-i440fx-7.2'}
    assert machine_aliases(caps, None, 'qemu') == {'pc': 'pc-i440fx-7.2'}
