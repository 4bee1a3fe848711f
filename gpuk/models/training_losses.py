"""What ``compile`` sets up: per-output losses with their weights, and per-output metrics.

Both line up the targets with the model's outputs the way Keras 3 does: a dict of targets is
matched by key (the output dict's keys, or the output layer names), a list by position, one
array goes to a single output. They are built at compile time when the output names are known
(functional models) or at the first batch otherwise (subclassed models).
"""

from gpuk import losses as losses_module
from gpuk import metrics as metrics_module
from gpuk import ops
from gpuk.autograd import Tensor
from gpuk.layers.base import flatten
from gpuk.metrics.base import Mean


def _per_output(value, output_names, what, allow_single=True, aliases=None):
    """Spread ``value`` (one item, a list in output order, or a dict by name) over the outputs."""
    if isinstance(value, dict):
        names = output_names
        if aliases and not set(value) <= set(names) and set(value) <= set(aliases):
            names = aliases
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(
                f"Unknown output names {unknown} in {what}; the model's outputs are {output_names}"
            )
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(output_names):
            raise ValueError(
                f"When passing a list as {what}, it should have one entry per output: the "
                f"model has {len(output_names)} outputs {output_names}, but {what} has "
                f"{len(value)} entries"
            )
        return list(value)
    if not allow_single:
        raise TypeError(f"{what} must be a list or dict, got {type(value).__name__}")
    return [value] * len(output_names)


def output_names_for(y_pred, model_names):
    """Names of the outputs in ``y_pred``'s flat order: the dict keys, the model's output names
    when their count fits, else ``output_1``, ``output_2``, ..."""
    if isinstance(y_pred, dict):
        return sorted(y_pred)
    count = len(flatten(y_pred))
    if model_names and len(model_names) == count:
        return list(model_names)
    return [f"output_{i + 1}" for i in range(count)]


def _named(y_pred, model_names):
    """Whether the outputs have names (dict keys or a graph's output layers): Keras 3 logs
    unnamed outputs' losses by loss name (``mse_loss``) and their metrics unprefixed."""
    return isinstance(y_pred, dict) or bool(
        model_names and len(model_names) == len(flatten(y_pred))
    )


def _loss_log_name(entry, fn):
    if isinstance(entry, str):
        return entry
    name = getattr(fn, "name", None) or getattr(fn, "__name__", None)
    return name or type(fn).__name__


def align_targets(y_true, names, what="targets", aliases=None):
    """``y_true`` as a list with one entry (or None) per output name."""
    if y_true is None:
        return [None] * len(names)
    if isinstance(y_true, dict):
        return _per_output(y_true, names, what, aliases=aliases)
    if isinstance(y_true, (list, tuple)) and len(names) > 1:
        return _per_output(list(y_true), names, what)
    if isinstance(y_true, (list, tuple)) and len(y_true) == 1 and len(names) == 1:
        return [y_true[0]]
    if len(names) != 1:
        raise ValueError(
            f"The model has {len(names)} outputs {names}; give the {what} as a list or a dict "
            "with one array each"
        )
    return [y_true]


def align_sample_weights(sample_weight, names, aliases=None):
    if sample_weight is None:
        return [None] * len(names)
    if isinstance(sample_weight, (dict, list, tuple)):
        return align_targets(sample_weight, names, "sample_weight", aliases)
    return [sample_weight] * len(names)


def _reduce_weighted(values, sample_weight):
    """Keras's 'sum_over_batch_size': sum of (weighted) values over their element count."""
    if sample_weight is not None:
        weight = sample_weight
        while weight.ndim < values.ndim:
            weight = ops.expand_dims(weight, -1)
        while weight.ndim > values.ndim and weight.shape[-1] == 1:
            weight = ops.squeeze(weight, -1)
        values = values * ops.cast(weight, values.dtype)
    return ops.mean(values)


class CompiledLoss:
    """The compiled loss: ``sum_i loss_weight_i * loss_i(y_true_i, y_pred_i)``.

    With several outputs it also keeps a ``Mean`` tracker per output (``<output>_loss``),
    listed in :attr:`metrics` and updated by each call, as Keras 3's ``CompileLoss``.

    Args:
        loss: one loss for every output, a list in output order, or a dict by output name;
            each a name, a function ``(y_true, y_pred)``, or a ``gpuk.losses.Loss``.
        loss_weights: None, a list, or a dict of scalars.
        output_names: the model's output names, or None to take them from the first batch.
    """

    def __init__(self, loss, loss_weights, output_names=None):
        self.loss = loss
        self.loss_weights_config = loss_weights
        self.model_output_names = list(output_names) if output_names else None
        self.built = False
        self.metrics = []
        self.aliases = None

    def build(self, output_names, aliases=None, named=True):
        self.output_names = list(output_names)
        self.aliases = aliases
        entries = _per_output(self.loss, self.output_names, "loss", aliases=aliases)
        self.losses = [None if e is None else losses_module.get(e) for e in entries]
        if all(fn is None for fn in self.losses):
            raise ValueError("compile(loss=...) names no loss for any output")
        weights = (
            [1.0] * len(self.output_names)
            if self.loss_weights_config is None
            else _per_output(
                self.loss_weights_config, self.output_names, "loss_weights", False, aliases
            )
        )
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        several = len(self.output_names) > 1
        labels = (
            self.output_names
            if named
            else [_loss_log_name(e, fn) for e, fn in zip(entries, self.losses)]
        )
        self.names = [f"{label}_loss" if several else "loss" for label in labels]
        self.metrics = (
            [Mean(name=n) for n, fn in zip(self.names, self.losses) if fn is not None]
            if several
            else []
        )
        self._trackers = iter(self.metrics)
        self._tracker_of = [
            None if fn is None else next(self._trackers, None) for fn in self.losses
        ]
        self.built = True

    def build_for(self, y_pred):
        if not self.built:
            names = output_names_for(y_pred, self.model_output_names)
            model_names = self.model_output_names
            aliases = model_names if model_names != names else None
            self.build(names, aliases, named=_named(y_pred, model_names))

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The weighted total loss (a Tensor), or None when no output has a target."""
        self.build_for(y_pred)
        preds = flatten(y_pred)
        trues = align_targets(y_true, self.output_names, aliases=self.aliases)
        weights = align_sample_weights(sample_weight, self.output_names, self.aliases)
        batch = int(preds[0].shape[0]) if preds and getattr(preds[0], "ndim", 0) else 1
        total = None
        for i, fn in enumerate(self.losses):
            if fn is None or trues[i] is None:
                continue
            if isinstance(fn, losses_module.Loss):
                value = fn(trues[i], preds[i], sample_weight=weights[i])
            else:
                value = _reduce_weighted(fn(trues[i], preds[i]), weights[i])
            if self._tracker_of[i] is not None:
                self._tracker_of[i].update_state(Tensor(value.data), sample_weight=batch)
            term = value * self.loss_weights[i] if self.loss_weights[i] != 1.0 else value
            total = term if total is None else total + term
        return total


class CompiledMetrics:
    """The metrics given to ``compile``, per output; one entry of ``model.metrics``.

    Its :meth:`result` is a dict ``{log name: value}``, flattened into the logs (Keras 3's
    ``CompileMetrics``, named ``compile_metrics``).
    """

    name = "compile_metrics"

    def __init__(self, metrics, weighted_metrics, output_names=None, losses=None):
        self._config = (metrics, weighted_metrics)
        self.model_output_names = list(output_names) if output_names else None
        self._losses = losses
        self.entries = []  # (output index, Metric, weighted)
        self.built = False
        self.aliases = None

    def build(self, output_names, aliases=None, named=True):
        self.output_names = list(output_names)
        self.aliases = aliases
        losses = self._losses
        if isinstance(losses, CompiledLoss):
            losses = losses.losses if losses.built else None
        losses = losses or [None] * len(self.output_names)
        if len(losses) != len(self.output_names):
            losses = [losses[0]] * len(self.output_names)
        metrics, weighted_metrics = self._config
        self.entries = []
        for source, weighted in ((metrics, False), (weighted_metrics, True)):
            if source is None:
                continue
            if isinstance(source, dict):
                per_output = _per_output(source, self.output_names, "metrics", aliases=aliases)
            elif (
                isinstance(source, (list, tuple))
                and source
                and all(isinstance(m, (list, tuple)) or m is None for m in source)
            ):
                per_output = _per_output(list(source), self.output_names, "metrics")
            else:
                per_output = [source] * len(self.output_names)
            for i, items in enumerate(per_output):
                if items is None:
                    continue
                items = items if isinstance(items, (list, tuple)) else [items]
                for identifier in items:
                    metric, name = metrics_module.resolve_metric(identifier, loss=losses[i])
                    if len(self.output_names) > 1 and named:
                        metric.name = f"{self.output_names[i]}_{name}"
                    self.entries.append((i, metric, weighted))
        self.built = True

    @property
    def metrics(self):
        """The individual Metric objects."""
        return [metric for _, metric, _ in self.entries]

    @property
    def names(self):
        return [metric.name for _, metric, _ in self.entries]

    @property
    def variables(self):
        return [v for metric in self.metrics for v in metric.variables]

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            names = output_names_for(y_pred, self.model_output_names)
            model_names = self.model_output_names
            aliases = model_names if model_names != names else None
            self.build(names, aliases, named=_named(y_pred, model_names))
        preds = flatten(y_pred)
        trues = align_targets(y_true, self.output_names, aliases=self.aliases)
        weights = align_sample_weights(sample_weight, self.output_names, self.aliases)
        for i, metric, weighted in self.entries:
            if trues[i] is None:
                continue
            pred = preds[i]
            if isinstance(pred, Tensor) and pred.requires_grad:
                mask = getattr(pred, "_keras_mask", None)
                pred = Tensor(pred.data)
                if mask is not None:
                    pred._keras_mask = mask
            metric.update_state(trues[i], pred, sample_weight=weights[i] if weighted else None)

    def result(self):
        return {metric.name: metric.result() for _, metric, _ in self.entries}

    def reset_state(self):
        for _, metric, _ in self.entries:
            metric.reset_state()

    def __repr__(self):
        return f"<CompiledMetrics {self.names}>"
