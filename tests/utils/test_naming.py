"""One home for automatic names (gpuk.utils.naming): Keras's snake case and one counter that
every clear_session resets, for layers, models and optimizers alike."""

import pytest

import gpuk
from gpuk.utils import naming


@pytest.mark.parametrize(
    "class_name, expected",
    [
        ("Dense", "dense"),
        ("GRUCell", "gru_cell"),
        ("ReLU", "re_lu"),
        ("Conv2D", "conv2d"),
        ("ConvLSTM2D", "conv_lstm2d"),
        ("AUC", "auc"),
        ("CSVLogger", "csv_logger"),
        ("RGBToGrayscale", "rgb_to_grayscale"),
        ("MeanSquaredError", "mean_squared_error"),
    ],
)
def test_to_snake_case_is_keras_rule(class_name, expected):
    # expected values are keras.src.utils.naming.to_snake_case's (Keras 3.15)
    assert naming.to_snake_case(class_name) == expected


def test_every_object_kind_uses_the_one_rule():
    class MyFancyLoss2D(gpuk.losses.Loss):
        def call(self, y_true, y_pred):
            return y_pred

    class MyFancyMetric2D(gpuk.metrics.Mean):
        pass

    assert MyFancyLoss2D().name == "my_fancy_loss2d"
    assert MyFancyMetric2D().name == "my_fancy_metric2d"


def test_clear_session_resets_layer_and_optimizer_names():
    gpuk.utils.clear_session()
    assert gpuk.layers.Dense(1).name == "dense"
    assert gpuk.layers.Dense(1).name == "dense_1"
    assert gpuk.optimizers.Adam().name == "adam"
    assert gpuk.optimizers.Adam().name == "adam_1"
    gpuk.backend.clear_session()
    assert gpuk.layers.Dense(1).name == "dense"
    assert gpuk.optimizers.Adam().name == "adam"
    assert naming.auto_name("SGD") == "sgd"
    assert naming.unique_name("sgd") == "sgd_1"


def test_layer_dtype_rule_and_policy_names():
    from gpuk.utils import dtypes

    policy = {"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}
    assert dtypes.policy_dtype_name(policy) == "mixed_float16"
    assert dtypes.policy_dtype_name({"config": {}}, "float32") == "float32"
    assert dtypes.policy_dtype_name("float64") == "float64"
    assert dtypes.standardize_layer_dtype(policy) == "float32"
    assert dtypes.standardize_layer_dtype("f8") == "float64"  # any NumPy spelling
    with pytest.raises(ValueError):
        dtypes.standardize_dtype("f8")  # Keras's public rule is strict
