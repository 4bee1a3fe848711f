"""gpuk's public namespaces against Keras 3.15's (names Keras printed, committed in
tests/fixtures/keras/namespaces/all.json by tools/keras_namespaces_all.py), and the small
functions added to complete them, against values Keras computed."""

import json
import pathlib

import numpy as np
import pytest

import gpuk

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "keras" / "namespaces"
KERAS_NAMES = json.loads((FIXTURES / "all.json").read_text())
VALUES = json.loads((FIXTURES / "small_values.json").read_text())

_QUANTIZED = "quantization (int4/int8/float8, GPTQ, AWQ) is not implemented in gpuk"
_JAX_ONLY = "JAX/TensorFlow tracing machinery with no meaning in an eager library"
#: Keras names gpuk deliberately lacks, by namespace, with the reason.
ABSENT = {
    "keras": {
        "Function": _JAX_ONLY,
        "Operation": _JAX_ONLY,
        "Quantizer": _QUANTIZED,
        "RematScope": _JAX_ONLY,
        "StatelessScope": _JAX_ONLY,
        "SymbolicScope": _JAX_ONLY,
        "remat": _JAX_ONLY,
    },
    "dtype_policies": {
        "AWQDTypePolicy": _QUANTIZED,
        "DTypePolicyMap": "per-layer policy maps come with quantization",
        "GPTQDTypePolicy": _QUANTIZED,
        "Int4DTypePolicy": _QUANTIZED,
        "QuantizedDTypePolicy": _QUANTIZED,
        "QuantizedFloat8DTypePolicy": _QUANTIZED,
    },
    "layers": {
        "FlaxLayer": "wraps a Flax module: needs JAX",
        "JaxLayer": "wraps a JAX function: needs JAX",
        "TFSMLayer": "loads a TensorFlow SavedModel: needs TensorFlow",
        "TorchModuleWrapper": "wraps a torch.nn.Module: needs PyTorch",
    },
    "saving": {"KerasFileEditor": "not implemented yet"},
}


@pytest.mark.parametrize("namespace", sorted(KERAS_NAMES))
def test_namespace_has_keras_names(namespace):
    module = gpuk if namespace == "keras" else getattr(gpuk, namespace)
    names = KERAS_NAMES[namespace]
    absent = ABSENT.get(namespace, {})
    assert set(absent) <= set(names), "ABSENT lists names Keras does not have"
    missing = [n for n in names if not callable(getattr(module, n, None)) and n not in absent]
    assert missing == [], f"gpuk.{namespace} lacks {missing}"
    present = len(names) - len([n for n in absent if not callable(getattr(module, n, None))])
    if namespace not in ("keras", "dtype_policies", "saving"):  # see ABSENT
        assert present >= 0.95 * len(names), f"{present}/{len(names)}"


@pytest.mark.parametrize("a, b, expected", VALUES["result_type"])
def test_result_type_follows_keras(a, b, expected):
    assert gpuk.backend.result_type(a, b) == expected


def test_backend_dtype_helpers_and_uid():
    assert gpuk.backend.is_float_dtype("bfloat16") and not gpuk.backend.is_float_dtype("int8")
    assert gpuk.backend.is_int_dtype("uint16") and not gpuk.backend.is_int_dtype("bool")
    assert gpuk.backend.standardize_dtype(np.float64) == "float64"
    gpuk.backend.clear_session()
    assert [gpuk.backend.get_uid("x"), gpuk.backend.get_uid("x"), gpuk.backend.get_uid()] == [
        1,
        2,
        1,
    ]
    gpuk.backend.clear_session()
    assert gpuk.backend.get_uid("x") == 1


def test_stft_initializer_equals_keras():
    real = gpuk.initializers.get("stft")((8, 1, 5))
    np.testing.assert_allclose(real, VALUES["stft_real"], atol=1e-6)
    imag = gpuk.initializers.STFTInitializer("imag", "hamming", "spectrum", True)((6, 2, 4))
    np.testing.assert_allclose(imag, VALUES["stft_imag_spectrum"], atol=1e-6)
    config = gpuk.initializers.serialize(gpuk.initializers.STFT("imag"))
    assert gpuk.initializers.deserialize(config).side == "imag"
    with pytest.raises(ValueError, match="side should be"):
        gpuk.initializers.STFT("both")


def test_sparsemax_equals_keras():
    x = np.array([[0.1, 2.0, 1.5, -1.0], [0.0, 0.0, 0.0, 3.0]], "float32")
    out = gpuk.activations.get("sparsemax")(x)
    np.testing.assert_allclose(gpuk.ops.convert_to_numpy(out), VALUES["sparsemax"], atol=1e-6)


def test_config_limits_on_fit():
    model = gpuk.Sequential([gpuk.Input((2,)), gpuk.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")
    gpuk.config.set_max_epochs(2)
    gpuk.config.set_max_steps_per_epoch(1)
    try:
        history = model.fit(x, y, epochs=5, batch_size=2, verbose=0)
        assert len(history.history["loss"]) == 2
        assert int(model.optimizer.iterations.numpy()) == 2
    finally:
        gpuk.config.set_max_epochs(None)
        gpuk.config.set_max_steps_per_epoch(None)
    assert gpuk.config.max_epochs() is None


def test_config_switches_and_backend():
    assert gpuk.config.backend() == "gpuk"
    gpuk.config.set_backend("gpuk")
    with pytest.raises(ValueError, match="cannot switch to 'jax'"):
        gpuk.config.set_backend("jax")
    gpuk.config.disable_traceback_filtering()
    assert not gpuk.config.is_traceback_filtering_enabled()
    gpuk.config.enable_traceback_filtering()
    gpuk.config.enable_flash_attention()
    assert gpuk.config.is_flash_attention_enabled()
    gpuk.config.disable_flash_attention()
    assert not gpuk.config.is_nnx_enabled()
    previous = gpuk.config.dtype_policy()
    gpuk.config.set_dtype_policy("mixed_float16")
    try:
        assert gpuk.config.dtype_policy().name == "mixed_float16"
    finally:
        gpuk.config.set_dtype_policy(previous)


def test_unsafe_deserialization_switch_lets_lambda_bytecode_load(tmp_path):
    from gpuk import _config

    inputs = gpuk.Input((2,))
    model = gpuk.Model(inputs, gpuk.layers.Lambda(lambda t: t * 2)(inputs))
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        gpuk.models.load_model(path)
    gpuk.config.enable_unsafe_deserialization()
    try:
        loaded = gpuk.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(np.ones((1, 2)), verbose=0), [[2.0, 2.0]])
    finally:
        _config._state["unsafe_deserialization"] = False


def test_top_level_names():
    assert gpuk.version() == gpuk.__version__
    assert gpuk.Loss is gpuk.losses.Loss and gpuk.Metric is gpuk.metrics.Metric
    assert gpuk.KerasTensor is gpuk.layers.KerasTensor
    with gpuk.name_scope("block") as outer, gpuk.name_scope("inner") as inner:
        assert inner.parent is outer and outer.name == "block"
    previous = gpuk.config.device()
    with gpuk.device("cpu:0"):
        assert gpuk.config.device() == "cpu"
    assert gpuk.config.device() == previous
    with pytest.raises(ValueError, match="Invalid device name"):
        with gpuk.device("tpu:0"):
            pass
