"""Interfaces on one network told apart by their model: a NIC keeps its MAC
(libvirt's, never named in the task) and its model when the list is
reordered or a NIC is added in front; a model change keeps the MAC, is a
redefinition, and on a running guest waits for its restart. Runs one after
another on one connection to libvirt's test driver (test:///default: the
running domain 'test' with one NIC on network 'default', no model)."""

from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import parse_domain_xml

PENDING = "domain 'test': interfaces change takes effect when the domain restarts (set restart: true to restart it now)"


def models(host, inactive):
    """``{mac: model}`` of the persistent (``inactive``) or the running definition."""
    xml = host.domain_xml('test', inactive=inactive)
    return dict((i['mac'], i['model']) for i in parse_domain_xml(xml)['interfaces'])


def four_steps(run, **task):
    """Check mode, apply, check mode again, apply again; each prediction is what the run did."""
    results = []
    for step in ('first', 'again'):
        predicted, done = run(check=True, **task), run(**task)
        for key in ('changed', 'actions', 'restart_required', 'warnings'):
            assert predicted[key] == done[key], (step, key, predicted, done)
        results.extend([predicted, done])
    return results


def nics(*names):
    return [{'network': 'default', 'model': name} if name else {'network': 'default'} for name in names]


def test_a_model_change_of_a_shut_off_guest_keeps_the_mac(run, host):
    assert run(state='destroyed')['actions'] == ['destroy']
    check, done, again_check, again = four_steps(run, state='destroyed', interfaces=nics('e1000'))
    assert done['actions'] == ['redefine'] and not done['restart_required'] and done['warnings'] == []
    assert done['diff']['before']['interfaces'] == [{'type': 'network', 'network': 'default',
                                                     'mac': 'aa:bb:cc:dd:ee:ff'}]
    assert done['diff']['after']['interfaces'][0]['model'] == 'e1000'
    assert models(host, inactive=True) == {'aa:bb:cc:dd:ee:ff': 'e1000'}
    assert not again_check['changed'] and not again['changed'] and again['actions'] == []
    # a task that says no model leaves it as it is
    assert run(state='destroyed', interfaces=nics(None))['changed'] is False


def test_nics_of_a_running_guest_keep_their_macs_and_models_and_a_model_waits_for_the_restart(run, host):
    made = run(interfaces=nics('virtio', 'e1000'), restart=True)
    assert made['actions'] == ['redefine', 'restart'], made
    mac = dict((model, m) for m, model in models(host, inactive=False).items())
    assert sorted(mac) == ['e1000', 'virtio'] and mac['virtio'] == 'aa:bb:cc:dd:ee:ff'

    # listed the other way round, one added in front: no NIC changes its model
    listed = run(check=True, interfaces=nics('rtl8139', 'e1000', 'virtio'))
    assert listed['actions'] == ['redefine'] and listed['restart_required']  # the test driver has no hot-plug
    after = listed['diff']['after']['interfaces']
    assert [(i.get('mac'), i['model']) for i in after] == [(None, 'rtl8139'), (mac['e1000'], 'e1000'),
                                                           (mac['virtio'], 'virtio')]
    assert listed['diff']['before']['interfaces'] == [
        {'type': 'network', 'network': 'default', 'mac': mac['virtio'], 'model': 'virtio'},
        {'type': 'network', 'network': 'default', 'mac': mac['e1000'], 'model': 'e1000'}]
    assert run(interfaces=nics('e1000', 'virtio'))['changed'] is False

    # another model for one of them: that NIC keeps its MAC; the guest takes it at its restart
    check, done, again_check, again = four_steps(run, interfaces=nics('e1000', 'rtl8139'))
    assert done['actions'] == ['redefine'] and done['restart_required'] and PENDING in done['warnings']
    assert models(host, inactive=True) == {mac['e1000']: 'e1000', mac['virtio']: 'rtl8139'}
    assert models(host, inactive=False) == {mac['e1000']: 'e1000', mac['virtio']: 'virtio'}
    assert again['changed'] is False and again['actions'] == []
    assert again['restart_required'] and PENDING in again['warnings']
    restarted = run(interfaces=nics('e1000', 'rtl8139'), restart=True)
    assert restarted['actions'] == ['restart'] and not restarted['restart_required']
    assert models(host, inactive=False) == {mac['e1000']: 'e1000', mac['virtio']: 'rtl8139'}
    # libvirt's models stay what they are for a task that names none
    unnamed = run(interfaces=nics(None, None))
    assert unnamed['changed'] is False and not unnamed['restart_required']
