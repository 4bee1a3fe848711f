"""Keras 3's saving hooks of a layer: ``save_own_variables`` / ``load_own_variables``.

A base of :class:`gpuk.layers.Layer` (kept in a module of its own, as ``LayerNodes`` is). The
``.keras`` and ``.weights.h5`` writers and readers of :mod:`gpuk.saving` call these two methods
on every layer they visit, so a layer that overrides them (a user's, or a preprocessing layer
with lookup tables) decides what its ``vars`` group holds, exactly as in Keras 3.
"""

from gpuk._array import to_numpy


class LayerState:
    """``save_own_variables``/``load_own_variables`` with Keras 3's default semantics."""

    def _own_state_variables(self):
        # Keras's order: trainable variables in creation order, then non-trainable ones; the
        # variables of sub-layers are saved by the sub-layers themselves.
        return list(self._trainable_variables) + list(self._non_trainable_variables)

    def save_own_variables(self, store):
        """Put this layer's own variables in ``store`` under the keys ``"0"``, ``"1"``, ...

        ``model.save()`` and ``save_weights()`` call it on every layer (Keras 3's hook). The
        values may be variables or arrays; the writer copies them to the host. Override it,
        together with :meth:`load_own_variables`, to save other state or other keys.

        Args:
            store: a dict-like object; only ``store[key] = value`` is needed.
        """
        for i, variable in enumerate(self._own_state_variables()):
            store[str(i)] = variable

    def load_own_variables(self, store):
        """Assign ``store["0"]``, ``store["1"]``, ... (as :meth:`save_own_variables` wrote
        them) to this layer's own variables.

        Args:
            store: a dict-like object with ``keys()`` and ``store[key]`` (NumPy arrays when
                loading a file).

        Raises:
            ValueError: naming the layer when the number of entries or a shape differs (then
                nothing is assigned).
        """
        variables = self._own_state_variables()
        if len(store.keys()) != len(variables):
            if not variables and not self.built:
                raise ValueError(
                    f"Layer {self.name!r} was never built and thus it doesn't have any "
                    f"variables. However the weights file lists {len(store.keys())} variables "
                    "for this layer. Build it (or implement build_from_config) so that it "
                    "creates all its state before loading."
                )
            raise ValueError(
                f"Layer {self.name!r} expected {len(variables)} variables, but received "
                f"{len(store.keys())} variables during loading. Expected: "
                f"{[v.name for v in variables]}"
            )
        values = [store[str(i)] for i in range(len(variables))]
        for variable, value in zip(variables, values):
            shape = getattr(value, "shape", None)
            shape = tuple(to_numpy(value).shape if shape is None else shape)
            if shape != tuple(variable.shape):
                raise ValueError(
                    f"Layer {self.name!r}: variable {variable.path!r} has shape "
                    f"{tuple(variable.shape)}, the saved value has shape {shape}"
                )
        for variable, value in zip(variables, values):
            variable.assign(value)
