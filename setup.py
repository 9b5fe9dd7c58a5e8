"""Map the top-level source folders into the `rosterhub` package (docs/decisions/0001-packaging.md).

`connectors/`, `mapping/`, `streams/` and `schemas/` live at the top of the repository
(where contributors look for them) but install as `rosterhub.connectors`, ... so that no
generic name such as `streams` lands in site-packages. pyproject.toml cannot express a
remapped folder together with its discovered subpackages, hence these few lines.
"""

from setuptools import find_packages, setup

ROOTS = {
    "rosterhub": "rosterhub",
    "rosterhub.connectors": "connectors",
    "rosterhub.mapping": "mapping",
    "rosterhub.streams": "streams",
    "rosterhub.schemas": "schemas",
}

packages: list[str] = []
for package, folder in ROOTS.items():
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=ROOTS)
