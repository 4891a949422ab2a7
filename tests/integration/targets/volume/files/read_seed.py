"""Print one file of a cloud-init seed image, read with pycdlib: read_seed.py IMAGE NAME."""
import io
import sys

import pycdlib

iso = pycdlib.PyCdlib()
iso.open(sys.argv[1])
out = io.BytesIO()
iso.get_file_from_iso_fp(out, rr_path='/' + sys.argv[2])
iso.close()
sys.stdout.write(out.getvalue().decode('utf-8'))
