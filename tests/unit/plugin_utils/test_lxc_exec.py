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


def test_the_helper_argv_and_its_own_failures():
    from ansible_collections.virtkit.virt.plugins.plugin_utils.lxc_exec import (
        ENTER_HELPER, NoEnterHelper, has_user_namespace)
    argv = enter_argv('lxc:///', 'web1', 'id -u', python='/usr/bin/python3')
    assert argv == ['/usr/bin/python3', '-c', ENTER_HELPER, 'lxc:///', 'web1', '/bin/sh', 'id -u']
    compile(ENTER_HELPER, 'ENTER_HELPER', 'exec')
    # the command's own status and stderr, whatever they say
    assert interpret(3, b'o', b'error: Domain not found\n', 'c', 'lxc:///', helper=True) == (
        3, b'o', b'error: Domain not found\n')
    assert interpret(126, b'', b'sh: x: not executable\n', 'c', 'lxc:///', helper=True)[0] == 126
    # the helper's own
    with pytest.raises(NoEnterHelper):
        interpret(126, b'', b'virtkit-lxc-enter: no libvirt-python\n', 'c', 'lxc:///', helper=True)
    with pytest.raises(ContainerStarting):
        interpret(126, b'', b'virtkit-lxc-enter: Expected at least one file descriptor\n', 'c', 'lxc:///',
                  helper=True)
    with pytest.raises(ContainerUnavailable) as info:
        interpret(126, b'', b"virtkit-lxc-enter: Domain not found: no domain with matching name 'c'\n", 'c',
                  'lxc:///', helper=True)
    assert 'not running' in str(info.value)
    assert has_user_namespace(0, b"<domain><idmap><uid start='0' target='1' count='9'/></idmap></domain>")
    assert not has_user_namespace(0, b'<domain/>') and not has_user_namespace(1, b'<idmap')
