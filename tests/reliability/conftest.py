"""The reliability suite (issue 19): faults, concurrency and bad input against
a real libvirtd, as one suite with one table (docs/reliability.md).

Every fault that needs a daemon killed or restarted hits a private libvirtd
the suite starts for itself (tests/integration/private_daemon.py): the
host's daemon, which every other test shares, is never touched. The table is
written when the whole suite ran and passed; a partial run (-k, a failure)
writes it to a temporary file instead and says where.
"""
import os
import secrets
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'integration'))
sys.path.insert(0, HERE)

import importlib.util  # noqa: E402

from harness import bed_facts, free_subnets  # noqa: E402  (paths set just above)
from private_daemon import PrivateDaemon  # noqa: E402
from suite import DOC, Report  # noqa: E402

REPORT = Report()

# The integration tests' own sshd on 127.0.0.1 (host keys, a wrong known_hosts), shared.
_SPEC = importlib.util.spec_from_file_location('virtkit_integration_conftest',
                                               os.path.join(os.path.dirname(HERE), 'integration', 'conftest.py'))
_INTEGRATION = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_INTEGRATION)
sshd = _INTEGRATION.sshd
_STATE = {'items': 0, 'passed': 0, 'failed': 0, 'deselected': 0, 'started': None}


def _ours(item):
    return str(getattr(item, 'fspath', '')).startswith(HERE + os.sep)


def pytest_collection_modifyitems(session, config, items):
    _STATE['items'] = sum(1 for item in items if _ours(item))
    files = set(str(item.fspath) for item in items if _ours(item))
    every = set(os.path.join(HERE, name) for name in os.listdir(HERE)
                if name.startswith('test_') and name.endswith('.py'))
    _STATE['whole'] = files == every


def pytest_deselected(items):
    _STATE['deselected'] += sum(1 for item in items if _ours(item))


def pytest_runtest_logreport(report):
    if not str(report.fspath).startswith(HERE + os.sep) and not report.nodeid.startswith('tests/reliability'):
        return
    _STATE['ended'] = time.monotonic()  # the suite's time ends with its last test, not the session
    if report.when == 'call' and report.passed:
        _STATE['passed'] += 1
    elif report.failed or report.skipped:
        _STATE['failed'] += 1


def pytest_sessionfinish(session, exitstatus):
    if not _STATE['items'] or _STATE['started'] is None:
        return
    seconds = _STATE.get('ended', time.monotonic()) - _STATE['started']
    text = REPORT.markdown(seconds) + '\n'
    whole = _STATE.get('whole') and not _STATE['deselected'] and not _STATE['failed'] and \
        _STATE['passed'] == _STATE['items']
    path = DOC if whole else os.path.join('/tmp', 'reliability-partial-%d.md' % os.getpid())
    with open(path, 'w') as handle:
        handle.write(text)
    writer = session.config.pluginmanager.get_plugin('terminalreporter')
    if writer is not None:
        writer.write_line('reliability table: %s (%s)' % (path, 'the whole suite passed' if whole else
                                                          'a partial or failed run: docs/reliability.md kept'))


@pytest.fixture(scope='session')
def report():
    if _STATE['started'] is None:
        _STATE['started'] = time.monotonic()
    return REPORT


@pytest.fixture(scope='session')
def bed():
    facts = bed_facts()
    if not facts.get('kernel'):
        pytest.fail('the test bed is not ready: run tests/bed/setup.sh')
    return facts


@pytest.fixture(scope='session')
def prefix(report):
    report.prefix = 'vkrel%s' % secrets.token_hex(2)
    return report.prefix


@pytest.fixture(scope='session')
def daemon(prefix, report):
    """The suite's own libvirtd; at the end everything in it is removed, it
    is stopped, and what it left on the host (processes, bridges, iptables
    rules) is a row of the table - and a failure when there is any."""
    password = report.secret('SASL password of the private daemon', secrets.token_urlsafe(18))
    private = PrivateDaemon(prefix, sasl=(_INTEGRATION._free_port(), '%s-user' % prefix, password))
    private.start()
    try:
        yield private
    finally:
        left = private.stop()
        report.add('cleanup', 'the private libvirtd, stopped at the end of the suite',
                   'every domain, network and pool of the suite removed through it, then SIGTERM; it was killed '
                   'or restarted %d times during the suite' % (private.starts - 1),
                   'processes in its mount namespaces, bridges and iptables rules named %s: %s'
                   % (prefix, '; '.join(left) or 'none'), left='; '.join(left) or 'nothing',
                   outcome='ok' if not left else 'LEFT BEHIND')
        assert not left, left


@pytest.fixture(scope='session')
def subnets():
    """Free /24s for the suite's isolated networks ("192.168.N", handed out in turn)."""
    pool = [str(net.network_address).rsplit('.', 1)[0] for net in free_subnets(8)]
    return iter(pool)


@pytest.fixture(scope='session')
def work(prefix, tmp_path_factory):
    return tmp_path_factory.mktemp(prefix)
