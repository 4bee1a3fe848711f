"""``InputSpec``: the input ranks, axis sizes and dtype a layer accepts."""

from gpuk._tree import normalize_shape


class InputSpec:
    """What a layer accepts: ``ndim``, ``min_ndim``, ``max_ndim``, ``axes``, ``dtype``, ``shape``.

    Set ``self.input_spec`` in a layer to have inputs checked when the layer is called.
    """

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
    ):
        self.dtype = dtype
        self.shape = normalize_shape(shape) if shape is not None else None
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.name = name

    def check(self, layer, shape):
        """Raise a ValueError naming ``layer`` when ``shape`` does not fit this spec."""
        rank = len(shape)
        problem = None
        if self.ndim is not None and rank != self.ndim:
            problem = f"expected ndim={self.ndim}, found ndim={rank}"
        elif self.min_ndim is not None and rank < self.min_ndim:
            problem = f"expected min_ndim={self.min_ndim}, found ndim={rank}"
        elif self.max_ndim is not None and rank > self.max_ndim:
            problem = f"expected max_ndim={self.max_ndim}, found ndim={rank}"
        else:
            for axis, size in self.axes.items():
                if -rank <= axis < rank:
                    found = shape[axis]
                    if size is not None and found is not None and found != size:
                        problem = f"expected axis {axis} to have value {size}, found {found}"
        if problem:
            raise ValueError(
                f"Input 0 of layer {layer.name!r} ({type(layer).__name__}) is incompatible with "
                f"the layer: {problem}. Full shape received: {tuple(shape)}"
            )

    def get_config(self):
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }
