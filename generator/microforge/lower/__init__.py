"""Lowering a model for the runtime: what the generator computes at build time so the device does
little. memory_plan (arena offsets), requant (per-channel requantization), constant_records (the
constant tensors' runtime records), planned_ops (each node's params and op data, as the kernels'
prepare would compute them), wide_filters (CONV_2D filters widened for the fast kernels),
build_flags (the kernel variants the model needs), limits (the kernels' limits, read from the
runtime), and lowering: all of it computed once per model and board set."""
