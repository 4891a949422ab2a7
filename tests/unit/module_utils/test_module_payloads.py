"""What a module's payload holds: the module_utils files its imports reach.

AnsiballZ ships every collection file a module's imports reach, imports
inside functions included: Ansible parses each of them once a run and sends
them all at every task. This walks the same import statements (every
``import`` and ``from ... import`` anywhere in a file, as ansible-core's
recursive_finder does) and holds the container module to what a container
can use: the guest engine, not what only a virtual machine plans (clones,
volumes created for disks, cloud-init seeds, remove_storage, overlays, the
host's capabilities); the modules of networks, storage and backups to no
guest code; and those that run no migration, snapshot or backup to the
driver without those calls; and each ``*_info`` module to its resource's
facts, without the code that plans changes; and ansible's ``urls`` to the
modules that download (volume, container). ``bench/shipped_files.py`` lists the payloads
as ansible-core itself builds them.
"""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MU = 'ansible_collections.virtkit.virt.plugins.module_utils'
MU_DIR = os.path.join(ROOT, 'plugins', 'module_utils')

# What only a virtual machine plans, and what only it reaches through them.
VM_ONLY = ['domain/manager.py', 'domain/clone.py', 'domain/storage.py', 'storage/volume_manager.py',
           'storage/volume_spec.py', 'storage/cloud_init.py',
           'storage/locations.py', 'domain/overlays.py', 'xmlmodel/snapshot.py', 'host/facts.py',
           'xmlmodel/host.py']


def _file_of(dotted):
    """The module_utils file (relative path) a dotted name is, or None (a package, a name in a file)."""
    if dotted != MU and not dotted.startswith(MU + '.'):
        return None
    parts = dotted[len(MU) + 1:].split('.') if dotted != MU else []
    path = os.path.join(*parts) + '.py' if parts else None
    return path if path and os.path.isfile(os.path.join(MU_DIR, path)) else None


def _names(path):
    """Every dotted name one file imports, anywhere in it: "from package import
    module" names a module, "from module import name" a name in it."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update('%s.%s' % (node.module, alias.name) for alias in node.names)
    return names


def _imports(path):
    """The collection's module_utils files one file imports, anywhere in it."""
    return set(f for f in (_file_of(name) for name in _names(path)) if f)


def reached(module):
    """The module_utils files the module's payload holds (paths under module_utils)."""
    todo = sorted(_imports(os.path.join(ROOT, 'plugins', 'modules', module + '.py')))
    seen = set()
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(_imports(os.path.join(MU_DIR, path)) - seen)
    return seen


def ansible_reached(module):
    """The names under ansible.module_utils that the module's payload imports."""
    files = [os.path.join(ROOT, 'plugins', 'modules', module + '.py')]
    files += [os.path.join(MU_DIR, path) for path in reached(module)]
    return set(name for path in files for name in _names(path) if name.startswith('ansible.module_utils.'))


URLS = 'ansible.module_utils.urls'


@pytest.mark.parametrize('module', sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, 'plugins', 'modules'))
                                          if name.endswith('.py') and name != '__init__.py'))
def test_only_what_downloads_ships_ansible_s_urls(module):
    # A volume imports an image from a URL, a container's root file system
    # can be one; a domain's own volumes are made without the image code.
    downloads = {'volume': 'storage/volume_import.py', 'container': 'container/rootfs.py'}
    assert (URLS in ansible_reached(module)) == (module in downloads)
    if module in downloads:
        assert URLS in _names(os.path.join(MU_DIR, downloads[module]))


def test_the_domain_module_ships_what_a_virtual_machine_plans():
    # The walk finds them where they are used: else the next test could not fail.
    assert set(VM_ONLY) <= reached('domain')


def test_the_container_module_ships_the_guest_engine_without_what_only_a_vm_plans():
    files = reached('container')
    assert {'domain/guest.py', 'domain/live.py', 'domain/power.py', 'container/manager.py'} <= files
    assert sorted(files & set(VM_ONLY)) == []


JOBS = ['driver/jobs.py', 'driver/libvirt_jobs.py']


@pytest.mark.parametrize('module', ['migrate', 'snapshot', 'backup', 'backup_info'])
def test_the_modules_that_run_a_domain_s_jobs_ship_that_part_of_the_driver(module):
    # backup_info reads checkpoints, which only backups make: a job's call.
    assert set(JOBS) <= reached(module)


@pytest.mark.parametrize('module', ['network', 'pool', 'volume', 'container', 'host_info', 'domain_info', 'domain',
                                    'snapshot_info', 'network_info', 'pool_info', 'volume_info'])
def test_the_other_modules_do_not(module):
    # A clone and snapshot_info list snapshots: a listing, in the plain driver.
    assert {'driver/interface.py', 'driver/libvirt_driver.py'} <= reached(module)
    assert sorted(reached(module) & set(JOBS)) == []


# What a resource's module plans with, and the file of the facts both it and its *_info module return.
PLANNING = {
    'domain': (['domain/manager.py', 'domain/guest.py', 'domain/spec.py', 'domain/live.py'], 'domain/facts.py'),
    'network': (['network/manager.py', 'network/spec.py'], 'network/facts.py'),
    'pool': (['storage/pool_manager.py', 'storage/pool_spec.py'], 'storage/pool_facts.py'),
    'volume': (['storage/volume_manager.py', 'storage/volume_spec.py', 'storage/importing_volume_manager.py',
                'storage/volume_import.py'],
               'storage/volume_facts.py'),
    'snapshot': (['snapshot/manager.py', 'snapshot/spec.py', 'xmlmodel/domain.py'], 'snapshot/facts.py'),
    'backup': (['backup/manager.py', 'engine/sizes.py'], 'backup/facts.py'),
}


@pytest.mark.parametrize('kind', sorted(PLANNING))
def test_an_info_module_ships_its_facts_without_the_planning_code(kind):
    planning, facts = PLANNING[kind]
    # The module itself reaches both, so the walk finds them where they are used.
    assert set(planning) | {facts} <= reached(kind)
    assert facts in reached(kind + '_info')
    assert sorted(reached(kind + '_info') & set(planning)) == []


@pytest.mark.parametrize('module', ['network', 'pool', 'volume', 'backup'])
def test_networks_storage_and_backups_ship_no_guest_code_and_no_domain_parser(module):
    # A backup reads a domain's disks and platform with small queries (xmlmodel/snapshot.py, backup.py).
    assert sorted(f for f in reached(module) if f.startswith(('domain/', 'container/'))
                  or f in ('xmlmodel/domain.py', 'xmlmodel/container.py')) == []


LISTING = ['driver/libvirt_listing.py', 'driver/parallel.py']


def test_the_inventory_s_bulk_listing_is_the_inventory_s():
    # Its open_driver reaches both, so the walk finds them where they are used.
    assert set(LISTING) <= set().union(*(_imports(os.path.join(MU_DIR, f)) for f in
                                         ['driver/libvirt_listing.py', '../plugin_utils/client.py']))


@pytest.mark.parametrize('module', sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, 'plugins', 'modules'))
                                          if name.endswith('.py') and name != '__init__.py'))
def test_no_module_ships_it(module):
    assert sorted(reached(module) & set(LISTING)) == []
