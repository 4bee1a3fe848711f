"""The ``Optimizer`` base: everything but the update rule, in Keras 3's order.

One call of :meth:`Optimizer.apply` does, as Keras 3 does:

1. drop ``None`` gradients (warning which variables had none);
2. unscale by ``loss_scale_factor``;
3. with ``gradient_accumulation_steps``: accumulate, and only every n-th call go on with the mean;
4. clip (``clipnorm`` per gradient, else ``global_clipnorm``, else ``clipvalue``);
5. decoupled weight decay, ``variable -= variable * weight_decay * learning_rate``;
6. the rule's :meth:`update_step` for each variable (``_backend_update_step`` loops; a rule may
   replace the loop by one fused multi-tensor call, see ``adam.py``);
7. the exponential moving average of the weights when ``use_ema``;
8. each variable's ``constraint``, right after its update;
9. ``iterations += 1``.

Where the state lives: slot variables sit on the device of the variable they belong to, and the
update math runs there on the ``xp`` arrays. ``iterations`` and the ``learning_rate`` variable are
host (NumPy) scalars, so the step count and the bias corrections are plain host numbers passed to
the device as kernel arguments: no host-device copy and no synchronisation per step. In a step
captured as a CUDA graph ``_device_scalars`` holds them on the device (``_step_number``).

A new rule is a small subclass: ``__init__`` (call ``super().__init__`` first), ``build``
(``super().build(variables)`` then ``add_optimizer_variables``), ``update_step(gradient,
variable, learning_rate)`` and ``get_config``, exactly Keras 3's contract.
"""

import re
import warnings

import numpy as np

from gpuk import distribution
from gpuk._array import get_array_module, is_array, to_numpy
from gpuk._array.graphs import CaptureUnsupported, capturing
from gpuk._config import epsilon as _backend_epsilon
from gpuk._config import floatx
from gpuk.autograd import Tensor, Variable, as_array, no_grad
from gpuk.optimizers import schedules as schedules_module
from gpuk.optimizers.clipping import clip_by_global_norm, global_norm  # noqa: F401 (re-export)
from gpuk.optimizers.scalars import cast_scalar
from gpuk.utils.naming import auto_name

# Keys that tf.keras / Keras 2 configs and scripts carry and that mean nothing here.
_IGNORED_LEGACY_KWARGS = ("jit_compile", "is_legacy_optimizer", "mesh")


def _host_scalar(value):
    """A Python number, NumPy scalar, 0-d array or Tensor as a NumPy 0-d value (on the host)."""
    if isinstance(value, Tensor):
        value = value.data
    if is_array(value):
        return np.asarray(to_numpy(value)).reshape(())
    return np.asarray(value).reshape(())


def _new_variable(array, name, path=None):
    """A non-trainable Variable holding ``array`` as it is (no copy, no device move)."""
    variable = Variable(np.zeros((), dtype=array.dtype), trainable=False, name=name)
    variable.data = array
    variable.path = path or name
    return variable


class Optimizer:
    """Base class of all optimizers (Keras 3's ``keras.optimizers.Optimizer``).

    Args:
        learning_rate: a float, a ``LearningRateSchedule``, or a callable. A callable taking one
            argument is called with the current step (``iterations``), one taking none is called
            without arguments (Keras's rule).
        weight_decay: float or None. If set, decoupled weight decay
            ``variable -= variable * weight_decay * learning_rate`` before each update.
        clipnorm: float or None. Each gradient is rescaled so that its L2 norm is at most this.
        clipvalue: float or None. Each gradient is clipped elementwise to ``[-clipvalue,
            clipvalue]``.
        global_clipnorm: float or None. All gradients are rescaled together so that their global
            L2 norm is at most this. Only one of the three clipping arguments may be set.
        use_ema: keep an exponential moving average of the weights.
        ema_momentum: the momentum of that average (``new = m * old + (1 - m) * value``).
        ema_overwrite_frequency: every this many steps, overwrite the weights with the average;
            None means only when ``finalize_variable_values`` is called.
        loss_scale_factor: float or None; gradients are divided by it (see ``scale_loss``).
        gradient_accumulation_steps: int >= 2 or None; update only every that many calls, with
            the mean of the accumulated gradients.
        name: the optimizer's name, used as prefix of its variables' paths.
        **kwargs: legacy spellings: ``lr`` (for ``learning_rate``) and ``decay`` (tf.keras 2's
            inverse-time decay ``lr / (1 + decay * iterations)``); ``jit_compile`` and
            ``is_legacy_optimizer`` are accepted and ignored.
    """

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        cls_name = type(self).__name__
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", None)
        for key in _IGNORED_LEGACY_KWARGS:
            kwargs.pop(key, None)
        if kwargs:
            raise ValueError(f"{cls_name}: argument(s) not recognized: {kwargs}")
        self.decay = float(decay) if decay else 0.0
        if self.decay < 0:
            raise ValueError(f"{cls_name}: `decay` must be >= 0. Received: decay={decay}")

        self.name = name if name is not None else auto_name(cls_name)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                f"{cls_name}: `gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(
                    f"{cls_name}: `ema_momentum` must be in the range [0, 1]. "
                    f"Received: ema_momentum={ema_momentum}"
                )
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    f"{cls_name}: `ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                f"{cls_name}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )

        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        # int64 as in tf.keras (Keras 3 on JAX uses int32); on the host, see the module note.
        self._iterations = _new_variable(
            np.zeros((), dtype=np.int64), "iteration", f"{self.name}/iteration"
        )
        self._variables.append(self._iterations)
        self._learning_rate = None
        self._set_learning_rate(learning_rate, initial=True)

    # ------------------------------------------------------------------ learning rate
    def _set_learning_rate(self, learning_rate, initial=False):
        if isinstance(learning_rate, schedules_module.LearningRateSchedule) or (
            callable(learning_rate) and not isinstance(learning_rate, Tensor)
        ):
            if isinstance(self._learning_rate, Variable):
                self._variables.remove(self._learning_rate)
            self._learning_rate = learning_rate
            return
        try:
            value = float(_host_scalar(learning_rate))
        except (TypeError, ValueError):
            raise ValueError(
                f"{type(self).__name__}: argument `learning_rate` should be a float, a "
                "LearningRateSchedule, or a callable (that takes the current iteration and "
                f"returns the learning rate). Received instead: learning_rate={learning_rate!r}"
            ) from None
        if isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(np.asarray(value, dtype=self._learning_rate.dtype))
            return
        if not initial and isinstance(self._learning_rate, schedules_module.LearningRateSchedule):
            raise TypeError(
                f"{type(self).__name__} was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable. "
                "If you need the learning rate to be settable, you should instantiate the "
                "optimizer with a float `learning_rate` argument."
            )
        variable = _new_variable(
            np.asarray(value, dtype=floatx()), "learning_rate", f"{self.name}/learning_rate"
        )
        # Keras 3 order: [iteration, learning_rate, slots...].
        self._variables.insert(1, variable)
        self._learning_rate = variable

    @property
    def learning_rate(self):
        """The learning rate: a Variable for a float rate, else the schedule's current value.

        Settable: ``opt.learning_rate = 0.01`` (or ``opt.learning_rate.assign(0.01)``), or a new
        schedule/callable.
        """
        return self._get_current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        self._set_learning_rate(value)

    # tf.keras / Keras 2 spelling: ``opt.lr``, ``K.set_value(opt.lr, 0.1)``.
    lr = learning_rate

    def _get_current_learning_rate(self):
        learning_rate = self._learning_rate
        if isinstance(learning_rate, schedules_module.LearningRateSchedule):
            return learning_rate(self._iterations)
        if isinstance(learning_rate, Variable):
            return learning_rate
        if callable(learning_rate):
            return schedules_module.call_learning_rate(learning_rate, self._iterations)
        return learning_rate

    _device_scalars = None  # device scalars of a step being captured (see the module notes)

    def _learning_rate_value(self, host=False):
        """The rate of this step as a host scalar, legacy ``decay`` included (while captured,
        unless ``host``: the device scalar the graph reads)."""
        if not host and (self._device_scalars is not None or capturing()):
            if self._device_scalars is None:  # its host step and rate would be baked in
                raise CaptureUnsupported(f"optimizer {self.name!r} is not the model's optimizer")
            return self._device_scalars["learning_rate"]
        value = _host_scalar(self._get_current_learning_rate())
        if value.dtype.kind != "f":
            value = value.astype(floatx())
        if self.decay:
            # tf.keras 2's legacy optimizers: lr / (1 + decay * iterations), in the lr's dtype.
            step = value.dtype.type(self._iterations.data)
            value = value / (value.dtype.type(1) + value.dtype.type(self.decay) * step)
        return value

    # ------------------------------------------------------------------ iterations
    @property
    def iterations(self):
        """How many times ``apply`` ran: an int64 Variable (Keras's ``optimizer.iterations``).

        With ``gradient_accumulation_steps`` it is the number of real updates (a Tensor).
        """
        if self.gradient_accumulation_steps:
            return Tensor(self._iterations.data // self.gradient_accumulation_steps)
        return self._iterations

    def _step_count(self):
        """``iterations`` as a Python int (a host read); refused while a step is captured."""
        if self._device_scalars is not None:
            raise CaptureUnsupported(f"{type(self).__name__} reads the step count on the host")
        return int(self._iterations.data) // (self.gradient_accumulation_steps or 1)

    def _step_number(self):
        """``t = iterations + 1``: a Python int, or a 0-d device array while captured."""
        scalars = self._device_scalars
        return self._step_count() + 1 if scalars is None else scalars["iterations"] + 1

    # ------------------------------------------------------------------ variables
    @property
    def variables(self):
        """``[iteration, learning_rate, slots...]`` in Keras 3's order (a new list)."""
        return list(self._variables)

    @property
    def weights(self):
        """Alias of ``variables`` (tf.keras spelling)."""
        return self.variables

    def get_weights(self):
        """The values of ``variables`` as NumPy arrays."""
        return [variable.numpy() for variable in self.variables]

    def set_weights(self, weights):
        """Set ``variables`` from a list of arrays (same order and shapes as ``get_weights``)."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`."
            )
        weights = list(weights)
        variables = self.variables
        if len(weights) != len(variables):
            raise ValueError(
                f"Optimizer {self.name!r} has {len(variables)} variables; received "
                f"{len(weights)} weights"
            )
        for variable, weight in zip(variables, weights):
            shape = tuple(getattr(weight, "shape", np.shape(weight)))
            if tuple(variable.shape) != shape:
                raise ValueError(
                    f"Optimizer variable {variable.path!r} has shape {variable.shape} not "
                    f"compatible with provided weight shape {shape}."
                )
            variable.assign(weight)

    def save_own_variables(self, store):
        """Write the variables to ``store["0"], store["1"], ...`` (Keras 3's saving hook)."""
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        """Read variables written by ``save_own_variables``; warns and skips on a mismatch."""
        variables = self.variables
        if len(store.keys()) != len(variables):
            warnings.warn(
                f"Skipping variable loading for optimizer '{self.name}', because it has "
                f"{len(variables)} variables whereas the saved optimizer has "
                f"{len(store.keys())} variables.",
                stacklevel=2,
            )
            return
        for i, variable in enumerate(variables):
            variable.assign(np.asarray(store[str(i)]))

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None, reference=None):
        """Create and track an optimizer variable.

        Args:
            shape: its shape.
            initializer: ``"zeros"``, ``"ones"``, a number (a constant), or a callable
                ``fn(shape, dtype)`` returning an array.
            dtype: defaults to ``floatx()``.
            name: its name; its path is ``"<optimizer name>/<name>"``.
            reference: an array whose device the variable is put on (default: the host).
        """
        dtype = np.dtype(dtype or floatx())
        shape = tuple(int(d) for d in shape)
        xp = get_array_module(reference) if reference is not None else np
        if isinstance(initializer, str):
            if initializer not in ("zeros", "ones"):
                raise ValueError(
                    f"Optimizer {self.name!r}: unknown slot initializer {initializer!r} "
                    "(use 'zeros', 'ones', a number or a callable)"
                )
            array = (xp.zeros if initializer == "zeros" else xp.ones)(shape, dtype=dtype)
        elif callable(initializer):
            array = as_array(initializer(shape, dtype))
            array = xp.asarray(to_numpy(array) if xp is np else array, dtype=dtype)
        else:
            array = xp.full(shape, initializer, dtype=dtype)
        name = name or "variable"
        variable = _new_variable(array, name, f"{self.name}/{name}")
        self._variables.append(variable)
        return variable

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A slot shaped, typed and placed like ``reference_variable``.

        Named ``"<variable path with / as _>_<name>"`` (``dense_kernel_momentum``), as in Keras 3.
        """
        name = name or "var"
        ref_name = getattr(reference_variable, "path", None) or getattr(
            reference_variable, "name", "variable"
        )
        name = f"{str(ref_name).replace('/', '_').replace(':', '_')}_{name}"
        data = as_array(reference_variable)
        return self.add_variable(
            data.shape, initializer=initializer, dtype=data.dtype, name=name, reference=data
        )

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One slot per variable per name; several names are interleaved per variable.

        Returns a list of slots for one name, or a tuple of lists for a list of names (the
        creation order, hence ``variables``' order, is Keras 3's: m_0, v_0, m_1, v_1, ...).
        """
        names = [name] if isinstance(name, str) else list(name)
        inits = (
            initializer if isinstance(initializer, (list, tuple)) else [initializer] * len(names)
        )
        if len(inits) != len(names):
            raise ValueError(
                f"The number of provided names must match the number of provided initializers. "
                f"Received name={name!r}, initializer={initializer!r}"
            )
        slots = tuple([] for _ in names)
        for variable in trainable_variables:
            for i, (slot_name, init) in enumerate(zip(names, inits)):
                slots[i].append(
                    self.add_variable_from_reference(variable, name=slot_name, initializer=init)
                )
        return slots[0] if isinstance(name, str) else slots

    def build(self, variables):
        """Create the slot variables for ``variables`` (called by the first ``apply``).

        Subclasses call ``super().build(variables)`` first, then create their slots.
        """
        variables = list(variables)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(
                variables, "average"
            )
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = []
        for i, variable in enumerate(variables):
            self._trainable_variables_indices[id(variable)] = i
            if self.gradient_accumulation_steps:
                self._accumulated_gradients.append(
                    self.add_variable_from_reference(variable, name="gradient_accumulator")
                )
        self._trainable_variables = variables[:]
        self.built = True

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices[id(variable)]

    # ------------------------------------------------------------------ assignment helpers
    def assign(self, variable, value):
        """``variable.assign(value)``; ``value`` may be an xp array or a Tensor."""
        variable.assign(value)

    def assign_add(self, variable, value):
        variable.assign(variable.data + as_array(value, like=variable.data))

    def assign_sub(self, variable, value):
        variable.assign(variable.data - as_array(value, like=variable.data))

    # ------------------------------------------------------------------ applying
    def apply_gradients(self, grads_and_vars):
        """Apply ``(gradient, variable)`` pairs; ``None`` gradients are skipped.

        Gradients may be gpuk Tensors or NumPy/CuPy arrays. Returns ``iterations``.
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        grads, variables = zip(*pairs)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Update ``trainable_variables`` with ``grads`` (one per variable, or None).

        Without ``trainable_variables`` the optimizer must already be built, and ``grads``
        match the variables it was built with.
        """
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
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must "
                    f"match the optimizer's variables one-to-one. Received a list of {len(grads)} "
                    f"gradients, but the optimizer is tracking {len(self._trainable_variables)} "
                    "trainable variables."
                )
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if len(grads) != len(trainable_variables):
                raise ValueError(
                    f"Optimizer {self.name!r}: received {len(grads)} gradients for "
                    f"{len(trainable_variables)} variables"
                )
            for variable in trainable_variables:
                if not isinstance(variable, Variable):
                    raise TypeError(
                        f"Optimizer {self.name!r} can only update gpuk Variables; received "
                        f"{type(variable).__name__}"
                    )
            if not self.built:
                self.build(trainable_variables)
                self.built = True
            for variable in trainable_variables:
                if id(variable) not in self._trainable_variables_indices:
                    raise ValueError(
                        f"Unknown variable: {variable.path!r}. This optimizer can only be called "
                        "for the variables it was originally built with. When working with a new "
                        "set of variables, you should recreate a new optimizer instance."
                    )
        grads, trainable_variables = self._filter_empty_gradients(grads, trainable_variables)
        # Data parallel (gpuk.distribution): gradients of the global batch, summed over processes.
        grads = distribution.reduce_gradients(grads, trainable_variables, self)
        with no_grad():
            if self.loss_scale_factor is not None:
                grads = [g / self.loss_scale_factor for g in grads]
            self._backend_apply_gradients(grads, trainable_variables)
            for variable in trainable_variables:
                if getattr(variable, "constraint", None) is not None:
                    _constrain(variable)
        # Kept a host array (not ``assign``, which would route a NumPy scalar via the device).
        self._iterations.data = np.asarray(self._iterations.data + 1, dtype=np.int64)
        if self._device_scalars is not None:  # the captured step's counter, on the device
            self._device_scalars["iterations"] += 1

    def minimize(self, loss, var_list, tape=None):
        """tf.keras's ``minimize``: gradients of ``loss`` (a Tensor with ``tape``, or a callable
        returning the loss) with respect to ``var_list``, then ``apply_gradients``."""
        from gpuk.autograd import GradientTape

        var_list = list(var_list() if callable(var_list) else var_list)
        if tape is None:
            if not callable(loss):
                raise ValueError(
                    "`tape` is required when a Tensor loss is passed to minimize(); received "
                    f"loss={loss!r}"
                )
            with GradientTape() as tape:
                loss = loss()
        grads = tape.gradient(loss, var_list)
        return self.apply_gradients(zip(grads, var_list))

    def _filter_empty_gradients(self, grads, variables):
        kept_grads, kept_vars, missing = [], [], []
        for grad, variable in zip(grads, variables):
            if grad is None:
                missing.append(variable.path)
                continue
            kept_grads.append(as_array(grad, like=variable.data))
            kept_vars.append(variable)
        if not kept_grads:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. If "
                "using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=3,
            )
        return kept_grads, kept_vars

    def _backend_apply_gradients(self, grads, trainable_variables):
        if self.gradient_accumulation_steps:
            steps = self.gradient_accumulation_steps
            accumulators = [
                self._accumulated_gradients[self._get_variable_index(v)]
                for v in trainable_variables
            ]
            if (int(self._iterations.data) + 1) % steps == 0:
                grads = [(g + acc.data) / steps for g, acc in zip(grads, accumulators)]
                self._update(grads, trainable_variables)
                for acc in accumulators:
                    acc.data = acc.data * 0
            else:
                for g, acc in zip(grads, accumulators):
                    acc.data = g + acc.data
        else:
            self._update(grads, trainable_variables)
        if self.use_ema:
            self._update_model_variables_moving_average(self._trainable_variables)
            if self.ema_overwrite_frequency and (
                (self._step_count() + 1) % self.ema_overwrite_frequency == 0
            ):
                self._overwrite_model_variables_with_average_value(self._trainable_variables)

    def _update(self, grads, trainable_variables):
        grads = self._clip_gradients(grads)
        learning_rate = self._learning_rate_value()
        self._apply_weight_decay(trainable_variables, learning_rate)
        self._backend_update_step(grads, trainable_variables, learning_rate)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        """Run ``update_step`` per variable; a rule may override this with a fused call."""
        for grad, variable in zip(grads, trainable_variables):
            self.update_step(grad, variable, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        """Update ``variable`` (and its slots) from ``gradient`` (an xp array).

        ``learning_rate`` is a host scalar; cast it with ``variable.dtype.type(learning_rate)``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement update_step()")

    # ------------------------------------------------------------------ clipping, decay, EMA
    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            xp = get_array_module(*grads)
            return [xp.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _clip_by_norm(self, values):
        xp = get_array_module(values)
        l2sum = xp.sum(xp.square(values), keepdims=True)
        pred = l2sum > 0
        # The safe-where keeps a zero gradient at zero instead of 0/0.
        l2sum_safe = xp.where(pred, l2sum, xp.ones_like(l2sum))
        l2norm = xp.where(pred, xp.sqrt(l2sum_safe), l2sum)
        return (values * self.clipnorm) / xp.maximum(l2norm, self.clipnorm)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exclude variables (objects, or names containing one of ``var_names``) from decay.

        Must be called before the optimizer is built.
        """
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before the optimizer is "
                "built."
            )
        self._exclude_from_weight_decay = {id(v) for v in var_list or []}
        self._exclude_from_weight_decay_pattern = (
            re.compile("|".join(set(var_names))) if var_names else None
        )

    def _use_weight_decay(self, variable):
        if id(variable) in getattr(self, "_exclude_from_weight_decay", set()):
            return False
        pattern = getattr(self, "_exclude_from_weight_decay_pattern", None)
        return not (pattern is not None and pattern.search(variable.name) is not None)

    def _apply_weight_decay(self, variables, learning_rate):
        if self.weight_decay is None:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                dtype = variable.data.dtype.type
                lr, wd = cast_scalar(learning_rate, dtype), dtype(self.weight_decay)
                variable.assign(variable.data - variable.data * wd * lr)

    def _update_model_variables_moving_average(self, trainable_variables):
        not_first_step = self._step_count() != 0
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            dtype = variable.data.dtype.type
            momentum = dtype(not_first_step) * dtype(self.ema_momentum)
            average.data = momentum * average.data + (dtype(1) - momentum) * variable.data

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        if len(trainable_variables) != len(self._model_variables_moving_average):
            raise ValueError(
                f"The length of model variables ({len(trainable_variables)}) to override does "
                "not match the length of model variables stored in the optimizer "
                f"({len(self._model_variables_moving_average)})."
            )
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            variable.assign(average.data)

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, overwrite ``var_list`` with its moving averages (end of ``fit``)."""
        if self.use_ema:
            self._overwrite_model_variables_with_average_value(list(var_list))

    def scale_loss(self, loss):
        """Multiply ``loss`` by ``loss_scale_factor`` when it is set."""
        return loss * self.loss_scale_factor if self.loss_scale_factor is not None else loss

    # ------------------------------------------------------------------ config
    def get_config(self):
        """Keras 3's config keys; the learning rate as a float or a serialized schedule."""
        learning_rate = self._learning_rate
        if isinstance(learning_rate, schedules_module.LearningRateSchedule):
            learning_rate = schedules_module.serialize(learning_rate)
        elif isinstance(learning_rate, Variable):
            learning_rate = float(learning_rate.numpy())
        elif callable(learning_rate):
            learning_rate = getattr(learning_rate, "__name__", repr(learning_rate))
        config = {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from ``get_config()``; also takes tf.keras / Keras 2 configs (``lr``,
        ``decay``, ``is_legacy_optimizer``, ``jit_compile``)."""
        config = dict(config)
        if "lr" in config:
            config["learning_rate"] = config.pop("lr")
        for key in _IGNORED_LEGACY_KWARGS:
            config.pop(key, None)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(
                config["learning_rate"], custom_objects=custom_objects
            )
        return cls(**config)

    def __repr__(self):
        return f"<gpuk.optimizers.{type(self).__name__} name={self.name!r}>"


def resolve_epsilon(epsilon):
    """Keras 2 scripts pass ``epsilon=None`` meaning the backend's ``epsilon()``."""
    return _backend_epsilon() if epsilon is None else epsilon


def _constrain(variable):
    """Apply the variable's constraint, writing in place when the layout allows: fused kernels
    cache tables of the variables' device addresses, which a new array would invalidate."""
    value = variable.constraint(variable)
    data = value.data if isinstance(value, Tensor) else value
    if (
        is_array(data)
        and tuple(data.shape) == tuple(variable.data.shape)
        and get_array_module(data) is get_array_module(variable.data)
        and variable.data.flags.c_contiguous
        and getattr(variable.data.flags, "writeable", True)  # CuPy's flags have no writeable
    ):
        variable.data[...] = data
    else:
        variable.assign(value)
