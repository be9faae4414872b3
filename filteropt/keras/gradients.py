"""Gradients as Keras hands them to an optimizer: dense tensors, or on
TensorFlow row slices (``tf.IndexedSlices``, an embedding's gradient), and
whether a step's gradients are finite, agreed across replicas."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["all_finite", "dense", "is_indexed_slices", "slices", "sparse_rows"]


def all_finite(grads):
    """True when every gradient is finite, agreed across replicas."""
    flags = [ops.all(ops.isfinite(dense(g))) for g in grads if g is not None]
    finite = ops.all(ops.stack(flags)) if flags else ops.convert_to_tensor(True)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            bad = ctx.all_reduce(
                tf.distribute.ReduceOp.SUM, tf.cast(tf.logical_not(finite), tf.int32)
            )
            finite = tf.equal(bad, 0)
    return finite


def is_indexed_slices(gradient):
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return isinstance(gradient, tf.IndexedSlices)


def dense(gradient):
    if is_indexed_slices(gradient):
        import tensorflow as tf

        return tf.convert_to_tensor(gradient)
    return gradient


def sparse_rows(gradient):
    """``(values, indices, dense_shape)`` of a row-sparse gradient with its
    duplicate indices summed (as the dense gradient has them), else None."""
    if not is_indexed_slices(gradient):
        return None
    import tensorflow as tf

    unique, position = tf.unique(gradient.indices)
    values = tf.math.unsorted_segment_sum(gradient.values, position, tf.shape(unique)[0])
    return values, unique, gradient.dense_shape


def slices(values, indices, dense_shape):
    import tensorflow as tf

    return tf.IndexedSlices(values, indices, dense_shape)
