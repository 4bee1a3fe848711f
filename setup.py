"""Packaging glue that pyproject.toml cannot express: kernels/ ships as gpuk._kernels."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["gpuk", "gpuk.*"]) + ["gpuk._kernels"],
    package_dir={"gpuk._kernels": "kernels"},
)
