"""PyTorch twins of the Keras models the CPU benchmarks time (bench_cpu.py, bench_overhead.py).

``torch`` is imported inside :func:`denoiser` so that a gpuk-only process never loads it.
"""


def step_gru_class():
    """Keras's GRU (reset_after=True) as a per-time-step loop, any activation (``nn.GRU`` has
    tanh only)."""
    import torch

    class StepGRU(torch.nn.Module):
        def __init__(self, inputs, units, activation):
            super().__init__()
            self.units, self.activation = units, activation
            self.kernel = torch.nn.Linear(inputs, 3 * units)
            self.recurrent = torch.nn.Linear(units, 3 * units)

        def forward(self, x):
            h = x.new_zeros(x.shape[0], self.units)
            projected = self.kernel(x)
            outputs = []
            for t in range(x.shape[1]):
                xz, xr, xh = projected[:, t].chunk(3, dim=-1)
                hz, hr, hh = self.recurrent(h).chunk(3, dim=-1)
                z, r = torch.sigmoid(xz + hz), torch.sigmoid(xr + hr)
                h = z * h + (1 - z) * self.activation(xh + r * hh)
                outputs.append(h)
            return torch.stack(outputs, dim=1)

    return StepGRU


def nn_gru_class():
    """``torch.nn.GRU`` (tanh) behind the same ``(inputs, units, activation)`` signature."""
    import torch

    class NNGRU(torch.nn.Module):
        def __init__(self, inputs, units, activation):
            super().__init__()
            self.gru = torch.nn.GRU(inputs, units, batch_first=True)

        def forward(self, x):
            return self.gru(x)[0]

    return NNGRU


def denoiser(gru, relu):
    """The rnnoise-style two-output denoiser: Dense 24 tanh; GRUs 24/48/96 (relu/relu/tanh when
    ``relu``, else all tanh) built by ``gru(inputs, units, activation)``; 42 features."""
    import torch

    act = torch.relu if relu else torch.tanh

    class Denoiser(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dense = torch.nn.Linear(42, 24)
            self.vad_gru = gru(24, 24, act)
            self.vad = torch.nn.Linear(24, 1)
            self.noise_gru = gru(90, 48, act)
            self.denoise_gru = gru(114, 96, torch.tanh)
            self.denoise = torch.nn.Linear(96, 22)

        def forward(self, x):
            dd = torch.tanh(self.dense(x))
            v = self.vad_gru(dd)
            n = self.noise_gru(torch.cat([dd, v, x], dim=-1))
            g = self.denoise_gru(torch.cat([v, n, x], dim=-1))
            return torch.sigmoid(self.denoise(g)), torch.sigmoid(self.vad(v))

    return Denoiser()
