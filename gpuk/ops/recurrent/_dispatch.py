"""Choose, per call, the fused kernel, the whole-sequence Function or the composed oracle."""

import importlib
import inspect

import numpy as np

from gpuk._array import get_array_module
from gpuk.ops.recurrent._common import (
    _data,
)

# ----------------------------------------------------------------------------- dispatch


def _fused_module(cell):
    try:
        return importlib.import_module(f"gpuk.ops.fused.{cell}")
    except ImportError:
        return None


# gpuk.ops.fused spells the Keras 2 hard sigmoid "hard_sigmoid_tf".
_FUSED_NAMES = {"hard_sigmoid_legacy": "hard_sigmoid_tf"}


def _fused_name(activation):
    return _FUSED_NAMES.get(activation, activation)


def _kernels_emulated():
    """Whether the tests' CPU CUDA emulator serves the kernels (then NumPy arrays run them)."""
    from gpuk.ops.fused import launch  # noqa: PLC0415 - the fused package is optional

    return launch._provider["function"] is not None


def _choose(cell, fused, inputs, config):
    """The fused module's op when it should run, else None; raises for ``fused=True`` misses.

    ``supports`` gets the keywords of ``config`` it declares (plus ``xp``); the op is
    ``<cell>_fused`` (or ``<cell>``) of ``gpuk.ops.fused.<cell>``.
    """
    if fused not in ("auto", True, False):
        raise ValueError(f"{cell}: fused must be 'auto', True or False, received {fused!r}")
    if fused is False:
        return None
    reason = None
    module = None
    if get_array_module(_data(inputs)) is np and not _kernels_emulated():
        reason = "the inputs are not CuPy (GPU) arrays"
    else:
        module = _fused_module(cell)
        if module is None:
            reason = f"gpuk.ops.fused.{cell} is not available"
    if module is not None:
        op = getattr(module, f"{cell}_fused", None) or getattr(module, cell, None)
        params = inspect.signature(module.supports).parameters
        args = dict(config, xp=get_array_module(_data(inputs)))
        for key in ("activation", "recurrent_activation"):
            args[key] = _fused_name(args.get(key))
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            args = {k: v for k, v in args.items() if k in params}
        ok, why = module.supports(**args)
        if ok and op is not None:
            return op
        reason = f"the fused kernel does not support this configuration: {why}"
    if fused is True:
        raise ValueError(f"{cell}: fused=True was requested, but {reason}")
    return None


def _config(cell, inputs, units, mask, bias, **extra):
    data = _data(inputs)
    batch, timesteps, features = data.shape
    return dict(
        cell=cell,
        dtype=np.dtype(data.dtype).name,
        batch_size=batch,
        timesteps=timesteps,
        input_dim=features,
        units=units,
        use_bias=bias is not None,
        has_mask=mask is not None,
        **extra,
    )


def _named(*activations):
    return all(isinstance(a, str) for a in activations)


def _dispatch(
    cell,
    sequence,
    composed,
    inputs,
    kernel,
    recurrent_kernel,
    bias,
    states,
    mask,
    given_state,
    fused,
    go_backwards,
    dropout=None,
    **cell_params,
):
    """Run one recurrent cell over a sequence with the best of the three versions.

    The fused kernel when ``fused`` allows it and it supports the configuration, else the
    whole-sequence Function (named activations), else the composed step-by-step oracle (any
    activation callable). ``cell_params`` are the activation names and cell options
    (``reset_after``) that every version takes. ``dropout``: the dropout-mask keywords of the
    fused and composed ops (``input_dropout_mask(s)``, ``recurrent_dropout_mask(s)``) when any
    is given; the whole-sequence Functions have none, so without a kernel they run composed.
    """
    dropout = {k: v for k, v in (dropout or {}).items() if v is not None}
    activations = [v for k, v in cell_params.items() if k.endswith("activation")]
    if not _named(*activations):
        if fused is True:
            raise ValueError(
                f"{cell}: fused=True was requested, but activation callables need fused=False"
            )
        return composed(
            inputs,
            kernel,
            recurrent_kernel,
            bias,
            *states,
            mask,
            go_backwards=go_backwards,
            **dropout,
            **cell_params,
        )
    config = dict(recurrent_activation=None, reset_after=None)
    config.update(cell_params)
    config = _config(
        cell,
        inputs,
        recurrent_kernel.shape[0],
        mask,
        bias,
        go_backwards=go_backwards,
        has_initial_state=given_state,
        has_recurrent_dropout=any(k.startswith("recurrent_dropout") for k in dropout),
        **config,
    )
    op = _choose(cell, fused, inputs, config)
    if op is not None:
        fused_params = {
            k: _fused_name(v) if k.endswith("activation") else v for k, v in cell_params.items()
        }
        return op(
            inputs,
            kernel,
            recurrent_kernel,
            bias,
            *states,
            mask,
            go_backwards=go_backwards,
            **dropout,
            **fused_params,
        )
    if dropout:
        return composed(
            inputs,
            kernel,
            recurrent_kernel,
            bias,
            *states,
            mask,
            go_backwards=go_backwards,
            **dropout,
            **cell_params,
        )
    weights = (kernel, recurrent_kernel) + ((bias,) if bias is not None else ())
    masks = () if mask is None else (mask,)
    return sequence.apply(
        inputs,
        *weights,
        *states,
        *masks,
        go_backwards=bool(go_backwards),
        has_bias=bias is not None,
        has_mask=mask is not None,
        **cell_params,
    )
