"""keras-io ``text_classification_with_transformer`` (Keras 3 version) with ``import gpuk as
keras``: the model and training code verbatim, the IMDB download replaced by synthetic reviews
whose label is whether token 7 occurs.

Pieces another branch provides (``ops.shape``, ``ops.arange``, ``GlobalAveragePooling1D``) get
a minimal stand-in here while they are missing, only inside this test.
"""

import numpy as np
import pytest

import gpuk
import gpuk.ops
from gpuk.autograd import Tensor


def _global_average_pooling_1d():
    class GlobalAveragePooling1D(gpuk.layers.Layer):
        def call(self, inputs):
            return gpuk.ops.mean(inputs, axis=1)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], input_shape[2])

    return GlobalAveragePooling1D


@pytest.fixture
def stand_ins(monkeypatch):
    if not hasattr(gpuk.ops, "shape"):
        monkeypatch.setattr(gpuk.ops, "shape", lambda x: tuple(x.shape), raising=False)
    if not hasattr(gpuk.ops, "arange"):
        monkeypatch.setattr(
            gpuk.ops,
            "arange",
            lambda start, stop=None, step=1: Tensor(np.arange(start, stop, step)),
            raising=False,
        )
    if not hasattr(gpuk.layers, "GlobalAveragePooling1D"):
        monkeypatch.setattr(
            gpuk.layers, "GlobalAveragePooling1D", _global_average_pooling_1d(), raising=False
        )


def _synthetic_imdb(num_words, n_train=64, n_val=32, seed=0):
    rng = np.random.default_rng(seed)

    def reviews(n):
        xs, ys = [], []
        for _ in range(n):
            length = int(rng.integers(20, 60))
            seq = rng.integers(8, num_words, size=length)
            label = int(rng.integers(0, 2))
            if label:
                seq[rng.integers(0, length, size=3)] = 7
            xs.append(list(seq))
            ys.append(label)
        return xs, np.array(ys)

    return reviews(n_train), reviews(n_val)


def test_text_classification_with_transformer(stand_ins):
    import gpuk as keras
    from gpuk import layers, ops

    keras.utils.set_random_seed(1)

    # --- verbatim from keras-io examples/nlp/text_classification_with_transformer.py ---
    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential(
                [
                    layers.Dense(ff_dim, activation="relu"),
                    layers.Dense(embed_dim),
                ]
            )
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            maxlen = ops.shape(x)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            positions = self.pos_emb(positions)
            x = self.token_emb(x)
            return x + positions

    vocab_size = 20000  # Only consider the top 20k words
    maxlen = 200  # Only consider the first 200 words of each movie review
    (x_train, y_train), (x_val, y_val) = _synthetic_imdb(num_words=vocab_size)
    print(len(x_train), "Training sequences")
    print(len(x_val), "Validation sequences")
    x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
    x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

    embed_dim = 32  # Embedding size for each token
    num_heads = 2  # Number of attention heads
    ff_dim = 32  # Hidden layer size in feed forward network inside transformer

    inputs = layers.Input(shape=(maxlen,))
    embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
    x = embedding_layer(inputs)
    transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
    x = transformer_block(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))
    # --- end of the example ---

    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(np.isfinite(history.history["loss"]))
    assert model.output_shape == (None, 2)
    # MultiHeadAttention inside the block has Keras's weights.
    att = transformer_block.att
    assert [tuple(w.shape) for w in att.weights] == [
        (32, 2, 32),
        (2, 32),
        (32, 2, 32),
        (2, 32),
        (32, 2, 32),
        (2, 32),
        (2, 32, 32),
        (32,),
    ]
    probs = model.predict(x_val[:4], verbose=0)
    np.testing.assert_allclose(probs.sum(-1), 1, rtol=1e-5)
