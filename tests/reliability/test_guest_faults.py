"""A guest that crashes or powers off while a task waits for it - for its IP
address, or for a graceful shutdown: noticed at once and said with the
guest's state, not a timeout minutes later.

A crash is the QEMU process killed (SIGKILL, as the OOM killer does); a
power-off is an ACPI shutdown from another client. The guests sit on a
network without DHCP, so no address ever comes: only the fault ends the wait."""
import os
import signal
import time

import pytest

from harness import wait_for
from helpers import domstate, guest_args, make_network, remove
from suite import finish_module, start_module, warnings_of

TIMEOUT = 300


@pytest.fixture(scope='module')
def no_dhcp(daemon, prefix, subnets):
    name, subnet = '%s-nd' % prefix, next(subnets, None)
    make_network(daemon, name, '%s-nd' % prefix, subnet, dhcp=False)
    yield name
    remove(daemon, ('network', name))


def qemu_pid(daemon, name):
    with open(os.path.join(daemon.state, 'run', 'qemu', '%s.pid' % name)) as handle:
        return int(handle.read().strip())


def wait_then(daemon, report, tmp, name, args, fault, label):
    """Start the domain task, let it wait (the guest running), put the fault
    in; returns (result, seconds from the fault to the task's answer)."""
    proc, _started = start_module('domain', args, tmp)
    wait_for(lambda: domstate(daemon, name).startswith('running'), 120, interval=0.2, what='%s to run' % name)
    time.sleep(3)  # the task is in its wait now
    assert proc.poll() is None, proc.communicate()
    fault()
    faulted = time.monotonic()
    result, ended = finish_module(proc, report, label, timeout=TIMEOUT + 60)
    return result, ended - faulted


def test_a_guest_that_crashes_while_waited_for_its_ip(daemon, report, bed, prefix, no_dhcp, tmp_path):
    name = '%s-gc' % prefix
    args = guest_args(daemon.uri(), name, bed, network=no_dhcp, wait_for_ip={'timeout': TIMEOUT, 'sources': ['lease']})
    try:
        result, detect = wait_then(daemon, report, tmp_path, name, args,
                                   lambda: os.kill(qemu_pid(daemon, name), signal.SIGKILL), 'crash in wait_for_ip')
        assert result.get('failed') and 'it stopped while the task waited for its IP address' in result['msg'], result
        assert 'it is shutoff (crashed)' in result['msg'] and result['changed'] is True
        assert detect < 10, detect  # the timeout is 300 s
        report.add('guest', 'wait_for_ip (timeout %d s), the guest\'s QEMU killed (SIGKILL) 3 s into the wait'
                   % TIMEOUT, 'new guest on a network without DHCP, state running, wait_for_ip', result['msg'],
                   detect=detect, left='the guest, defined and shut off (crashed): the result says so and reports '
                                       'changed (define, start were done)')
    finally:
        remove(daemon, ('domain', name))


def test_a_guest_that_powers_off_while_waited_for_its_ip(daemon, report, bed, prefix, no_dhcp, tmp_path):
    name = '%s-gp' % prefix
    args = guest_args(daemon.uri(), name, bed, network=no_dhcp, wait_for_ip={'timeout': TIMEOUT, 'sources': ['lease']})
    try:
        def power_off():
            # The bed's guest starts acpid a few seconds into its boot: press the button until it goes.
            deadline = time.monotonic() + 60
            while not domstate(daemon, name).startswith('shut off') and time.monotonic() < deadline:
                daemon.virsh('shutdown', name)
                time.sleep(1)
        result, detect = wait_then(daemon, report, tmp_path, name, args, power_off, 'poweroff in wait_for_ip')
        assert result.get('failed') and 'it is shutoff (shutdown)' in result['msg'], result
        assert detect < 10, detect
        report.add('guest', 'wait_for_ip (timeout %d s), the guest powered off (ACPI shutdown from another client)'
                   % TIMEOUT, 'new guest on a network without DHCP, state running, wait_for_ip', result['msg'],
                   detect=detect, left='the guest, defined and shut off: the result says so and reports changed')
    finally:
        remove(daemon, ('domain', name))


def test_a_guest_that_crashes_during_a_graceful_shutdown(daemon, report, bed, prefix, tmp_path):
    name = '%s-gs' % prefix
    # acpi=off: the guest ignores the power button, so the task waits its shutdown_timeout.
    start = guest_args(daemon.uri(), name, bed, cmdline='console=ttyS0 acpi=off')
    from suite import run_module
    started = run_module('domain', start, tmp_path, report)
    assert not started.get('failed'), started['msg']
    try:
        args = dict(uri=daemon.uri(), name=name, state='shutdown', shutdown_timeout=TIMEOUT)
        proc, _t = start_module('domain', args, tmp_path)
        time.sleep(4)
        assert proc.poll() is None and domstate(daemon, name).startswith('running')
        os.kill(qemu_pid(daemon, name), signal.SIGKILL)
        faulted = time.monotonic()
        result, ended = finish_module(proc, report, 'crash in shutdown')
        detect = ended - faulted
        assert not result.get('failed'), result['msg']
        assert result['domain']['state'] == 'shutoff' and detect < 10, (result, detect)
        warning = [w for w in warnings_of(result) if 'crashed while it shut down' in w]
        assert warning, (domstate(daemon, name), result.get('warnings'))
        report.add('guest', 'state: shutdown (shutdown_timeout %d s) of a guest that ignores ACPI; its QEMU killed '
                   '4 s into the wait' % TIMEOUT, 'running guest, state shutdown',
                   'ok, changed, state shutoff, with the warning: %s' % warning[0], detect=detect,
                   left='nothing (the guest is off, as asked)')
    finally:
        remove(daemon, ('domain', name))
