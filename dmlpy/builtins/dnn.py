"""Deep-learning builtins of DML (SystemDS 3.4.0 semantics), one module per family.

Importing this module registers all of them:
  dnn_conv     conv2d, conv2d_backward_filter, conv2d_backward_data
  dnn_pool     max_pool, max_pool_backward, avg_pool, avg_pool_backward
  dnn_channel  bias_add, bias_multiply, batch_norm2d, batch_norm2d_backward
  dnn_lstm     lstm, lstm_backward
In DML the shape arguments are named-only list literals, e.g.
``conv2d(X, W, input_shape=[N,C,H,W], filter_shape=[K,C,R,S], stride=[1,1], padding=[0,0])``;
all of stride, padding, input_shape and filter_shape/pool_size are required.
"""
from . import dnn_channel, dnn_conv, dnn_lstm, dnn_pool  # noqa: F401  (registration)
