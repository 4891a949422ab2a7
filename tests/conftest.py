"""Make the working tree importable as ansible_collections.virtkit.virt.

Tests import the collection by its real name; a link farm in a temporary
folder gives it that name without installing anything.
"""
import hashlib
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collection_root():
    base = os.environ.get('VIRTKIT_COLLECTIONS_PATH')
    if base and os.path.isdir(os.path.join(base, 'ansible_collections', 'virtkit', 'virt')):
        return base
    # One link farm per checkout: two clones tested at once must not repoint each other's.
    digest = hashlib.sha1(ROOT.encode('utf-8')).hexdigest()[:10]
    base = os.path.join(tempfile.gettempdir(), 'virtkit-pytest-%d-%s' % (os.getuid(), digest))
    link = os.path.join(base, 'ansible_collections', 'virtkit', 'virt')
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.realpath(link) != ROOT:
        if os.path.islink(link):
            os.unlink(link)
        os.symlink(ROOT, link)
    return base


COLLECTIONS_PATH = _collection_root()
os.environ['VIRTKIT_COLLECTIONS_PATH'] = COLLECTIONS_PATH
if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
