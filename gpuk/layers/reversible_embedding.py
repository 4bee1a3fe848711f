"""``ReversibleEmbedding``: an embedding that can also project back to the vocabulary."""

from gpuk import ops
from gpuk.autograd import Tensor, as_array
from gpuk.layers.core import Embedding
from gpuk.layers.serialization import register_layer_class


class ReversibleEmbedding(Embedding):
    """Keras 3's ``ReversibleEmbedding``: ``layer(ids)`` embeds token ids;
    ``layer(hidden, reverse=True)`` gives logits over the vocabulary, ``hidden @
    embeddings.T`` (tied) or ``hidden @ reverse_embeddings`` (``tie_weights=False``).

    Args:
        input_dim: vocabulary size. output_dim: embedding size.
        tie_weights: True: reuse ``embeddings`` for the reverse projection; False: a separate
            ``reverse_embeddings`` weight ``(output_dim, input_dim)``.
        embeddings_initializer, embeddings_regularizer, embeddings_constraint, mask_zero: as
            ``Embedding``.
        reverse_dtype: dtype of the reverse matmul (None: the compute dtype).
        logit_soft_cap: if set, logits become ``tanh(logits / cap) * cap``.
        **kwargs: base layer arguments.
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        tie_weights=True,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        reverse_dtype=None,
        logit_soft_cap=None,
        **kwargs,
    ):
        super().__init__(
            input_dim,
            output_dim,
            embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            embeddings_constraint=embeddings_constraint,
            mask_zero=mask_zero,
            **kwargs,
        )
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap
        self._reversed_call = False

    def build(self, input_shape=None):
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                name="reverse_embeddings",
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
            )
        self.built = True

    def _convert_input(self, value):
        if isinstance(value, Tensor):
            return value
        array = as_array(value)
        if array.dtype.kind == "f":
            return super(Embedding, self)._convert_input(value)
        return Tensor(array)

    def call(self, inputs, reverse=False):
        self._reversed_call = bool(reverse)
        if not reverse:
            return super().call(inputs)
        kernel = ops.transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            inputs = ops.cast(inputs, self.reverse_dtype)
            kernel = ops.cast(kernel, self.reverse_dtype)
        logits = ops.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            cap = self.logit_soft_cap
            logits = ops.tanh(logits / cap) * cap
        return logits

    def compute_mask(self, inputs, mask=None):
        if self._reversed_call:
            return None
        return super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return (*tuple(input_shape)[:-1], self.input_dim)
        return super().compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap,
            }
        )
        return config


register_layer_class(ReversibleEmbedding)
