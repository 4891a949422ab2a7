# Sphinx configuration of the virtkit.virt docs site (built by tests/docs/run.sh).
# Started from what `antsibull-docs sphinx-init` writes, with: MyST for the
# Markdown guides, and intersphinx reading an inventory written at build time
# instead of fetching one (the build fetches nothing).

import os

import yaml

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'galaxy.yml'), encoding='utf-8') as f:
    GALAXY = yaml.safe_load(f)

project = 'virtkit.virt'
copyright = 'virtkit.virt maintainers'  # pylint: disable=redefined-builtin

title = 'virtkit.virt Collection Documentation'
html_short_title = 'virtkit.virt'
html_title = 'virtkit.virt Collection Documentation'

extensions = ['sphinx.ext.intersphinx', 'sphinx_antsibull_ext', 'myst_parser']

pygments_style = 'ansible'
highlight_language = 'YAML+Jinja'

html_theme = 'sphinx_ansible_theme'
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
# The top bar and the logo lead to the collection's repository (not to ansible.com).
html_theme_options = {
    'topbar_links': {'Repository': GALAXY['repository']},
    'documentation_home_url': GALAXY['repository'],
}

# The guides (docs/*.md) are copied beside their wrappers in docsite/, which
# include them; read only the wrappers. A link between two guides, such as
# [inventory.md](inventory.md), then leads to the wrapper's page.
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
exclude_patterns = ['docsite/*.md']
myst_heading_anchors = 3

# ansible-core's pages (ansible.builtin plugins, configuration settings and
# their environment variables), from tests/docs/ansible_core_inventory.py.
intersphinx_mapping = {
    'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', '../ansible_devel.inv'),
}

default_role = 'any'
nitpicky = True
