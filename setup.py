"""Lists hepilot's sub-packages: the repository root is the package, its folders the sub-packages."""
from setuptools import find_packages, setup

_AREAS = ("agent", "tools", "models", "knowledge", "evals")
_SUBPACKAGES = [p for p in find_packages(".") if p.split(".")[0] in _AREAS]

setup(packages=["hepilot", *(f"hepilot.{p}" for p in _SUBPACKAGES)])
