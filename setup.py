"""Which packages the wheel holds. Everything else is in pyproject.toml.

The contracts stay in the top-level contracts/ folder of the repository and ship inside the wheel
as the data-only package checks._bundled, so an installed claimcheck finds them wherever it runs.
"""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["checks", "checks.*"]) + ["checks._bundled"],
      package_dir={"checks._bundled": "contracts"})
