"""Stand-in for pip's get-pip.py, for ansible-test on machines that reach PyPI
but not ansible-test's own download host.

ansible-test bootstraps pip in each sanity virtualenv by running a cached
get-pip.py with pip-install arguments. This does the same from the
interpreter's bundled pip (ensurepip), then installs the requested versions
from the configured package index.
"""
import subprocess
import sys

# get-pip.py's own flags, which pip itself does not know.
GET_PIP_ONLY = ('--no-setuptools', '--no-wheel')

if __name__ == '__main__':
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--upgrade'] + args))
