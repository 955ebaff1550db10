"""Where an inference's instructions go, by function: an exact profile on an emulated board.

Runs a generated project's firmware (`microforge new --board qemu-m4`, or a project that
bench/speed.py left in its --work folder) under QEMU with one instruction per translation block
and every executed block logged (`-singlestep -d exec,nochain`), feeds it one input drawn from
bench/speed.py's seed, and maps each instruction executed during one `mf-run` to the function
that holds it (`arm-none-eabi-nm`). The total equals the firmware's own count (`m-mf-count-N`)
plus what the run command costs around it (parsing, counter reads, the result lines: a few
thousand instructions). With
--annotate NAME it also prints the disassembly of every function whose name contains NAME, with
how often each instruction ran.

Run: .venv/bin/python bench/profile.py PROJECT [--env qemu-m4] [--top 30] [--annotate NAME]

The log takes about 60 bytes per executed instruction (VWW: about 0.6 GB); it goes to a temporary
folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import bisect
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from microforge.device.envs import read_envs
from microforge.device.protocol import DeviceClient
from microforge.device.reference import to_bytes
from microforge.device.runner import build, qemu_command
from microforge.device.transport import ProcessTransport
from microforge.model import read_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import SEED, seeded_inputs  # noqa: E402

RUN_TIMEOUT = 3600.0  # host seconds: logging every instruction is slow (VWW: about a minute)

EXEC_PC = re.compile(rb"\[[0-9a-f]+/([0-9a-f]+)/")


def functions(elf: Path) -> list[tuple[int, int, str]]:
    """(start, size, name) of every function in the ELF, by address (aliases once)."""
    out = subprocess.run(["arm-none-eabi-nm", "-C", "-S", "--defined-only", str(elf)],
                         capture_output=True, text=True, check=True).stdout
    found: dict[int, tuple[int, int, str]] = {}
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in "tTwW":
            start = int(parts[0], 16) & ~1
            found.setdefault(start, (start, int(parts[1], 16), parts[3]))
    return sorted(found.values())


def executed_pcs(project: Path, env: str) -> tuple[Counter[int], Path, int]:
    """How often each instruction address ran during one inference, the ELF, and the firmware's count."""
    spec = {s.name: s for s in read_envs(project)}[env]
    if spec.kind != "emulator":
        raise SystemExit(f"env '{env}' is not an emulated board")
    build_dir = build(project, env)
    model = read_model(next((project / "model").glob("*.tflite")))
    data = to_bytes(seeded_inputs(model, SEED))
    with tempfile.TemporaryDirectory(prefix="mf-profile-") as tmp:
        log = Path(tmp) / "exec.log"
        argv = [*qemu_command(build_dir, spec), "-singlestep", "-d", "exec,nochain", "-D", str(log)]
        transport = ProcessTransport(argv, name=f"qemu-trace:{env}", sink=lambda _b: None, cwd=project)
        try:
            client = DeviceClient(transport)
            client.wait_boot(120)
            client.load(data)
            before = log.stat().st_size
            count = client.run(RUN_TIMEOUT).count
            after = log.stat().st_size
            client.exit()
        finally:
            transport.close()
        pcs: Counter[int] = Counter()
        with log.open("rb") as f:
            f.seek(before)
            for line in f.read(after - before).splitlines():
                m = EXEC_PC.search(line)
                if m:
                    pcs[int(m.group(1), 16)] += 1
    return pcs, build_dir / "firmware.elf", count


def by_function(pcs: Counter[int], funcs: list[tuple[int, int, str]]) -> Counter[str]:
    starts = [f[0] for f in funcs]
    totals: Counter[str] = Counter()
    for pc, n in pcs.items():
        i = bisect.bisect_right(starts, pc) - 1
        inside = i >= 0 and pc < funcs[i][0] + max(funcs[i][1], 2)
        totals[funcs[i][2] if inside else f"0x{pc:x}"] += n
    return totals


def annotate(elf: Path, pcs: Counter[int], name: str) -> None:
    dis = subprocess.run(["arm-none-eabi-objdump", "-d", "-C", "--no-show-raw-insn", str(elf)],
                         capture_output=True, text=True, check=True).stdout
    show = False
    for line in dis.splitlines():
        if line.endswith(">:"):
            show = name in line
            if show:
                print(f"\n{line}")
            continue
        head = line.split(":", 1)[0].strip()
        if show and re.fullmatch(r"[0-9a-f]+", head):
            print(f"{pcs.get(int(head, 16), 0):10d} {line}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("project", type=Path)
    ap.add_argument("--env", default="qemu-m4")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--annotate", metavar="NAME")
    args = ap.parse_args()
    pcs, elf, count = executed_pcs(args.project.resolve(), args.env)
    totals = by_function(pcs, functions(elf))
    traced = sum(totals.values())
    print(f"firmware count {count:,}; traced {traced:,} "
          "(with the run command's parsing, counter reads and result lines)")
    for name, n in totals.most_common(args.top):
        print(f"{n:12,d} {100 * n / traced:5.1f} %  {name}")
    if args.annotate:
        annotate(elf, pcs, args.annotate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
