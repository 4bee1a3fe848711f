"""CUDA C++ sources of gpuk's fused kernels, shipped as the package ``gpuk._kernels``.

Only ``gpuk._array.kernels`` reads these files; see docs/architecture.md, "Kernels".
"""
