"""``OptimizerMap`` and ``MultiOptimizer``: different optimizers for different variables."""

import re
from collections.abc import MutableMapping

import numpy as np

from gpuk.optimizers.base import Optimizer
from gpuk.optimizers.loss_scale_optimizer import LossScaleOptimizer
from gpuk.optimizers.serialization import deserialize, serialize


class OptimizerMap(MutableMapping):
    """Variable paths (exact, else regular expressions matched in full) to optimizers.

    Args:
        default_optimizer: the ``Optimizer`` of every variable no key matches.
        optimizer_map: optional dict ``{path or pattern: Optimizer}``.

    ``optimizer_map["encoder/.*"] = Adam()`` adds an entry; ``optimizer_map(variable)`` gives
    the optimizer of ``variable.path``.
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(
                f"default_optimizer must be a Keras Optimizer instance. Received: "
                f"{default_optimizer}"
            )
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = dict(optimizer_map or {})

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        if matching:
            return self._optimizer_map[matching[0]]
        return self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value "
                f"{self._optimizer_map[key]}. Please make sure to not use duplicated keys."
            )
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer}")
        if isinstance(optimizer, LossScaleOptimizer):
            raise ValueError("optimizer cannot be LossScaleOptimizer.")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[variable.path]

    def get_config(self):
        return {
            "default_optimizer": serialize(self._default_optimizer),
            "optimizer_map": {k: serialize(v) for k, v in self._optimizer_map.items()},
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        default = deserialize(config["default_optimizer"], custom_objects=custom_objects)
        mapping = {
            k: deserialize(v, custom_objects=custom_objects)
            for k, v in (config.get("optimizer_map") or {}).items()
        }
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    """Delegate each variable to the optimizer an ``OptimizerMap`` (or a function
    ``variable -> Optimizer``) picks; ``optimizers`` lists them, in Keras 3's order (the map's
    values, the default, then any the function returned).

    ``learning_rate`` is not defined on it (ask the sub-optimizers); ``iterations`` counts its
    own steps.

    Args:
        optimizer_map: an ``OptimizerMap`` or a callable.
        loss_scale_factor: overrides the sub-optimizers' ``loss_scale_factor``.
        name: the optimizer name.
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        self._inner_optimizers = []
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        candidates = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        if default is not None:
            candidates.append(default)
        for opt in candidates:
            if opt not in self._inner_optimizers:
                opt.loss_scale_factor = loss_scale_factor
                self._inner_optimizers.append(opt)

    def build(self, variables):
        if self.built:
            return
        variables = list(variables)
        self._var_to_optimizer_idx = {}
        grouped = [[] for _ in self._inner_optimizers]
        for variable in variables:
            opt = self._optimizer_map(variable)
            if not isinstance(opt, Optimizer):
                raise ValueError(f"Optimizer for variable {variable} is not an Optimizer instance.")
            if isinstance(opt, LossScaleOptimizer):
                raise ValueError("LossScaleOptimizer cannot be used inside an MultiOptimizer.")
            if isinstance(opt, MultiOptimizer):
                raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer.")
            if opt not in self._inner_optimizers:
                opt.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(opt)
                grouped.append([])
            index = self._inner_optimizers.index(opt)
            self._var_to_optimizer_idx[id(variable)] = index
            grouped[index].append(variable)
        for opt, group in zip(self._inner_optimizers, grouped):
            if group:
                opt.build(group)
                opt.built = True
        super().build(variables)

    @property
    def optimizers(self):
        """The sub-optimizers."""
        return self._inner_optimizers

    @property
    def variables(self):
        out = list(self._variables)
        for opt in self._inner_optimizers:
            out.extend(opt.variables)
        return out

    @property
    def learning_rate(self):
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on "
            "the individual sub-optimizers instead."
        )

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the "
            "individual sub-optimizers instead."
        )

    @property
    def loss_scale_factor(self):
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for opt in getattr(self, "_inner_optimizers", []):
            opt.loss_scale_factor = value

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                "Gradients must match trainable variables one-to-one. Received "
                f"{len(grads)} gradients and {len(trainable_variables)} variables."
            )
        grouped = [[] for _ in self._inner_optimizers]
        for grad, variable in zip(grads, trainable_variables):
            if id(variable) not in self._var_to_optimizer_idx:
                raise ValueError(
                    f"Unknown variable: {variable.path!r}. MultiOptimizer {self.name!r} was "
                    "built with other variables."
                )
            grouped[self._var_to_optimizer_idx[id(variable)]].append((grad, variable))
        for opt, pairs in zip(self._inner_optimizers, grouped):
            if pairs:
                sub_grads, sub_vars = zip(*pairs)
                opt.apply(list(sub_grads), list(sub_vars))
        self._iterations.data = np.asarray(self._iterations.data + 1, dtype=np.int64)

    def finalize_variable_values(self, var_list):
        grouped = [[] for _ in self._inner_optimizers]
        for variable in var_list:
            grouped[self._var_to_optimizer_idx[id(variable)]].append(variable)
        for opt, group in zip(self._inner_optimizers, grouped):
            if group:
                opt.finalize_variable_values(group)

    def get_config(self):
        from gpuk.utils.serialization import serialize_keras_object

        if isinstance(self._optimizer_map, OptimizerMap):
            mapping = {
                "module": "keras.optimizers",
                "class_name": "OptimizerMap",
                "config": self._optimizer_map.get_config(),
                "registered_name": None,
            }
        else:
            mapping = serialize_keras_object(self._optimizer_map)
        return {
            "optimizer_map": mapping,
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        mapping = config["optimizer_map"]
        if isinstance(mapping, dict) and mapping.get("class_name") == "OptimizerMap":
            config["optimizer_map"] = OptimizerMap.from_config(
                mapping["config"], custom_objects=custom_objects
            )
        else:
            from gpuk.utils.serialization import deserialize_keras_object

            config["optimizer_map"] = deserialize_keras_object(
                mapping, {}, custom_objects, "optimizer selector"
            )
        return cls(**config)
