"""One libvirt test-driver host kept for several domain tasks in a row.

libvirt's test driver starts a new host at every connection, so a task and
its re-run (check mode, apply, both again) must share one. conftest.py
makes the fixtures ``host`` and ``run`` of this folder from these.
"""
from ansible_collections.virtkit.virt.plugins.module_utils.domain.manager import DomainManager
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import execute

# Every option the domain module passes to DomainManager that has no default.
OPTIONS = ('autostart', 'arch', 'machine', 'memory', 'max_memory', 'vcpus', 'max_vcpus', 'cpu', 'firmware', 'boot',
           'kernel', 'initrd', 'cmdline', 'disks', 'interfaces', 'graphics', 'console', 'guest_agent', 'rng',
           'cloud_init', 'tags', 'xml', 'xml_patches', 'wait_for_ip', 'auth')


def domain_params(**kw):
    """A domain task's parameters on test:///default, as the module passes them."""
    params = dict((key, None) for key in OPTIONS)
    params.update(uri='test:///default', name='test', state='running', virt_type='auto', live=True, restart=False,
                  shutdown_timeout=120, force=False, remove_storage=False)
    params.update(kw)
    return params


def task_runner(driver):
    """``run(check=False, **options)``: one domain task on ``driver``, its result with the diff."""
    def run(check=False, **kw):
        manager = DomainManager(domain_params(uri=driver.uri, **kw), check)
        manager.connector = lambda *args, **kwargs: driver
        return execute(manager, want_diff=True)
    return run


def kept_open(driver):
    """``driver`` whose close is put off, so tasks share its host; returns the real close."""
    real_close = driver.close
    driver.close = lambda: None
    return real_close
