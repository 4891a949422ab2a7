# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``volume`` module's manager: a VolumeManager that also imports images.

Only the volume module fills a volume from an image (a file on the target
host or a URL). A domain plans its own volumes with the plain VolumeManager,
so the domain and migrate modules ship neither the image code nor ansible's
urls (56 KB that AnsiballZ would parse and send at every task): AnsiballZ
ships every file a module's imports reach, imports inside functions too.

An image is verified (checksum, format, its size against the capacity asked
for) before anything is touched: a file on the target host while the plan is
made, so that check mode fails where the real run would; a URL, which check
mode never fetches, as the first step of the real run - before the volume it
replaces is deleted, so a failed download leaves that volume as it is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.virtkit.virt.plugins.module_utils.errors import NotFound
from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_manager import VolumeManager
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import build_volume_xml


class ImportingVolumeManager(VolumeManager):
    image = None  # the import's image, once opened and verified

    def validate(self):
        super(ImportingVolumeManager, self).validate()
        if self.source and self.source['kind'] == 'import':
            self.source['validate_certs'] = (self.params.get('import') or {}).get('validate_certs', True)

    def _plan_import(self, plan, undo):
        source = self.source
        if source['path']:
            if not os.path.isfile(source['path']):
                raise NotFound('import.path: no such file on the target host: %s' % source['path'],
                               resource=self.label, action='create')
            self._open_image()
            self._new_capacity(plan, self.image.virtual_size)  # the diff shows a kept capacity
        plan.add('import %s' % source['shown'], self._import, undo=undo)

    def _plan_replace(self, plan, current):
        if self.source and self.source['kind'] == 'import' and self.source['url']:
            # Fetched and verified before the volume is deleted; undone, the copy goes.
            plan.add('fetch %s' % self.source['shown'], self._open_image, undo=self._close_image)
        super(ImportingVolumeManager, self)._plan_replace(plan, current)

    def _open_image(self):
        """Fetch (a URL) and verify the image; fail before anything is made
        where it does not fit: a capacity asked for below its size, or not
        enough space in the pool."""
        # Imported here: only an import needs the image code.
        from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_import import open_image
        self.image = open_image(self.source)
        try:
            wanted = self.spec['capacity']
            if wanted is not None and wanted < self.image.virtual_size and not self.params.get('allow_shrink'):
                raise self._shrink_refused(self.image.virtual_size, wanted)
            self._need_space(self.image.length, 'the image %s' % self.source['shown']
                             if self.source['path'] else 'the image from %s' % self.source['shown'])
        except BaseException:
            self._close_image()
            raise

    def _close_image(self):
        if self.image is not None:
            self.image.close()
            self.image = None

    def _import(self):
        if self.image is None:
            self._open_image()  # a URL to make a new volume from: fetched now
        image = self.image
        try:
            wanted = self._capacity_for(image.virtual_size)
            xml = build_volume_xml({'name': self.name, 'capacity': image.length, 'allocation': 0, 'format': 'raw'})
            with open(image.path, 'rb') as reader:
                self._filled(xml, reader, image.length)
            if wanted != image.virtual_size:
                try:
                    self.driver.resize_volume(self.pool, self.name, wanted, shrink=wanted < image.virtual_size)
                except BaseException:
                    self._deleter(self.name)()  # no half-done import
                    raise
        finally:
            self._close_image()
