"""Talking to a running firmware: a generated project's envs (envs, ports), building and starting
them (runner), the serial link (transport, protocol), the reference interpreters (reference), and
`microforge verify` (verify, verify_report). The pytest plugin (microforge.harness) builds on it."""
