# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans for storage volumes (their facts are in volume_facts.py): a domain's
own volumes use VolumeManager as it is; the ``volume`` module's manager,
ImportingVolumeManager, adds images imported from a file or a URL.

A new volume gets its content from at most one source: nothing, a backing
file (copy-on-write overlay), a full copy of another volume, an imported
image or a cloud-init seed. An existing volume keeps its data: it grows in
place, shrinks only when allowed, and a spec whose content source does not
match what the volume shows (its backing file, its seed marker, its format)
fails unless ``replace`` says to delete and recreate it. What a volume was
cloned or imported from leaves no trace libvirt can show, so an existing
plain volume satisfies ``clone_from`` and ``import`` as it is.

That is only true of a volume whose content was written to the end: while
a clone, an import or a seed fills a new volume, a marker volume
``NAME.virtkit-partial`` sits beside it. A run killed half way (SIGKILL, a
daemon or host that died) leaves both, and the next run deletes the half
made volume and makes it again; a failure or a catchable signal deletes
both at once.

Space is checked before a volume that needs it is made (preallocated,
in a pool that allocates in full, an import, a clone, a seed): "not enough
space in pool X" before anything is created, not a volume cut off when the
pool fills up. A thin volume larger than the free space is made, with a
warning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import os
import posixpath
import struct

from ansible_collections.virtkit.virt.plugins.module_utils.driver.connection import is_local_uri
from ansible_collections.virtkit.virt.plugins.module_utils.driver.interface import ACTIVE_STATES
from ansible_collections.virtkit.virt.plugins.module_utils.engine.plan import Plan, prune
from ansible_collections.virtkit.virt.plugins.module_utils.engine.runner import Manager
from ansible_collections.virtkit.virt.plugins.module_utils.engine.sizes import format_bytes
from ansible_collections.virtkit.virt.plugins.module_utils.engine import validation as v
from ansible_collections.virtkit.virt.plugins.module_utils.errors import Conflict, DriverError, InvalidSpec, NotFound, or_none
from ansible_collections.virtkit.virt.plugins.module_utils.storage.cloud_init import build_seed, require_pycdlib
from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_facts import read_seed_hash, volume_facts
from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_spec import volume_spec
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.disk_sources import disk_chains
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import (
    build_volume_xml, parse_pool_xml, parse_volume_xml)

# How far a pool may round a capacity up: LVM extents (4 MiB by default),
# partition alignment. A current capacity that far above the wanted one is
# the wanted one, rounded - not something to shrink.
ROUNDING = {'logical': 4 * 1024 ** 2, 'disk': 1024 ** 2}
# libvirt hands qemu-img (which makes every file volume but a raw one) and
# lvcreate the capacity in whole KiB, rounded up: 100MB becomes 97657KiB.
# Only a raw file is cut to the byte.
KIB = 1024
# Pools whose volumes are block devices carved out in full (LVs, partitions).
FULLY_ALLOCATED = ('logical', 'disk')
# Pools whose volumes are files (a preallocated one grows preallocated).
FILE_POOLS = ('dir', 'fs', 'netfs')
MARKER_SUFFIX = '.virtkit-partial'
_QCOW_MAGIC = b'QFI\xfb'


def marker_name(name):
    """The volume that says ``name`` is being filled (or was, by a run that died)."""
    return name + MARKER_SUFFIX


def probe(header, length):
    """``(format, virtual size)`` from an image's first 32 bytes: qcow2
    carries its size in its header; anything else is taken as raw."""
    if header[:4] == _QCOW_MAGIC and len(header) >= 32:
        return 'qcow2', struct.unpack('>Q', header[24:32])[0]
    return 'raw', length


def _same_path(a, b):
    return bool(a and b) and posixpath.normpath(a) == posixpath.normpath(b)


class VolumeManager(Manager):
    kind = 'volume'
    result_key = 'volume'
    pool_info = None  # the pool's status; None: not there (yet), in check mode
    pool_type = None
    kept_capacity = None  # a replaced volume's capacity, where the spec gives none
    freed = 0  # the bytes a volume being replaced holds until it is deleted
    predicted = False  # check mode without the pool: the volume is predicted as made

    def validate(self):
        v.volume_name(self.params['name'], 'name')
        v.plain_name(self.params['pool'], 'pool')
        self.state = self.params['state']
        self.spec = volume_spec(self.params)
        self.source = self.spec['source']
        if self.source and self.source['kind'] == 'cloud_init':
            require_pycdlib()

    def locked_objects(self):
        return [('volume', '%s/%s' % (self.pool, self.name))]

    @property
    def pool(self):
        return self.params['pool']

    @property
    def label(self):
        return 'volume %r in pool %r' % (self.name, self.pool)

    def _current(self):
        xml = or_none(self.driver.volume_xml, self.pool, self.name)
        return parse_volume_xml(xml) if xml is not None else None

    def plan(self):
        plan = Plan(self.kind, '%s/%s' % (self.pool, self.name))
        pool = or_none(self.driver.pool_status, self.pool)
        if pool is None or not pool['active']:
            if self.state == 'absent' and pool is None:
                return plan  # no pool, no volume
            if self.check_mode and self.state != 'absent':
                return self._predicted(plan, pool)
            if pool is None:
                raise NotFound('pool %r does not exist' % self.pool, resource=self.label, action='manage')
            raise Conflict('pool %r is inactive, so its volumes cannot be seen; start it first' % self.pool,
                           resource=self.label, action='manage')
        self.pool_info = pool
        self.pool_type = self._pool_type()
        current = self._current()
        if self._partial():
            # A run that filled it died half way: what it left is no volume.
            if current is not None:
                plan.add('delete %s (half made by an interrupted run)' % self.name, self._deleter(self.name))
            plan.add('delete %s (left by an interrupted run)' % marker_name(self.name),
                     self._deleter(marker_name(self.name)))
            current = None
        if self.state == 'absent':
            if current is not None:
                self._refuse_deleting_in_use(current, 'state')
                plan.before, plan.after = prune(self._shown(current)), {}
                wipe = bool(self.params.get('wipe'))
                plan.add('wipe and delete' if wipe else 'delete',
                         lambda: self.driver.delete_volume(self.pool, self.name, wipe=wipe))
            return plan
        if current is None:
            plan.before = {}
            self._plan_create(plan)
        else:
            self._plan_update(plan, current)
        return plan

    def _refuse_deleting_in_use(self, current, field):
        """Refuse to delete (``field``: for ``state: absent`` or to
        ``replace`` it) a volume a running guest has as a disk or under one (a
        backing file): the guest would read and write on in the deleted file
        until it stops, and then its disk is gone."""
        users = self._running_users(current.get('path'), backing=True)
        if users:
            raise Conflict('%s: the running guest%s %s use%s this volume; deleting it pulls the disk from under the '
                           'guest: shut it down or take the disk out of its definition first'
                           % (field, 's' if len(users) > 1 else '',
                              ', '.join('%r (%s disk %s)' % (domain, 'under' if depth else 'as', target)
                                        for domain, target, depth in users),
                              '' if len(users) > 1 else 's'),
                           resource=self.label, action='delete')

    def _predicted(self, plan, pool):
        """Check mode, the pool missing or inactive: an earlier task of the
        play may make or start it. Its volumes cannot be read, so the volume
        is predicted as made in it, through the same checks a real run makes
        that need no pool - capacity, the sources, a local image's header,
        size and checksum - so that a spec the real run refuses fails here
        too. Free space is the one check left to the real run."""
        self.pool_info = None  # nothing known of its space
        self.predicted = True
        self.pool_type = self._pool_type() if pool is not None else None
        plan.before = {}
        self._plan_create(plan)
        plan.warnings.append('%s: pool %r %s: check mode predicts the volume is created (its free space unchecked); '
                             'the real run needs the pool to exist and be active by then'
                             % (self.label, self.pool, 'does not exist' if pool is None else 'is inactive'))
        return plan

    def _partial(self):
        return or_none(self.driver.volume_xml, self.pool, marker_name(self.name)) is not None

    def _deleter(self, name):
        def delete():
            try:
                self.driver.delete_volume(self.pool, name)
            except NotFound:
                pass  # gone already
        return delete

    def _pool_type(self):
        return parse_pool_xml(self.driver.pool_xml(self.pool))['type']

    def _shown(self, current, seed=None):
        """What the diff shows of a volume (never seed content: its hash)."""
        shown = {'capacity': current['capacity'], 'format': current['format'],
                 'backing': (current.get('backing') or {}).get('path')}
        if seed:
            shown['cloud_init'] = {'sha256': seed}
        return shown

    def _wanted(self):
        source = self.source or {}
        wanted = {'capacity': self.spec['capacity'], 'format': self.spec['format']}
        kind = source.get('kind')
        if kind == 'backing':
            wanted['backing'] = source.get('path') or '%(pool)s/%(name)s' % source['volume']
        elif kind == 'clone':
            wanted['clone_from'] = '%(pool)s/%(name)s' % source
        elif kind == 'import':
            wanted['import'] = source['shown']
        elif kind == 'cloud_init':
            wanted['cloud_init'] = {'sha256': source['sha256']}
        return prune(wanted)

    # -- sources ----------------------------------------------------------
    def _volume_or_fail(self, ref, field):
        """The source volume; in check mode one that is missing or in an
        inactive pool (an earlier task may make it or start the pool) is a
        warning and a stand-in."""
        try:
            return parse_volume_xml(self.driver.volume_xml(ref['pool'], ref['name']))
        except NotFound:
            why = 'volume %r in pool %r does not exist' % (ref['name'], ref['pool'])
            error = NotFound
        except DriverError:
            # libvirt reads no volume of an inactive pool ("operation invalid").
            status = or_none(self.driver.pool_status, ref['pool'])
            if status is None or status['active']:
                raise
            why = 'pool %r is inactive, so volume %r cannot be read' % (ref['pool'], ref['name'])
            error = Conflict
        if self.check_mode:
            self.warnings.append('%s: %s: %s: check mode predicts the volume is created; the real run needs it by then'
                                 % (self.label, field, why))
            return {'path': '%s/%s' % (ref['pool'], ref['name']), 'format': None, 'capacity': None,
                    'allocation': None}
        raise error('%s: %s%s' % (field, why, '; start it first' if error is Conflict else ''),
                    resource=self.label, action='create')

    def _backing(self):
        """``{path, format, capacity}`` of the wanted backing file."""
        if self.source['volume']:
            vol = self._volume_or_fail(self.source['volume'], 'backing_volume')
            return {'path': vol['path'], 'format': vol['format'], 'capacity': vol['capacity']}
        path = self.source['path']
        try:
            found = self.driver.volume_by_path(path)
        except NotFound:
            return self._backing_file(path)
        vol = parse_volume_xml(self.driver.volume_xml(found['pool'], found['name']))
        return {'path': path, 'format': vol['format'], 'capacity': vol['capacity']}

    def _backing_file(self, path):
        """A backing file outside every pool. libvirt would take it as raw
        without looking (a qcow2 base would show its header to the guest), so
        its header is read here - possible only on the daemon's own host."""
        if not is_local_uri(self.driver.uri):
            raise NotFound('backing_path: %s is in no storage pool, and on a remote host its format cannot be read; '
                           'use a volume (backing_volume) instead' % path, resource=self.label, action='create')
        try:
            with open(path, 'rb') as handle:
                fmt, size = probe(handle.read(32), os.path.getsize(path))
        except (IOError, OSError) as exc:
            raise NotFound('backing_path: %s cannot be read: %s' % (path, exc), resource=self.label, action='create')
        return {'path': path, 'format': fmt, 'capacity': size}

    # -- space ------------------------------------------------------------
    def _available(self):
        """Bytes free in the pool, as it is now (rescanned: uploads and guests
        write behind libvirt's back; a pool busy with another job keeps the
        figure it has)."""
        try:
            self.driver.refresh_pool(self.pool)
            return self.driver.pool_status(self.pool)['available']
        except DriverError:
            return self.pool_info['available']

    def _need_space(self, needed, what):
        """Fail before anything is made when ``needed`` bytes are not free."""
        if not needed or self.pool_info is None:
            return  # a pool not there yet (check mode): the real run checks
        available = self._available() + self.freed
        if needed > available:
            raise Conflict('not enough space in pool %r: %s needs %s, the pool has %s free'
                           % (self.pool, what, format_bytes(needed), format_bytes(available)),
                           resource=self.label, action='create' if what != 'growing it' else 'resize')

    def _no_space(self, exc):
        """A libvirt error that says the pool filled up, in our words."""
        if isinstance(exc, DriverError) and getattr(exc, 'no_space', False):
            action = 'create' if (exc.action or 'create').startswith('create') else exc.action
            return Conflict('not enough space in pool %r (%s)' % (self.pool, exc.message),
                            resource=self.label, action=action)
        return exc

    # -- create -----------------------------------------------------------
    def _plan_create(self, plan):
        plan.after = self._wanted()
        kind = (self.source or {}).get('kind')
        spec = self.spec
        undo = self._deleter(self.name)
        if kind is None:
            capacity = self._new_capacity(plan)
            if capacity is None:
                raise InvalidSpec('capacity', 'a new volume needs a capacity (%s does not exist yet)' % self.label)
            # libvirt makes a sparse snapshot LV for allocation < capacity in
            # LVM pools: their volumes are always allocated in full.
            full = spec['preallocate'] or self.pool_type in FULLY_ALLOCATED
            if full:
                self._need_space(capacity, 'a volume of %s' % format_bytes(capacity))
            elif self.pool_info is not None and capacity > self.pool_info['available']:
                plan.warnings.append('%s: its capacity (%s) is more than pool %r has free (%s): it is thin, so it '
                                     'is made, but writes fail once the pool is full'
                                     % (self.label, format_bytes(capacity), self.pool,
                                        format_bytes(self.pool_info['available'])))
            xml = build_volume_xml({'name': self.name, 'capacity': capacity, 'format': spec['format'],
                                    'allocation': capacity if full else 0})
            plan.add('create (preallocated)' if spec['preallocate'] else 'create', self._creator(xml), undo=undo)
        elif kind == 'backing':
            backing = self._backing()
            xml = build_volume_xml({'name': self.name, 'format': spec['format'],
                                    'capacity': self._new_capacity(plan, backing['capacity']),
                                    'backing': {'path': backing['path'], 'format': backing['format']}})
            plan.add('create overlay on %s' % backing['path'], self._creator(xml), undo=undo)
        elif kind == 'clone':
            origin = self._volume_or_fail(self.source, 'clone_from')
            xml = build_volume_xml({'name': self.name, 'format': spec['format'] or origin['format'],
                                    'capacity': origin['capacity']})
            if not self.check_mode or origin['capacity'] is not None:
                self._need_space(origin.get('allocation') or origin['capacity'],
                                 'a copy of %s/%s' % (self.source['pool'], self.source['name']))
            plan.add('clone %s/%s' % (self.source['pool'], self.source['name']),
                     lambda: self._with_marker(self._creator(xml, self.source)), undo=undo)
            self._plan_capacity(plan, origin['capacity'], None, want=self._new_capacity(plan, origin['capacity']))
        elif kind == 'import':
            self._plan_import(plan, undo)
        else:
            plan.add('create cloud-init seed (sha256 %s)' % self.source['sha256'][:12], self._create_seed, undo=undo)

    def _capacity_for(self, content):
        """A new volume's capacity: the one asked for; where none is, a
        replaced volume's own (never less than its new content, which would
        cut it off); else that of its content (None: not known yet)."""
        if self.spec['capacity'] is not None:
            return self.spec['capacity']
        if self.kept_capacity is None:
            return content
        return max(self.kept_capacity, content or 0)

    def _new_capacity(self, plan, content=None):
        """``_capacity_for(content)``, which the diff shows where it is a replaced volume's."""
        capacity = self._capacity_for(content)
        if self.spec['capacity'] is None and self.kept_capacity is not None:
            plan.before['capacity'], plan.after['capacity'] = self.kept_capacity, capacity
        return capacity

    def _plan_import(self, plan, undo):
        # The volume module's manager (ImportingVolumeManager, importing_volume_manager.py) fetches and uploads
        # images: a domain's volumes never come from one, so what it ships holds no image or URL code.
        raise NotImplementedError('images are imported by ImportingVolumeManager')

    def _creator(self, xml, clone_from=None):
        origin = (clone_from['pool'], clone_from['name']) if clone_from else None

        def create():
            try:
                self.driver.create_volume(self.pool, xml, clone_from=origin)
            except DriverError as exc:
                raise self._no_space(exc)
        return create

    def _with_marker(self, fill):
        """``fill()`` (which makes the volume and writes its content) with
        the marker volume beside it; anything that stops it half way -
        an error, SIGTERM, SIGINT - deletes the volume and the marker, and
        what cannot be caught leaves the marker for the next run."""
        marker = marker_name(self.name)
        self.driver.create_volume(self.pool, build_volume_xml({'name': marker, 'capacity': 0, 'allocation': 0,
                                                               'format': 'raw'}))
        try:
            fill()
        except BaseException as exc:
            kept = []
            for name in (self.name, marker):
                try:
                    self._deleter(name)()
                except Exception:
                    kept.append(name)  # the marker stays: the next run cleans up
            error = self._no_space(exc) if isinstance(exc, DriverError) else exc
            if kept:
                error.left = ['%s: %s (half made; the next run deletes it and makes it anew)'
                              % (self.label, ', '.join(kept))]
            raise error
        self.driver.delete_volume(self.pool, marker)

    def _filled(self, xml, reader, length):
        """Create a volume and upload its content, marked partial until done."""
        def fill():
            self.driver.create_volume(self.pool, xml)
            self.driver.upload_volume(self.pool, self.name, reader, length)
        self._with_marker(fill)
        # File pools learn the uploaded image's format and size on a refresh.
        self.driver.refresh_pool(self.pool)

    def _create_seed(self):
        image = build_seed(self.source['files'])
        self._need_space(len(image), 'the cloud-init seed')
        xml = build_volume_xml({'name': self.name, 'capacity': len(image), 'allocation': 0, 'format': 'raw'})
        self._filled(xml, io.BytesIO(image), len(image))

    # -- update -----------------------------------------------------------
    def _plan_update(self, plan, current):
        kind = (self.source or {}).get('kind')
        seed = read_seed_hash(self.driver, self.pool, self.name) if kind == 'cloud_init' or current['format'] == 'iso' else None
        plan.before = prune(self._restricted(self._shown(current, seed)))
        plan.after = self._wanted()
        mismatch = self._mismatch(kind, current, seed)
        if mismatch:
            if not self.params.get('replace'):
                raise Conflict('%s; set replace: true to delete it and create it anew (its data is lost)' % mismatch,
                               resource=self.label, action='update')
            self._refuse_deleting_in_use(current, 'replace')
            if self.spec['capacity'] is None and kind != 'cloud_init':
                # The new volume keeps the capacity the old one was given (or grown to); a seed is its image's size.
                self.kept_capacity = current['capacity']
            self._plan_replace(plan, current)
            return
        if kind == 'cloud_init' and seed != self.source['sha256']:
            plan.add('rebuild cloud-init seed (sha256 %s -> %s)' % (seed[:12], self.source['sha256'][:12]),
                     self._rebuild_seed)
            return
        self._plan_capacity(plan, current['capacity'], current['format'], current.get('allocation'),
                            path=current.get('path'))

    def _plan_replace(self, plan, current):
        """Delete the volume, then create it anew: the space it holds counts as
        free for the checks made before it is deleted."""
        self.freed = current.get('allocation') or 0

        def delete():
            self._deleter(self.name)()
            self.freed = 0
        plan.add('delete (to replace it)', delete)
        self._plan_create(plan)

    def _restricted(self, shown):
        """The diff's *before*: what the spec speaks about. A clone or an
        import leaves no trace, so its *before* shows the backing file instead."""
        keys = set(self._wanted())
        if keys & {'clone_from', 'import'}:
            keys.add('backing')
        return dict((key, value) for key, value in shown.items() if key in keys)

    def _mismatch(self, kind, current, seed):
        """Why the existing volume is not what the spec describes, or None."""
        backing = (current.get('backing') or {}).get('path')
        if kind == 'cloud_init':
            return None if seed else 'it is not a cloud-init seed (no seed marker)'
        if self.spec['format'] and current['format'] and self.spec['format'] != current['format']:
            return 'format: it is %s, not %s, and cannot be converted in place' % (current['format'], self.spec['format'])
        if kind == 'backing':
            wanted = self._backing()['path']
            if not _same_path(backing, wanted):
                return 'it is %s, not an overlay on %s' % (
                    'an overlay on %s' % backing if backing else 'no overlay', wanted)
        elif kind in ('clone', 'import'):
            if backing:
                return 'it is an overlay on %s, not a copy' % backing
            if seed:
                return 'it is a cloud-init seed'
        return None

    def _rebuild_seed(self):
        self.driver.delete_volume(self.pool, self.name)
        self._create_seed()

    def _plan_capacity(self, plan, have, fmt, allocation=None, want=None, path=None):
        """Grow or shrink from ``have`` to ``want`` (by default: the capacity
        asked for). ``path``: the volume's, to find the running guests that
        use it (a new volume has none)."""
        want = self.spec['capacity'] if want is None else want
        if want is None or have is None or want == have:
            return
        if want < have and have - want < self._rounding(fmt):
            return  # the pool rounded the wanted capacity up
        users = self._running_users(path) if path else []
        if len(users) > 1:
            raise Conflict('capacity: the running guests %s all use this volume, so none of them alone can resize it; '
                           'shut down all but one first' % ', '.join(repr(user[0]) for user in users),
                           resource=self.label, action='resize')
        if want > have:
            # Space a grown volume holds at once: all of it in LVM or disk
            # pools, and a preallocated file volume stays preallocated.
            allocate = self.pool_type in FILE_POOLS and allocation is not None and allocation >= have
            if allocate or self.pool_type in FULLY_ALLOCATED:
                self._need_space(want - have, 'growing it')
            growth = 'grow from %s to %s' % (format_bytes(have), format_bytes(want))
            if users and self.pool_type in FILE_POOLS:
                # The hypervisor holds the image open (and locked): only it can grow
                # the file, and then it tells the guest at once.
                domain, target, _depth = users[0]
                plan.add('%s (live, as disk %s of %r)' % (growth, target, domain),
                         lambda: self.driver.resize_domain_disk(domain, target, want))
                return

            def grow():
                try:
                    self.driver.resize_volume(self.pool, self.name, want, allocate=allocate)
                except DriverError as exc:
                    raise self._no_space(exc)
            plan.add(growth + (' (preallocated)' if allocate else ''), grow)
            if users:
                domain, target, _depth = users[0]
                plan.warnings.append('%s: the running guest %r sees its disk %s grown once it restarts (libvirt grows '
                                     'the volumes of %s pools outside the guest)'
                                     % (self.label, domain, target, self.pool_type))
            return
        if users:
            raise Conflict('capacity: %s is smaller than its current %s, and the running guest %r uses this volume as '
                           'disk %s: shrinking it under the guest cuts off data it may be using; shut the guest down '
                           'first' % ((format_bytes(want), format_bytes(have)) + users[0][:2]),
                           resource=self.label, action='resize')
        if not self.params.get('allow_shrink'):
            raise self._shrink_refused(have, want)
        plan.add('shrink from %s to %s' % (format_bytes(have), format_bytes(want)),
                 lambda: self.driver.resize_volume(self.pool, self.name, want, shrink=True))

    def _running_users(self, path, backing=False):
        """[(domain, disk target, depth)] of the running guests that have
        this volume as a disk (by its path, or as POOL/VOLUME; depth 0), or
        with ``backing`` also under one (depth 1 and more: a backing file)."""
        names = (path, '%s/%s' % (self.pool, self.name))
        users = []
        for record in self.driver.list_domains():
            if record['state'] not in ACTIVE_STATES:
                continue
            xml = or_none(self.driver.domain_xml, record['name'])  # or gone since the listing
            for target, chain in sorted(disk_chains(xml).items() if xml else ()):
                for depth, source in enumerate(chain if backing else chain[:1]):
                    if source and (source in names or _same_path(source, path)):
                        users.append((record['name'], target, depth))
        return users

    def _rounding(self, fmt):
        """How far above the wanted capacity libvirt may have made a volume
        of format ``fmt`` (None: not known) in this pool."""
        return max(ROUNDING.get(self.pool_type, 1), 1 if fmt == 'raw' else KIB)

    def _shrink_refused(self, have, want):
        return Conflict('capacity: %s is smaller than its current %s; shrinking cuts off data: '
                        'set allow_shrink: true to do it anyway' % (format_bytes(want), format_bytes(have)),
                        resource=self.label, action='resize')

    def facts(self, plan):
        if self.predicted:
            # A pool not there or not started shows no volume (libvirt: "operation invalid").
            return {'name': self.name, 'pool': self.pool, 'exists': False}
        try:
            return dict(volume_facts(self.driver, self.pool, self.name), exists=True)
        except NotFound:
            return {'name': self.name, 'pool': self.pool, 'exists': False}
