"""Write a Sphinx (intersphinx) inventory for the ansible-core docs, offline.

The pages antsibull-docs generates refer to ansible-core's documentation:
``ansible.builtin`` plugins (``M(ansible.builtin.add_host)``), ansible's
configuration environment variables (the cache options of the inventory) and
a few pages of the Ansible docsite (common return values, configuration
settings). Sphinx resolves those through intersphinx, which would fetch
``objects.inv`` from docs.ansible.com at every build; the build fetches
nothing, so this writes that inventory instead, from the ansible-core that is
installed: every builtin plugin and every environment variable of
``ansible/config/base.yml``, linked to its page on docs.ansible.com. A
reference to anything else outside the collection stays an error.

Usage: python3 ansible_core_inventory.py OUTPUT.inv
"""

from __future__ import annotations

import os
import sys
import zlib

import ansible
import yaml
from ansible.release import __version__ as ANSIBLE_CORE_VERSION

# Labels of the Ansible docsite that antsibull-docs' templates refer to.
DOCSITE_LABELS = {
    "common_return_values": (
        "reference_appendices/common_return_values.html#common-return-values",
        "Return Values",
    ),
    "ansible_configuration_settings": (
        "reference_appendices/config.html#ansible-configuration-settings",
        "Ansible Configuration Settings",
    ),
}

# Plugin types whose builtin plugins have a page each, and where they live.
PLUGIN_DIRS = {
    "module": "modules",
    "become": "plugins/become",
    "cache": "plugins/cache",
    "callback": "plugins/callback",
    "connection": "plugins/connection",
    "inventory": "plugins/inventory",
    "lookup": "plugins/lookup",
    "shell": "plugins/shell",
    "strategy": "plugins/strategy",
    "vars": "plugins/vars",
    # Filters and tests: several per Python file, one YAML doc file each.
    "filter": "plugins/filter",
    "test": "plugins/test",
}


def builtin_plugins(root):
    for plugin_type, subdir in sorted(PLUGIN_DIRS.items()):
        suffix = ".yml" if plugin_type in ("filter", "test") else ".py"
        for name in sorted(os.listdir(os.path.join(root, subdir))):
            if name.endswith(suffix) and not name.startswith("_"):
                yield plugin_type, name[: -len(suffix)]


def env_vars(root):
    with open(os.path.join(root, "config", "base.yml"), encoding="utf-8") as f:
        settings = yaml.safe_load(f)
    for setting in settings.values():
        for env in setting.get("env") or []:
            yield env["name"]


def entries():
    root = os.path.dirname(ansible.__file__)
    for label, (uri, title) in DOCSITE_LABELS.items():
        yield label, "std:label", -1, uri, title
    for plugin_type, name in builtin_plugins(root):
        label = f"ansible_collections.ansible.builtin.{name}_{plugin_type}"
        page = f"collections/ansible/builtin/{name}_{plugin_type}.html"
        anchor = label.replace(".", "-").replace("_", "-")
        yield label, "std:label", -1, f"{page}#{anchor}", f"ansible.builtin.{name} {plugin_type}"
    for name in sorted(set(env_vars(root))):
        yield name, "std:envvar", 1, f"reference_appendices/config.html#envvar-{name}", "-"


def main():
    out = sys.argv[1]
    header = (
        "# Sphinx inventory version 2\n"
        "# Project: Ansible\n"
        f"# Version: {ANSIBLE_CORE_VERSION}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = "".join(f"{name} {role} {prio} {uri} {title}\n" for name, role, prio, uri, title in entries())
    with open(out, "wb") as f:
        f.write(header.encode("utf-8"))
        f.write(zlib.compress(body.encode("utf-8")))


if __name__ == "__main__":
    main()
