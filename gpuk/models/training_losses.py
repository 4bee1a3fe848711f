"""What ``compile`` sets up: per-output losses with their weights, and per-output metrics."""

from gpuk import losses as losses_module
from gpuk import metrics as metrics_module
from gpuk import ops


def _per_output(value, output_names, what, allow_single=True):
    """Spread ``value`` (one item, a list in output order, or a dict by name) over the outputs."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(output_names))
        if unknown:
            raise ValueError(
                f"Unknown output names {unknown} in {what}; the model's outputs are {output_names}"
            )
        return [value.get(name) for name in output_names]
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
    """The total loss: sum over outputs of ``loss_weight * loss`` (plus regularization).

    Args:
        loss: one loss for every output, a list in output order, or a dict by output name;
            each a name, a function ``(y_true, y_pred)``, or a ``gpuk.losses.Loss``.
        loss_weights: None, a list, or a dict of scalars.
        output_names: the model's output names.
    """

    def __init__(self, loss, loss_weights, output_names):
        self.output_names = list(output_names)
        entries = _per_output(loss, self.output_names, "loss")
        self.losses = [None if e is None else losses_module.get(e) for e in entries]
        if all(fn is None for fn in self.losses):
            raise ValueError("compile(loss=...) names no loss for any output")
        weights = (
            [1.0] * len(self.output_names)
            if loss_weights is None
            else _per_output(loss_weights, self.output_names, "loss_weights", allow_single=False)
        )
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        self.names = [
            f"{name}_loss" if len(self.output_names) > 1 else "loss" for name in self.output_names
        ]

    def __call__(self, y_true, y_pred, sample_weight=None, regularization=()):
        """Return ``(total, [per-output loss or None])`` as Tensors."""
        total, per_output = None, []
        for i, fn in enumerate(self.losses):
            if fn is None or y_true[i] is None:
                per_output.append(None)
                continue
            weight = None if sample_weight is None else sample_weight[i]
            if isinstance(fn, losses_module.Loss):
                value = fn(y_true[i], y_pred[i], sample_weight=weight)
            else:
                value = _reduce_weighted(fn(y_true[i], y_pred[i]), weight)
            per_output.append(value)
            term = value * self.loss_weights[i] if self.loss_weights[i] != 1.0 else value
            total = term if total is None else total + term
        for extra in regularization:
            total = total + ops.sum(extra)
        return total, per_output


class CompiledMetrics:
    """Stateful metric objects per output, named the way Keras logs them."""

    def __init__(self, metrics, weighted_metrics, output_names, losses):
        self.output_names = list(output_names)
        self.entries = []  # (output index, log name, Metric, weighted)
        for source, weighted in ((metrics, False), (weighted_metrics, True)):
            if source is None:
                continue
            if isinstance(source, dict):
                per_output = _per_output(source, self.output_names, "metrics")
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
                    if len(self.output_names) > 1:
                        name = f"{self.output_names[i]}_{name}"
                    self.entries.append((i, name, metric, weighted))
        self.names = [name for _, name, _, _ in self.entries]

    def update(self, y_true, y_pred, sample_weight=None):
        for i, _, metric, weighted in self.entries:
            if y_true[i] is None:
                continue
            weight = sample_weight[i] if (weighted and sample_weight is not None) else None
            metric.update_state(y_true[i], y_pred[i], sample_weight=weight)

    def results(self):
        return [metric.result() for _, _, metric, _ in self.entries]

    def reset(self):
        for _, _, metric, _ in self.entries:
            metric.reset_state()
