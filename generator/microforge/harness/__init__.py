"""The microforge pytest plugin: builds a generated project, runs it on host, QEMU or a board,
and checks it bit-exactly against the reference interpreter."""
