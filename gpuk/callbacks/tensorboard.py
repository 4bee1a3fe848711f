"""TensorBoard: write training logs that TensorBoard reads (through tensorboardX)."""

import itertools
import os
import time
import warnings

import numpy as np

from gpuk._array import to_numpy
from gpuk.callbacks.base import Callback
from gpuk.callbacks.monitor import scalar

_WRITER_IDS = itertools.count()

_INSTALL_HINT = (
    "The TensorBoard callback writes its event files with tensorboardX, which is not "
    "installed. Install it with `pip install gpuk[tensorboard]` (or `pip install tensorboardX`)."
)


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    return SummaryWriter


def _host(variable):
    value = variable.numpy() if hasattr(variable, "numpy") else variable
    return to_numpy(value)


class TensorBoard(Callback):
    """Write TensorBoard logs: scalars per epoch (and per batch), weight histograms, the model.

    Under ``log_dir`` two runs are written, as Keras does: ``train`` (``epoch_loss``,
    ``epoch_<metric>``, ``epoch_learning_rate``, and ``batch_loss``/``batch_<metric>`` with
    ``update_freq``) and ``validation`` (``epoch_loss``, ``epoch_<metric>`` from the ``val_``
    logs, and ``evaluation_<name>_vs_iterations`` after each evaluation). Epoch scalars use the
    epoch index as step, batch scalars the global batch count. Needs ``tensorboardX``
    (``pip install gpuk[tensorboard]``); view with ``tensorboard --logdir <log_dir>``.

    Args:
        log_dir: the folder holding the ``train`` and ``validation`` runs.
        histogram_freq: every how many epochs to write a histogram of each weight
            (``<weight path>/histogram``); 0 for never.
        write_graph: write the model's Keras graph (its JSON config, shown by TensorBoard's
            graph dashboard as the conceptual graph).
        write_images: write weights as images along with the histograms.
        write_steps_per_second: write ``batch_steps_per_second``/``epoch_steps_per_second``.
        update_freq: ``"epoch"``, ``"batch"`` or an integer N: write batch scalars every N
            batches.
        profile_batch: accepted for compatibility; gpuk has no profiler trace (a warning).
        embeddings_freq: every how many epochs to save the weights for the embedding
            projector (``train/keras_embedding.ckpt-<epoch>.weights.h5``).
        embeddings_metadata: accepted for compatibility.
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
        **kwargs,
    ):
        super().__init__()
        kwargs.pop("write_grads", None)  # tf.keras 1 arguments, no effect there either
        kwargs.pop("batch_size", None)
        if kwargs:
            raise TypeError(f"TensorBoard got unexpected keyword arguments {sorted(kwargs)}")
        self._writer_class = _summary_writer_class()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (
            isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1
        ):
            raise ValueError(
                "TensorBoard: `update_freq` must be 'epoch', 'batch' or a positive integer. "
                f"Received: update_freq={update_freq!r}"
            )
        self.update_freq = update_freq
        if profile_batch not in (0, None, "0", (0, 0), [0, 0]):
            warnings.warn(
                "TensorBoard: gpuk does not write profiler traces; ignoring "
                f"profile_batch={profile_batch!r}",
                stacklevel=2,
            )
        self.profile_batch = profile_batch
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers = {}
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0
        self._graph_written = False
        self._in_fit = False

    # ------------------------------------------------------------------ writers
    def _writer(self, which):
        if which not in self._writers:
            folder = self._train_dir if which == "train" else self._val_dir
            # TensorFlow's summary writers flush every 10 s; tensorboardX defaults to 120 s.
            # A unique suffix (as TensorFlow's writers have): tensorboardX names files by the
            # second, so two writers opened in one second would otherwise share a file.
            suffix = f".{os.getpid()}.{next(_WRITER_IDS)}"
            self._writers[which] = self._writer_class(
                logdir=folder, flush_secs=10, filename_suffix=suffix
            )
        return self._writers[which]

    def _close_writers(self):
        # tensorboardX's flush() does not drain its queue; close() does.
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _close_writer(self, which):
        writer = self._writers.pop(which, None)
        if writer is not None:
            writer.close()

    def _scalar(self, which, tag, value, step):
        try:
            value = scalar(value)
        except (TypeError, ValueError):
            return  # a non-scalar log (e.g. a vector metric) has no scalar chart
        self._writer(which).add_scalar(tag, value, global_step=int(step))

    def set_model(self, model):
        super().set_model(model)
        self._graph_written = False

    def _write_keras_graph(self):
        """The model's JSON as Keras's ``graph_keras_model`` summary (tag ``keras``)."""
        self._graph_written = True
        to_json = getattr(self.model, "to_json", None)
        if to_json is None:
            return
        try:
            config = to_json()
        except Exception as error:  # noqa: BLE001 - a summary must never stop training
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {error}", stacklevel=3)
            return
        try:
            from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
            from tensorboardX.proto.tensor_pb2 import TensorProto
            from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
        except ImportError:
            return
        metadata = SummaryMetadata(
            plugin_data=SummaryMetadata.PluginData(plugin_name="graph_keras_model", content=b"1")
        )
        tensor = TensorProto(
            dtype="DT_STRING",
            string_val=[config.encode("utf-8")],
            tensor_shape=TensorShapeProto(),
        )
        summary = Summary(value=[Summary.Value(tag="keras", metadata=metadata, tensor=tensor)])
        self._writer("train")._get_file_writer().add_summary(summary, 0)

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        self._in_fit = True
        self._global_train_batch = 0
        if self.write_graph and not self._graph_written:
            self._write_keras_graph()

    def on_train_end(self, logs=None):
        self._in_fit = False
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_time = time.time()
            self._epoch_start_iterations = self._iterations()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq != 0:
            return
        step = self._global_train_batch
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._batch_start_time, 1e-12)
            self._scalar("train", "batch_steps_per_second", 1.0 / elapsed, step)
        for name, value in (logs or {}).items():
            self._scalar("train", f"batch_{name}", value, step)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "iterations") or not logs:
            return
        step = self._iterations()
        for name, value in logs.items():
            self._scalar("validation", f"evaluation_{name}_vs_iterations", value, step)
        if not self._in_fit:  # a standalone evaluate(): write the events out now
            self._close_writer("validation")

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            path = os.path.join(self._train_dir, f"keras_embedding.ckpt-{epoch}.weights.h5")
            os.makedirs(self._train_dir, exist_ok=True)
            self.model.save_weights(path)
        for writer in self._writers.values():
            writer.flush()

    # ------------------------------------------------------------------ helpers
    def _iterations(self):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "iterations"):
            return 0
        return int(scalar(optimizer.iterations))

    def _learning_rates(self):
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if optimizer is None:
            return {}
        inner = getattr(optimizer, "optimizers", None)
        try:
            if inner:
                return {f"learning_rate_{o.name}": scalar(o.learning_rate) for o in inner}
            if hasattr(optimizer, "learning_rate"):
                return {"learning_rate": scalar(optimizer.learning_rate)}
        except (TypeError, ValueError):
            pass
        return {}

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        train_logs.update(self._learning_rates())
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start_time, 1e-12)
            steps = self._iterations() - self._epoch_start_iterations
            train_logs["steps_per_second"] = steps / elapsed
        for name, value in train_logs.items():
            self._scalar("train", f"epoch_{name}", value, epoch)
        for name, value in val_logs.items():
            self._scalar("validation", f"epoch_{name}", value, epoch)

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in getattr(self.model, "layers", []):
            for weight in layer.weights:
                name = (getattr(weight, "path", None) or weight.name).replace(":", "_")
                values = _host(weight)
                if values.size == 0:
                    continue
                writer.add_histogram(f"{name}/histogram", values, global_step=epoch)
                if self.write_images:
                    self._log_weight_as_image(writer, values, f"{name}/image", epoch)

    @staticmethod
    def _log_weight_as_image(writer, values, tag, epoch):
        image = np.squeeze(values).astype(np.float32)
        if image.ndim == 1:
            image = image.reshape(1, image.shape[0], 1, 1)
        elif image.ndim == 2:
            if image.shape[0] > image.shape[1]:
                image = image.T
            image = image.reshape(1, image.shape[0], image.shape[1], 1)
        elif image.ndim == 3:
            image = np.transpose(image, (2, 0, 1))[..., None]  # channels_last kernels
        else:
            return
        writer.add_images(tag, image, global_step=epoch, dataformats="NHWC")  # one channel
