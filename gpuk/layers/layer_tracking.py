"""What a layer tree holds: its sub-layers, weights, losses and metrics, walked once per change.

A base of :class:`gpuk.layers.Layer` (kept in a module of its own, as ``LayerState`` is). A
training step asks a model for ``trainable_weights``, ``losses`` and ``metrics`` every call;
walking the tree each time costs tens of microseconds on a small model. The walks are cached
and keyed on one process-wide *structure version*, which :func:`structure_changed` bumps
whenever any layer gains a sub-layer, a weight or a metric, is frozen or unfrozen, or a model
replaces its list of layers. Values that change per call are never cached: ``losses``
recomputes the regularization terms and reads each layer's current ``add_loss`` list, and
``trainable_weights`` reads each variable's ``trainable`` flag.
"""

_version = [0]


def structure_changed():
    """Invalidate every layer's cached walk (a layer gained a sub-layer, weight or metric)."""
    _version[0] += 1


def structure_version():
    """The current structure version (changes after each :func:`structure_changed`)."""
    return _version[0]


_attribute_version = [0]


def attribute_set():
    """Note that some layer's attribute was assigned (``Layer.__setattr__`` calls this)."""
    _attribute_version[0] += 1


def attribute_version():
    """Changes whenever any layer attribute is assigned: what a per-call decision that reads
    layer attributes (the functional inference fast path's steps) is cached against."""
    return _attribute_version[0]


class LayerTracking:
    """``weights``, ``losses``, ``metrics`` and the flattened layer tree, cached per structure."""

    def _walk(self):
        """``(flattened layers, self first)``, cached until the structure changes."""
        cache = self.__dict__.get("_tracking_cache")
        if cache is not None and cache[0] == _version[0] and cache[1][0] is self:
            return cache[1]
        seen, out = set(), []

        def walk(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for sub in layer._layers:
                walk(sub)

        walk(self)
        flat = tuple(out)
        self.__dict__["_tracking_cache"] = (_version[0], flat)
        return flat

    @property
    def layers(self):
        """Sub-layers tracked as attributes, in assignment order."""
        return list(self._layers)

    def _flatten_layers(self, include_self=True):
        flat = self._walk()
        return list(flat) if include_self else list(flat[1:])

    def _walk_weights(self):
        """All weights (see :attr:`weights`) as a tuple, cached until the structure changes.

        Only cached when every layer of the tree uses the default ``weights`` (or marks its own
        as a function of the tracked structure with ``_weights_follow_structure``)."""
        cache = self.__dict__.get("_weights_cache")
        if cache is not None and cache[0] == _version[0] and cache[1] is self:
            return cache[2]
        out, seen = [], set()
        for variable in self._trainable_variables + self._non_trainable_variables:
            if id(variable) not in seen:
                seen.add(id(variable))
                out.append(variable)
        for layer in self._layers:
            for variable in layer.weights:
                if id(variable) not in seen:
                    seen.add(id(variable))
                    out.append(variable)
        out = tuple(out)
        if all(_weights_follow_structure(layer) for layer in self._walk()):
            self.__dict__["_weights_cache"] = (_version[0], self, out)
        return out

    def _all_weights(self):
        # A class's own `weights` (Sequential builds its graph there) is honoured.
        if type(self).weights is LayerTracking.weights:
            return self._walk_weights()
        return self.weights

    @property
    def weights(self):
        """All weights: this layer's (trainable, then non-trainable), then its sub-layers'."""
        return list(self._walk_weights())

    variables = weights

    @property
    def trainable_weights(self):
        """Weights updated by training (empty when the layer is frozen)."""
        if not self.trainable:
            return []
        return [v for v in self._all_weights() if v.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [v for v in self._all_weights() if not v.trainable]

    non_trainable_variables = non_trainable_weights

    @property
    def losses(self):
        """Regularization terms (from the current weights) plus losses added in the last call."""
        out = []
        for layer in self._walk():
            out.extend(layer._losses)
            for variable in layer._trainable_variables + layer._non_trainable_variables:
                regularizer = getattr(variable, "regularizer", None)
                if regularizer is not None:
                    out.append(regularizer(variable))
        return out

    @property
    def metrics(self):
        """Metrics tracked as attributes of this layer and of its sub-layers."""
        out = []
        for layer in self._walk():
            out.extend(layer.__dict__.get("_metrics", ()))
        return out

    @property
    def metrics_variables(self):
        """The state variables of :attr:`metrics`."""
        return [v for metric in self.metrics for v in metric.variables]

    def _clear_losses(self):
        for layer in self._walk():
            if layer._losses:
                layer._losses = []


def _weights_follow_structure(layer):
    weights = type(layer).weights
    return weights is LayerTracking.weights or getattr(layer, "_weights_follow_structure", False)
