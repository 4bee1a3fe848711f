"""gpuk.losses names: Keras's aliases (the same function objects), tf.keras 2's extra names,
get()/serialize()/deserialize() and their errors (gpuk/losses/__init__.py, issue 18)."""

import inspect

import pytest

from gpuk import losses

# alias -> function name; Keras 3.15's losses.get resolves the first group, tf.keras 2 the rest.
KERAS_ALIASES = {
    "mse": "mean_squared_error",
    "MSE": "mean_squared_error",
    "mae": "mean_absolute_error",
    "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "MSLE": "mean_squared_logarithmic_error",
    "kld": "kl_divergence",
    "KLD": "kl_divergence",
    "bce": "binary_crossentropy",
    "BCE": "binary_crossentropy",
}
TF_KERAS_ALIASES = {
    "kullback_leibler_divergence": "kl_divergence",
    "logcosh": "log_cosh",
    "cosine_proximity": "cosine_similarity",
    "huber_loss": "huber",
}


@pytest.mark.parametrize("alias", sorted({**KERAS_ALIASES, **TF_KERAS_ALIASES}))
def test_aliases_resolve_to_the_same_function(alias):
    name = {**KERAS_ALIASES, **TF_KERAS_ALIASES}[alias]
    fn = getattr(losses, name)
    assert fn.__name__ == name
    assert losses.get(alias) is fn
    assert losses.deserialize(alias) is fn
    if alias not in ("bce", "BCE"):
        assert getattr(losses, alias) is fn


def test_every_function_and_class_resolves_by_its_own_name():
    for name in losses.__all__:
        if name in ("bce", "BCE"):  # get() names only, as in Keras
            continue
        obj = getattr(losses, name)
        if name in ("Reduction", "deserialize", "get", "reduce_weighted_values", "serialize"):
            continue
        if name in ("Loss", "LossFunctionWrapper"):
            continue
        got = losses.get(name)
        if inspect.isclass(obj):
            assert type(got) is obj, name
        else:
            assert got is obj, name


def test_get_passes_instances_and_functions_through_and_builds_classes():
    assert losses.get(None) is None
    instance = losses.Huber(delta=3.0)
    assert losses.get(instance) is instance
    assert losses.get(losses.mean_squared_error) is losses.mean_squared_error
    assert type(losses.get(losses.Dice)) is losses.Dice
    built = losses.get({"class_name": "Tversky", "config": {"alpha": 0.2, "beta": 0.8}})
    assert (type(built), built.alpha, built.beta) == (losses.Tversky, 0.2, 0.8)


def test_serialize_round_trips():
    assert losses.deserialize(losses.serialize(losses.poisson)) is losses.poisson
    config = losses.serialize(losses.CategoricalCrossentropy(label_smoothing=0.1, name="cc"))
    assert config["class_name"] == "CategoricalCrossentropy"
    rebuilt = losses.deserialize(config)
    assert rebuilt.label_smoothing == 0.1 and rebuilt.name == "cc"


def test_unknown_identifiers_are_errors():
    with pytest.raises(ValueError, match="nope"):
        losses.get("nope")
    with pytest.raises(TypeError, match=r"Could not interpret loss identifier: 42"):
        losses.get(42)


def test_star_import_works_for_losses_and_metrics():
    # __all__ must name only attributes (get()-only names such as 'bce' are not ones).
    for module in ("gpuk.losses", "gpuk.metrics"):
        namespace = {}
        exec(f"from {module} import *", namespace)
        assert "get" in namespace and "deserialize" in namespace


# Keras 3.15's loss functions (keras.losses namespace); get() resolves each by its name.
KERAS_FUNCTIONS = """binary_crossentropy binary_focal_crossentropy categorical_crossentropy
categorical_focal_crossentropy categorical_generalized_cross_entropy categorical_hinge circle
cosine_similarity ctc dice hinge huber kl_divergence log_cosh mean_absolute_error
mean_absolute_percentage_error mean_squared_error mean_squared_logarithmic_error poisson
sparse_categorical_crossentropy squared_hinge tversky""".split()
KERAS_CLASSES = """BinaryCrossentropy BinaryFocalCrossentropy CTC CategoricalCrossentropy
CategoricalFocalCrossentropy CategoricalGeneralizedCrossEntropy CategoricalHinge Circle
CosineSimilarity Dice Hinge Huber KLDivergence LogCosh MeanAbsoluteError
MeanAbsolutePercentageError MeanSquaredError MeanSquaredLogarithmicError Poisson
SparseCategoricalCrossentropy SquaredHinge Tversky""".split()


def test_every_keras_loss_name_resolves():
    for name in KERAS_FUNCTIONS:
        assert losses.get(name) is getattr(losses, name), name
        assert name in losses.__all__, name
    for name in KERAS_CLASSES:
        assert type(losses.get(name)) is getattr(losses, name), name
        assert name in losses.__all__, name
