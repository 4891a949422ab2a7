# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine that plans libvirt guests: virtual machines (DomainManager,
domain/manager.py) and containers (ContainerManager, container/manager.py).

One path for every change: the spec becomes the desired canonical domain;
the persistent XML becomes the current one; what differs is one
redefinition of the persistent XML (patched, so that what the model does not
cover survives, and always with the existing UUID), followed by live
operations that bring a running guest to it and the power transitions the
wanted state needs. Check mode and the diff come from the same plan.

This file plans; the engine's two other parts carry out what is planned:
LiveOperations (domain/live.py: attach, detach, updateDevice, the balloon,
vCPUs, metadata) and PowerTransitions (domain/power.py: start, shutdown with
its timeout, destroy, pause, resume, restart, autostart).

Both kinds of guest override only the hooks marked as such - the spec, what
a new one needs and starts from, what it owns (volumes, a cloud-init seed
and clones for a virtual machine, a rootfs for a container), what restarts
it, how it is asked to stop, its facts. What only a virtual machine can do
stays out of this file, so that the container module does not ship it: a
module's payload holds every file its imports reach, inside functions too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.virtkit.virt.plugins.module_utils.domain.devices import (
    check_references, resolve_disks, resolve_interfaces, volume_format)
from ansible_collections.virtkit.virt.plugins.module_utils.domain.facts import HIDDEN, domain_facts, wait_for_addresses
from ansible_collections.virtkit.virt.plugins.module_utils.domain.live import (
    RESTART_KEYS, WHOLE_KEYS, LiveOperations, disk_changes, interface_changes, key_differs, plan_live)
from ansible_collections.virtkit.virt.plugins.module_utils.domain.power import PowerTransitions
from ansible_collections.virtkit.virt.plugins.module_utils.domain.setters import DefinitionSetters
from ansible_collections.virtkit.virt.plugins.module_utils.domain.spec import (
    ADDRESS_SOURCES, STATES, defines_something, domain_spec, wait_spec, xml_secrets)
from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import ACTIVE_STATES
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Plan, diff_specified, prune, restrict
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, DriverError, InvalidSpec, NotFound, or_none
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.domain import (
    build_domain_xml, cpu_stamp, definition_stamps, fixed_vcpus, forget_bus_layout, machine_family, parse_domain_xml,
    running_cpu_stamp, with_stamps)

DEVICE_KEYS = ('disks', 'interfaces')
# Canonical keys as the user calls them.
OPTION_NAMES = {'memory_kib': 'memory', 'max_memory_kib': 'max_memory', 'xml': 'XML'}
# How a virtual machine is asked to shut down (shutdown_mode; the driver knows more modes, for containers).
SHUTDOWN_REQUESTS = ('acpi', 'agent')
# Domain types whose serial ports can be host pseudo-terminals.
PTY_CONSOLE_TYPES = ('qemu', 'kvm', 'xen', 'test')
# The definition's stamps (xmlmodel.domain) by the option whose change writes them.
STAMPED_OPTIONS = {'cpu': 'cpu', 'patches': 'xml_patches'}


# Imported when used: a user's XML only with xml or xml_patches. A task on an
# existing domain from options does not compile it.
def _user_xml():
    from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel import user_xml
    return user_xml


def _field(kind, index, key):
    return '%s[%d].%s' % (kind, index, key)


# Lists the diff pairs by a key, not by position (a disk inserted in the middle
# does not show every later one as changed): the key, and the shape of an item
# the task leaves out (removed).
PAIRED_LISTS = {'disks': ('target', ('target', 'device', 'path', 'pool', 'volume')),
                'interfaces': ('mac', ('mac', 'type', 'network', 'bridge', 'direct'))}


def paired(current, desired, key, shape):
    """The diff's *before* of a device list: each current item cut to the
    shape of the desired one with the same ``key``, or to ``shape``."""
    wanted = dict((item[key], item) for item in desired if item.get(key))
    return [restrict(item, wanted.get(item[key]) or dict.fromkeys(shape, True)) for item in current]


def _password(canonical):
    return (canonical.get('graphics') or {}).get('password')


def shown(canonical):
    """A canonical domain as a diff shows it: secrets hidden, None dropped."""
    result = prune(copy.deepcopy(canonical))
    graphics = result.get('graphics')
    if isinstance(graphics, dict) and graphics.get('password'):
        graphics['password'] = HIDDEN
    for disk in result.get('disks') or []:
        disk.pop('create', None)
    return result


class GuestManager(LiveOperations, PowerTransitions, DefinitionSetters, Manager):
    kind = 'domain'
    result_key = 'domain'
    # Hooks for the kinds of guest.
    address_sources = ADDRESS_SOURCES
    restart_keys = RESTART_KEYS
    option_names = OPTION_NAMES
    how_to_define = 'to define it give memory (and disks, interfaces ...) or xml'
    # How a graceful shutdown reaches the guest (shutdown_mode), for messages.
    shutdown_hints = {'acpi': 'the guest may ignore ACPI', 'agent': 'the guest agent may not answer'}
    secrets = staticmethod(xml_secrets)

    @property
    def shutdown_hint(self):
        return self.shutdown_hints[self.params.get('shutdown_mode') or 'acpi']

    @property
    def resource(self):
        return '%s %r' % (self.kind, self.name)

    # -- validation (no connection) -------------------------------------------
    def validate(self):
        v.plain_name(self.params['name'], 'name')
        self.state = self.params.get('state') or 'running'
        if self.state not in STATES:
            raise InvalidSpec('state', '%r is not one of %s' % (self.state, ', '.join(STATES)))
        self.wait = wait_spec(self.params, self.address_sources)
        timeout = self.params.get('shutdown_timeout')
        self.shutdown_timeout = 120 if timeout is None else timeout
        if self.shutdown_timeout < 0:
            raise InvalidSpec('shutdown_timeout', 'must not be negative')
        if self.params.get('shutdown_mode') not in (None,) + SHUTDOWN_REQUESTS:
            raise InvalidSpec('shutdown_mode', '%r is not one of %s'
                              % (self.params['shutdown_mode'], ', '.join(SHUTDOWN_REQUESTS)))
        self.spec, self.user_xml, self.strict = None, None, False
        self.validate_options()
        if self.state == 'absent' or not (self.defines_something() or self.params.get('xml_patches')):
            return
        self.spec, self.user_xml = self.make_spec()
        self.strict = self.user_xml is not None
        self.validate_spec()

    def validate_options(self):
        """Hook: checks of the kind's own options, before its spec is made."""

    def defines_something(self):
        """Hook: whether the params say anything about the definition."""
        return defines_something(self.params)

    def make_spec(self):
        """Hook: ``(desired canonical dict, the user's whole XML or None)``."""
        return domain_spec(self.params)

    def validate_spec(self):
        """Hook: checks of the spec that need no connection, and what it owns."""

    def locked_objects(self):
        """Hook: what a task on the same objects waits for."""
        return [('domain', self.name)]

    # -- current state ------------------------------------------------------------
    def _status(self):
        return or_none(self.driver.domain_status, self.name)

    def plan(self):
        plan = Plan(self.kind, self.name)
        status = self._status()
        if self.state == 'absent':
            self._plan_absent(plan, status)
            return plan
        if status is None:
            if self.spec is None:
                raise NotFound('%s %r does not exist; %s' % (self.kind, self.name, self.how_to_define),
                               resource=self.resource, action='manage')
            self._plan_create(plan)
        else:
            self._plan_existing(plan, status)
        return plan

    # -- the desired domain ---------------------------------------------------------
    def _desired(self, config):
        """The spec completed against the host and the current persistent
        domain (``config``, None for a new one): targets, MACs, formats,
        defaults of new devices, memory and vCPU maxima."""
        desired = copy.deepcopy(self.spec)
        virt_type = desired.get('virt_type') or (config or {}).get('virt_type')
        if virt_type is None:
            virt_type = desired['virt_type'] = self.default_virt_type(desired.get('arch'))
        self.virt_type = virt_type
        if desired.get('tags') and self.driver.unsupported('domain_metadata'):
            raise Conflict('tags: %s' % self.driver.unsupported('domain_metadata'), resource=self.resource,
                           action='define' if config is None else 'update')
        if not self.strict:
            self.own_disks(desired, config)
        field = (lambda kind, index, key: 'xml') if self.strict else _field
        self.volumes = check_references(self.driver, desired.get('disks'), desired.get('interfaces'), field,
                                        warnings=self.warnings if self.check_mode else None)
        current_disks = (config or {}).get('disks') or []
        if desired.get('disks') is not None:
            if not self.strict:
                for disk in desired['disks']:
                    disk.pop('create', None)
            desired['disks'] = resolve_disks(desired['disks'], current_disks, virt_type)
            known = set(d['target'] for d in current_disks)
            for disk in desired['disks']:
                if not self.strict and disk['target'] not in known and disk.get('format') is None:
                    disk['format'] = volume_format(self.driver, disk, self.volumes)
        if desired.get('interfaces') is not None:
            desired['interfaces'] = resolve_interfaces(desired['interfaces'], (config or {}).get('interfaces') or [],
                                                       virt_type)
        if not self.strict:
            self.complete(desired, config)
        return desired

    def keep_disks(self, config_xml):
        """Hook: what the spec's disks keep of the current persistent
        definition (``config_xml``) before it is compared with it."""

    def own_disks(self, desired, config):
        """Hook: the disks of what the guest owns, in ``desired`` (an option
        spec) against the current persistent domain (``config``)."""

    def complete(self, desired, config):
        """Hook: the defaults of an option spec against the current
        persistent domain (``config``; None for a new one)."""
        self._maxima(desired, config)
        if config is None and desired.get('console') is None and self.virt_type in PTY_CONSOLE_TYPES:
            desired['console'] = {'type': 'pty', 'path': None}  # a new domain's serial console
        if desired.get('secure_boot'):
            self._secure_boot_machine(desired, config)

    def _secure_boot_machine(self, desired, config):
        """Secure boot runs on Q35 only (SMM): a new domain gets one, an
        existing i440FX one is refused rather than moved to another chipset."""
        if desired.get('machine'):
            return  # checked with the spec
        current = (config or {}).get('machine')
        if current is None:
            desired['machine'] = 'q35'
        elif machine_family(current) != 'q35':
            raise InvalidSpec('machine', 'the %s has machine %r, which cannot boot securely: UEFI secure boot '
                                         'needs SMM, which OVMF has on Q35 machines only (set machine: q35)'
                              % (self.kind, current))

    def _maxima(self, desired, config):
        """Without max_memory/max_vcpus, the maximum is what it is, raised to
        the wanted amount when that is more. Without memory/vcpus, a maximum
        below the amount the definition has brings the amount down to it:
        libvirt would (memory, vCPUs beyond the maximum cannot be), and the
        diff, check mode and a running guest's live change must show it as
        if the task had said so."""
        for amount, most in (('memory_kib', 'max_memory_kib'), ('vcpus', 'max_vcpus')):
            if desired.get(amount) is None:
                if desired.get(most) is not None and config is not None \
                        and (config.get(amount) or 0) > desired[most]:
                    desired[amount] = desired[most]
                continue
            if desired.get(most) is not None:
                continue
            if config is None or desired[amount] > (config.get(most) or 0):
                desired[most] = desired[amount]

    def default_virt_type(self, arch):
        """Hook: the domain type of a guest whose spec and definition name none."""
        raise InvalidSpec('virt_type', 'the %s names no domain type' % self.kind)

    def _definition_xml(self, desired, config_xml=None, config=None):
        """The XML to define: generated (patched onto the current persistent
        XML) or the user's own, completed with what libvirt chose before."""
        if self.strict:
            user_xml = _user_xml()
            digest = user_xml.xml_digest(self.user_xml)
            if config is None:
                return user_xml.with_digest(self.user_xml, digest)
            macs = dict((i, iface['mac']) for i, iface in enumerate(desired['interfaces']) if iface.get('mac'))
            return user_xml.with_digest(user_xml.complete_user_xml(self.user_xml, uuid=config['uuid'], macs=macs,
                                                                   machine=config.get('machine')), digest)
        base = config_xml
        if config is not None and desired.get('machine') and \
                machine_family(desired['machine']) != machine_family(config.get('machine')):
            base = forget_bus_layout(base)
        xml = build_domain_xml(desired, base=base, uuid=config['uuid'] if config else None)
        patches = self.params.get('xml_patches')
        if patches:
            xml = _user_xml().apply_patches(xml, patches, new_domain=config is None)
            # Devices are matched by the builder itself; what else the patches change must not be an option.
            patched = parse_domain_xml(xml)
            contradicted = self._differences(dict((k, v) for k, v in desired.items() if k not in DEVICE_KEYS), patched)
            if desired.get('memory_kib') and (patched['max_memory_kib'] or 0) < desired['memory_kib']:
                contradicted.append('max_memory_kib')  # a maximum below the memory the task gives
            if contradicted:
                raise InvalidSpec('xml_patches', 'the patches change %s, which the options set; set it with the '
                                                 'option instead' % ', '.join(sorted(set(
                                                     self.option_names.get(k, k) for k in contradicted))))
        return xml

    def _differences(self, desired, current):
        """Names of the canonical keys where ``current`` is not ``desired``."""
        rest = dict((k, v) for k, v in desired.items() if k not in DEVICE_KEYS + WHOLE_KEYS)
        reasons = [c.path.split('.')[0].split('[')[0] for c in diff_specified(rest, current, strict=self.strict)
                   if c.path != 'uuid']
        reasons.extend(key for key in WHOLE_KEYS if key_differs(key, desired, current, self.strict))
        if desired.get('disks') is not None and any(disk_changes(desired['disks'], current['disks'])):
            reasons.append('disks')
        if desired.get('interfaces') is not None and \
                any(interface_changes(desired['interfaces'], current['interfaces'], self.strict)):
            reasons.append('interfaces')
        return reasons

    # -- create -------------------------------------------------------------------
    def _plan_create(self, plan):
        base_xml = self.creation_base(plan)
        config = None if base_xml is None else parse_domain_xml(base_xml)
        desired = self._desired(config)
        xml = self._definition_xml(desired, base_xml)
        if not self.driver.unsupported('domain_metadata'):
            # Stamped from the start (a clone's source's stamps replaced), so that a change
            # taken back before a restart is known to be what the guest runs.
            xml = with_stamps(xml, self._stamps(desired))
        self.plan_storage(plan)
        plan.before = {}
        plan.after = dict(shown(desired), state=self._final_state(None),
                          autostart=bool(self.params.get('autostart')))
        if self.params.get('xml_patches'):
            plan.after['xml_patches'] = _user_xml().hide_passwords({}, _user_xml().patched_parts(
                xml, self.params['xml_patches']), HIDDEN)[1]
        # A later step that fails undoes the define through the plan.
        plan.add('define', self.define_step(xml), undo=lambda: self.driver.undefine_domain(self.name))
        self._plan_power(plan, 'shutoff', new=True)
        self._plan_autostart(plan, False)

    def creation_base(self, plan):
        """Hook: the XML a new one's definition is made on (None: on nothing,
        after ``check_new``); what it adds to ``plan`` comes first."""
        self.check_new()
        return None

    def define_step(self, xml):
        """Hook: the action that defines a new one."""
        return lambda: self._define(xml)

    def check_new(self):
        """Hook: what a new domain needs that an existing one may leave out."""
        if not self.strict and self.spec.get('memory_kib') is None:
            raise InvalidSpec('memory', 'a new %s needs its memory' % self.kind)

    def plan_storage(self, plan):
        """Hook: create or update what the guest owns before it is defined."""

    # -- update -------------------------------------------------------------------
    def _plan_existing(self, plan, status):
        active = status['state'] in ACTIVE_STATES
        plan.before = {'state': status['state'], 'autostart': status['autostart']}
        plan.after = {'state': self._final_state(status['state']),
                      'autostart': status['autostart'] if self.params.get('autostart') is None
                      else self.params['autostart']}
        state = status['state']
        if self.spec is not None:
            if not status['persistent']:
                raise Conflict('it is transient (it has no persistent definition to change)',
                               resource=self.resource, action='update')
            state = self._plan_update(plan, status, active) or state  # restarted, or stopped to be changed
        self._plan_power(plan, state)
        self._plan_autostart(plan, status['autostart'])

    def _plan_update(self, plan, status, active):
        config_xml = self.driver.domain_xml(self.name, inactive=True, secure=True)
        config = parse_domain_xml(config_xml)
        if not self.strict:
            self.keep_disks(config_xml)
        desired = self._desired(config)
        if self.strict and desired.get('uuid') and desired['uuid'] != config['uuid']:
            raise Conflict('the XML carries uuid %s, but the existing %s has uuid %s'
                           % (desired['uuid'], self.kind, config['uuid']), resource=self.resource, action='redefine')
        self.plan_storage(plan)

        reasons = self._config_changes(desired, config, config_xml)
        plan.before.update(self._before(config, desired))
        plan.after.update(shown(desired))
        if _password(desired) and _password(config) and _password(desired) != _password(config):
            plan.after['graphics']['password'] = HIDDEN + ' (another)'  # both sides would read ********
        applied = _user_xml().applied_digest(config_xml) if self.strict else None
        if applied is not None and applied != _user_xml().xml_digest(self.user_xml):
            # What else changed in the XML, removals included, shows as its digest.
            plan.before['xml_sha256'], plan.after['xml_sha256'] = applied, _user_xml().xml_digest(self.user_xml)
        cannot_redefine = self.driver.unsupported('redefine_domain') if reasons else None
        if cannot_redefine:
            return self._plan_setters(plan, status, desired, config, reasons, cannot_redefine)
        if reasons:
            xml = self._stamped(self._definition_xml(desired, config_xml, config), reasons, desired)
            if 'xml_patches' in reasons:
                self._show_patches(plan, config_xml, xml)
            plan.add('redefine', lambda: self._define(xml, config_xml), undo=lambda: self.driver.define_domain(config_xml))
        if not active or self._final_state(status['state']) in ('shutoff',):
            return None
        live_xml = self.driver.domain_xml(self.name, secure=True)
        live = parse_domain_xml(live_xml)
        ops, pending = plan_live(desired, config, live, self.virt_type, strict=self.strict,
                                 live_updates=self.params.get('live') is not False, restart_keys=self.restart_keys,
                                 fixed_vcpus=fixed_vcpus(live_xml))
        if set(reasons) & set(['xml', 'xml_patches']):
            pending.append('xml')  # parts no option models: only a restart is sure to apply them
        pending.extend(part for part in self._not_running_yet(desired, config, config_xml, live_xml, live)
                       if part not in pending)
        if pending and self.params.get('restart'):
            # The restarted guest runs the new definition, metadata included.
            plan.add('restart', lambda: self._restart(status['state'] == 'paused'))
            return 'running'
        for op in ops:
            self._plan_live_op(plan, op)
        if pending:
            plan.restart_required = True
            what = sorted(set(self.option_names.get(p.split('.')[0], p.split('.')[0]) for p in pending))
            plan.warnings.append('%s %r: %s change%s when the %s restarts (set restart: true to restart it now)'
                                 % (self.kind, self.name, ', '.join(what),
                                    's take effect' if len(what) > 1 else ' takes effect', self.kind))
        return None

    def _stamped(self, xml, reasons, desired):
        """The definition with the stamps of what it changes that a running
        guest takes at its next start only (xmlmodel.domain's stamps): the
        CPU, the patches. A user's whole XML carries its digest instead."""
        stamps = self._stamps(desired)
        stamps = dict((part, value) for part, value in stamps.items()
                      if value is not None and STAMPED_OPTIONS[part] in reasons)
        return with_stamps(xml, stamps) if stamps else xml

    def _stamps(self, desired):
        """The stamps of the CPU and the patches the task gives (None: not given)."""
        patches = self.params.get('xml_patches')
        return {'cpu': None if self.strict else cpu_stamp(desired.get('cpu')),
                'patches': _user_xml().patches_digest(patches) if patches else None}

    def _not_running_yet(self, desired, config, config_xml, live_xml, live):
        """What of the user's ``xml``, ``xml_patches`` and ``cpu`` this run
        or an earlier one put into the persistent definition and the running
        guest has not got (it has not been restarted since), as plan_live()
        names pending parts: comparing with the definition alone forgets it
        on the next run, and the running XML shows libvirt's expansion of the
        CPU, not the one asked for. The definition's stamps (or its XML's
        digest) against those the running guest started with say what
        changed since it started; only then are the patches compared with the
        running XML, so that what libvirt rewrites in a running guest (an
        expanded CPU, addresses, ports) never keeps a fresh guest pending.
        ``live`` is ``live_xml`` parsed."""
        defined, running = definition_stamps(config_xml), definition_stamps(live_xml)
        pending = []
        cpu = desired.get('cpu')
        # A CPU changed and taken back before a restart is the one the guest started with (by its stamp).
        if cpu is not None and running_cpu_stamp(running, live.get('cpu')) != cpu_stamp(cpu) and (
                diff_specified(cpu, config.get('cpu')) or defined.get('cpu') not in (None, running.get('cpu'))):
            pending.append('cpu')
        if self.strict:
            user_xml = _user_xml()
            applied = user_xml.applied_digest(config_xml)
            if applied is not None and applied != user_xml.applied_digest(live_xml):
                pending.append('xml')
            return pending
        patches = self.params.get('xml_patches')
        if patches and defined.get('patches') not in (None, running.get('patches')):
            user_xml = _user_xml()
            try:
                lacking = user_xml.canonical_string(user_xml.apply_patches(live_xml, patches, new_domain=False)) \
                    != user_xml.canonical_string(live_xml)
            except InvalidSpec:
                lacking = True  # the running XML has not even the elements the patches need
            if lacking:
                pending.append('xml')
        return pending

    def _show_patches(self, plan, before_xml, after_xml):
        """What the patches change, in the diff: the parts they reach in the
        definition before and after (display passwords hidden)."""
        user_xml = _user_xml()
        patches = self.params['xml_patches']
        before, after = user_xml.patched_parts(before_xml, patches), user_xml.patched_parts(after_xml, patches)
        plan.before['xml_patches'], plan.after['xml_patches'] = user_xml.hide_passwords(before, after, HIDDEN)
        # A <memory> patched below <currentMemory> brings that down with it (libvirt does): shown too.
        defined = parse_domain_xml(after_xml)
        most, memory = defined['max_memory_kib'], parse_domain_xml(before_xml)['memory_kib']
        if most is not None and defined['memory_kib'] > most and memory != most:
            plan.before['memory_kib'], plan.after['memory_kib'] = memory, most

    def _config_changes(self, desired, config, config_xml):
        """Why the persistent definition must change (field names), or []."""
        reasons = self._differences(desired, config)
        if self.strict and _user_xml().missing_parts(self.user_xml, config_xml):
            reasons.append('xml')
        # Another XML than the one last applied (what it no longer says, too). A
        # definition made otherwise has no digest: judged by containment alone.
        if self.strict and 'xml' not in reasons and \
                _user_xml().applied_digest(config_xml) not in (None, _user_xml().xml_digest(self.user_xml)):
            reasons.append('xml')
        patches = self.params.get('xml_patches')
        if not self.strict and patches:
            user_xml = _user_xml()
            if user_xml.canonical_string(user_xml.apply_patches(config_xml, patches, new_domain=False)) \
                    != user_xml.canonical_string(config_xml):
                reasons.append('xml_patches')
        return reasons

    # -- defining ---------------------------------------------------------------------
    def _define(self, xml, previous=None):
        """Define ``xml`` (validated against libvirt's schema), then make sure
        libvirt kept what the user's XML and patches say: an element libvirt
        drops would otherwise be accepted once and "changed" on every later
        run. What fails is undone here (the domain undefined, or its
        ``previous`` definition restored) and blamed on the option."""
        try:
            self.driver.define_domain(xml)
        except DriverError as exc:
            if getattr(exc, 'invalid_xml', False) and (self.strict or self.params.get('xml_patches')):
                raise self._refused(exc.message)
            raise
        try:
            self._check_kept(self.driver.domain_xml(self.name, inactive=True, secure=True))
        except InvalidSpec:
            if previous is None:
                self.driver.undefine_domain(self.name)
            else:
                self.driver.define_domain(previous)
            raise

    def _refused(self, detail):
        """InvalidSpec naming the patch (or the XML) libvirt's schema refused."""
        detail = ' '.join(detail.split())
        if self.strict:
            return InvalidSpec('xml', 'libvirt\'s schema refuses it: %s' % detail)
        patches = self.params.get('xml_patches') or []
        # The elements libvirt names, but the root (every patch path starts there).
        named = set(re.findall(r'(?:element|content|Element|attribute)s?:? ([A-Za-z_][\w.-]*)', detail)) - {'domain'}
        blamed = [i for i, patch in enumerate(patches)
                  if named & set(re.findall(r'[A-Za-z_][\w.-]*', patch['xpath'] + ' ' + str(patch.get('xml') or '')
                                            + ' ' + str(patch.get('attribute') or '')))]
        field = 'xml_patches[%d]' % blamed[0] if len(blamed) == 1 else 'xml_patches'
        return InvalidSpec(field, 'libvirt\'s schema refuses the patched %s XML: %s; nothing was defined'
                           % (self.kind, detail))

    def _check_kept(self, config_xml):
        if self.strict:
            missing = _user_xml().missing_parts(self.user_xml, config_xml)
            if missing:
                raise InvalidSpec('xml', 'libvirt did not keep %s of it (an element or value it does not know '
                                         'or ignores); the definition was taken back' % ', '.join(missing))
            return
        patches = self.params.get('xml_patches') or []
        if not patches:
            return
        user_xml = _user_xml()  # only a task with patches loads it
        canonical_string, apply_patches = user_xml.canonical_string, user_xml.apply_patches
        if canonical_string(apply_patches(config_xml, patches, new_domain=False)) == \
                canonical_string(config_xml):
            return
        for index, patch in enumerate(patches):
            if canonical_string(apply_patches(config_xml, [patch], new_domain=False)) != canonical_string(config_xml):
                raise InvalidSpec('xml_patches[%d]' % index, 'libvirt did not keep what it sets at %r (an element '
                                  'or value it does not know, ignores or rewrites); the definition was taken back'
                                  % patch['xpath'])
        raise InvalidSpec('xml_patches', 'libvirt did not keep what the patches set together; the definition was '
                                         'taken back')

    def _before(self, config, desired):
        if self.strict:
            return shown(dict((k, config.get(k)) for k in desired))
        before = restrict(config, dict((k, v) for k, v in desired.items() if v is not None))
        for key, (item_key, shape) in PAIRED_LISTS.items():
            if desired.get(key) is not None and config.get(key) is not None:
                before[key] = paired(config[key], desired[key], item_key, shape)
        for key in WHOLE_KEYS:
            if desired.get(key) is not None:
                before[key] = config.get(key)  # all of it: what the run removes shows too
        return shown(before)

    # -- absent -----------------------------------------------------------------------
    def _plan_absent(self, plan, status):
        if status is None:
            return
        name = self.name
        plan.before = {'state': status['state'], 'autostart': status['autostart']}
        plan.after = {}
        if status['state'] in ACTIVE_STATES or status['state'] == 'crashed':
            plan.add('destroy', lambda: self.driver.destroy_domain(name))
        if status['persistent']:
            plan.add('undefine', lambda: self.driver.undefine_domain(name))

    # -- result -----------------------------------------------------------------------
    def facts(self, plan):
        status = self._status()
        if status is None:
            return {'name': self.name, 'exists': False}
        addresses = None
        if self.wait and status['state'] == 'running':
            addresses, broken = wait_for_addresses(self.driver, self.name, self.wait['sources'], self.wait['timeout'],
                                                   kind=self.kind)
            for source, message in sorted(broken.items()):
                self.warnings.append('wait_for_ip: skipped address source %s: %s' % (source, message))
        elif self.wait and not self.check_mode:
            raise Conflict('it is %s, so it has no IP address to wait for' % status['state'],
                           resource=self.resource, action='wait for an IP address of')
        return self.facts_of(status, addresses)

    def facts_of(self, status, addresses):
        """Hook: the result's facts (``addresses``: from wait_for_ip, or None)."""
        return domain_facts(self.driver, self.name, status=status, addresses=addresses, secure=True)
