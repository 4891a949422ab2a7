"""Reading a cloud-init seed back (the collection only writes them and reads their marker)."""
import io

from ansible_collections.virtkit.virt.plugins.module_utils.storage.cloud_init import FILES, require_pycdlib


def read_seed_files(image):
    """``{name: bytes}`` of a seed image."""
    pycdlib = require_pycdlib()
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(image))
    try:
        files = {}
        for _option, name in FILES:
            out = io.BytesIO()
            try:
                iso.get_file_from_iso_fp(out, rr_path='/' + name)
            except pycdlib.pycdlibexception.PyCdlibInvalidInput:
                continue  # not in this seed
            files[name] = out.getvalue()
        return files
    finally:
        iso.close()
