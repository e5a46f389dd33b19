"""pytest plugin: force the chunked, multi-threaded DNN code paths that only run at AlexNet sizes,
so the small shapes of tests/test_dnn_builtins.py exercise them too (used by test_dnn_parallel.py)."""


def pytest_configure(config):
    from dmlpy.builtins import dnn_conv, dnn_parallel, dnn_pool
    dnn_parallel.MIN_PARALLEL_FLOPS = 0
    dnn_conv.MIN_CHUNK_COLUMNS = 1
    dnn_pool.CHUNK_CELLS = 1
    dnn_parallel._cores = lambda: 3
