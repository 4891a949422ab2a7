# -*- coding: utf-8 -*-
# Copyright: virtkit.virt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``volume`` module's manager: a VolumeManager that also imports images.

Only the volume module fills a volume from an image (a file on the target
host or a URL). A domain plans its own volumes with the plain VolumeManager,
so the domain and migrate modules ship neither the image code nor ansible's
urls (56 KB that AnsiballZ would parse and send at every task): AnsiballZ
ships every file a module's imports reach, imports inside functions too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_manager import VolumeManager
from ansible_collections.virtkit.virt.plugins.module_utils.xmlmodel.storage import build_volume_xml


class ImportingVolumeManager(VolumeManager):

    def validate(self):
        super(ImportingVolumeManager, self).validate()
        if self.source and self.source['kind'] == 'import':
            self.source['validate_certs'] = (self.params.get('import') or {}).get('validate_certs', True)

    def _import(self):
        # Imported here: only an import needs the image code.
        from ansible_collections.virtkit.virt.plugins.module_utils.storage.volume_import import open_image
        image = open_image(self.source)
        try:
            wanted = self.spec['capacity']
            if wanted is not None and wanted < image.virtual_size and not self.params.get('allow_shrink'):
                raise self._shrink_refused(image.virtual_size, wanted)
            if self.source['url']:
                self._need_space(image.length, 'the image from %s' % self.source['shown'])
            xml = build_volume_xml({'name': self.name, 'capacity': image.length, 'allocation': 0, 'format': 'raw'})
            with open(image.path, 'rb') as reader:
                self._filled(xml, reader, image.length)
            if wanted is not None and wanted != image.virtual_size:
                try:
                    self.driver.resize_volume(self.pool, self.name, wanted, shrink=wanted < image.virtual_size)
                except BaseException:
                    self._deleter(self.name)()  # no half-done import
                    raise
        finally:
            image.close()
