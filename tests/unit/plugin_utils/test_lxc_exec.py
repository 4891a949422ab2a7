import pytest

from ansible_collections.virtkit.virt.plugins.plugin_utils.lxc_exec import (
    ContainerStarting, ContainerUnavailable, enter_argv, interpret)


def test_argv_is_quiet_and_uses_a_shell():
    assert enter_argv('lxc:///', 'web1', 'echo hi') == [
        'virsh', '-q', '-c', 'lxc:///', 'lxc-enter-namespace', 'web1', '--noseclabel', '/bin/sh', '-c', 'echo hi']


def test_success_passes_through():
    assert interpret(0, b'out', b'err', 'c', 'lxc:///') == (0, b'out', b'err')


def test_the_commands_own_exit_status_and_stderr():
    stderr = b'own message\nerror: internal error: Child process (1234) unexpected exit status 7\n'
    assert interpret(1, b'', stderr, 'c', 'lxc:///') == (7, b'', b'own message\n')


def test_a_signal_is_128_plus_its_number():
    stderr = b'error: internal error: Child process (1234) unexpected fatal signal 9\n'
    assert interpret(1, b'', stderr, 'c', 'lxc:///') == (137, b'', b'')


def test_a_container_still_starting_may_be_retried():
    with pytest.raises(ContainerStarting):
        interpret(1, b'', b'error: Expected at least one file descriptor\n', 'c', 'lxc:///')


@pytest.mark.parametrize('stderr', [b"error: Requested operation is not valid: domain is not running\n",
                                    b"error: failed to get domain 'c'\nerror: Domain not found\n"])
def test_a_missing_or_stopped_container_is_unavailable(stderr):
    with pytest.raises(ContainerUnavailable) as info:
        interpret(1, b'', stderr, 'c', 'lxc:///')
    assert not isinstance(info.value, ContainerStarting)
    assert "'c'" in str(info.value)
