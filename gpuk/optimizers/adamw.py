"""AdamW: Adam with decoupled weight decay (applied by the base before each update)."""

from gpuk.optimizers.adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay: ``param -= param * weight_decay * lr`` before the Adam
    update (Loshchilov & Hutter).

    Args:
        learning_rate: defaults to 0.001.
        weight_decay: defaults to 0.004; must not be None.
        beta_1, beta_2, epsilon, amsgrad: as ``Adam``.
        **kwargs: the base ``Optimizer`` arguments.
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
