"""gpuk: Keras's API on a small eager autodiff, GPU-first through CuPy, NumPy on any CPU.

``import gpuk as keras`` gives the Keras names a script uses.
"""

from gpuk import config, ops
from gpuk._version import __version__
from gpuk.autograd import GradientTape, Tensor, Variable, no_grad

__all__ = ["GradientTape", "Tensor", "Variable", "__version__", "config", "no_grad", "ops"]
