"""Issue 17's done-when: the generated files of every model are what the generator made before
issue 17 (BEFORE, its last commit before that work), or differ only in formatting, shown by
compiling both.

Each model is generated for qemu-m4 by both generators (support.generated_compare: BEFORE's tree
from `git archive`, run as `python -m microforge.cli new`). The env's -D MF_* build flags must be
the same, and the generated C++ of src/model/ (model_ops.cpp, model_plan.cpp, and every constant
of the headers through a probe unit), each side compiled with arm-none-eabi-g++ against its own
runtime and flags, must give the same objects: every allocated section's bytes, symbols and
relocations. Comments and layout may differ (module paths in comments; planned op data set by
member name in constexpr lambdas instead of positionally), since they do not reach the objects.
The allowed differences are named where they are checked: the build hash, the FC quads mask fix,
where the C++ standard is set, and FULLY_CONNECTED's widened filters (issue 22).

Default run: the bundled examples, the coverage models and KWS. `slow`: the rest of the zoo's
firmware models and the synthetic fast-path models (support.fast_models)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from microforge.boards import get_boards
from microforge.lower.lowering import lower
from microforge.model import read_model
from microforge.project.buildhash import generated_hash
from support import EXAMPLES, ROOT, shared_model
from support import generated_compare as gc
from support.fast_models import MODELS as FAST_MODELS
from support.zoo import ZooModel, select

pytestmark = pytest.mark.skipif(shutil.which(gc.CXX) is None,
                                reason=f"needs {gc.CXX} (gcc-arm-none-eabi: bash tools/bootstrap)")

BEFORE = "e9732e4"  # the last commit before issue 17's work
BUNDLED = sorted(EXAMPLES.glob("*.tflite")) + sorted((ROOT / "tests" / "models" / "coverage").glob("*.tflite"))
DEFAULT_ZOO = {"kws_ref_model"}  # the rest of the zoo is slow (VWW, IC, AD and person_detect take 5-15 s each)
FC_QUADS = "MF_MODEL_FC_QUADS"
BUILD_HASH = "_ZN5model10kBuildHashE"  # model::kBuildHash
PLAN_ARRAY = ".rodata._ZN5model12_GLOBAL__N_1L{}E"  # a model_plan.cpp constant in the anonymous namespace
CHANNEL_QUANT = PLAN_ARRAY.format("13kChannelQuant")
PLAN = ".rodata._ZN5model5kPlanE"
CHANNEL_QUANT_BYTES, CHANNEL_QUANT_WIDE = 20, 16  # sizeof(mf::ChannelQuant) on the M4, offsetof(.., wide)
PLAN_CHANNEL_QUANT, PLAN_NUM_OPS = 12, 16  # offsetof(mf::MemoryPlan, channel_quant), (.., num_ops)
FC_WIDE_SINCE = "a62cec0"  # issue 22: FULLY_CONNECTED filters widened into the plan
WIDEN_ROWS = "MF_MODEL_CONV_WIDEN_ROWS"  # issue 22, since c6be168: CONV_2D patches of 16-byte rows


@pytest.fixture(scope="session")
def before_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BEFORE's generator, runtime, template and boards, exported once per session (and worker)."""
    try:
        return gc.export_tree(BEFORE, tmp_path_factory.mktemp("before-tree"))
    except gc.Unavailable as exc:
        pytest.skip(f"no generator of {BEFORE} to compare with: {exc}")


def _fc_wide(model: Path) -> dict[int, np.ndarray]:
    """The FULLY_CONNECTED operators whose widened filter the after plan carries (qemu-m4, speed), by index."""
    lowering = lower(read_model(model), get_boards([gc.BOARD]))
    return {op.index: o.wide for op, o in zip(lowering.model.operators, lowering.ops, strict=True)
            if op.op == "FULLY_CONNECTED" and o.wide is not None}


def _widens_rows(model: Path) -> bool:
    """Whether an int8 CONV_2D of the model has patches of a multiple of 16 bytes that are not the
    input's pixels one after another (a 1x1 filter at stride 1)."""
    import tflite
    from microforge.model import builtin_options

    info = read_model(model)
    for op in info.operators:
        x, w = info.tensors[op.inputs[0]], info.tensors[op.inputs[1]]
        if op.op != "CONV_2D" or x.dtype != "int8" or len(w.shape) != 4:
            continue
        opts = builtin_options(info.root, op, tflite.Conv2DOptions)
        pixelwise = w.shape[1] == w.shape[2] == 1 and (opts.StrideW(), opts.StrideH()) == (1, 1)
        if (w.shape[1] * w.shape[2] * w.shape[3]) % 16 == 0 and not pixelwise:
            return True
    return False


def _check_flags(before: Path, after: Path, fc_wide: dict[int, np.ndarray], widens_rows: bool) -> None:
    old, new = gc.macros(gc.build_flags(before)), gc.macros(gc.build_flags(after))
    # WIDEN_ROWS (issue 22): new, set (to 1) exactly for models with such CONV_2D patches, which the
    # fast path then widens four groups an LDM; a flag that only adds a routine, the same results.
    assert WIDEN_ROWS not in old and new.pop(WIDEN_ROWS, None) == ("1" if widens_rows else None), WIDEN_ROWS
    # 61825c2 (issue 17) fixed the FC quads mask: BEFORE built quad routines for FULLY_CONNECTED
    # operators that never reach them (no bias, no short requantization, no whole quad of rows),
    # so the mask may only lose bits (sine_int8_float_io 5 -> 4, VWW 1 -> 0).
    # FC_WIDE_SINCE (issue 22): an operator whose widened filter the plan carries takes the quad
    # routine's twin over it, bit b << 4 (fast/fc_quads.inc), so a bit may move up by 4, and only
    # for models with such an operator.
    assert (FC_QUADS in old) == (FC_QUADS in new), f"{FC_QUADS}: {old.get(FC_QUADS)} -> {new.get(FC_QUADS)}"
    if FC_QUADS in old:
        was, now = int(old.pop(FC_QUADS)), int(new.pop(FC_QUADS))
        assert fc_wide or now >> 4 == 0, f"{FC_QUADS} {now:#x}: widened-filter routines without a widened filter"
        now = (now & 0xF) | (now >> 4)
        assert now & ~was == 0, f"{FC_QUADS} {was:#x} -> {now:#x}: bits {now & ~was:#x} the mask before did not have"
    assert new == old, f"-D flags differ: {sorted(old.items() ^ new.items())}"
    # 5c6cbf6 (real boards, committed after BEFORE) moved the C++ standard and warnings from
    # build_flags, which reach an Arduino core too, to build_src_flags (src/ only), and stated
    # -fno-exceptions -fno-rtti there, which the platform's C++ flags have at both commits: src/,
    # where the generated files are, compiles with the same flags, all of them in gc.CXXFLAGS.
    old_src = set(gc.plain_flags(gc.build_flags(before)) + gc.src_flags(before))
    new_src = set(gc.plain_flags(gc.build_flags(after)) + gc.src_flags(after))
    assert old_src <= new_src and new_src - old_src <= {"-fno-exceptions", "-fno-rtti"}, (old_src, new_src)
    assert new_src <= set(gc.CXXFLAGS), f"the objects below are not compiled with {new_src - set(gc.CXXFLAGS)}"


def _allow_fc_wide(found: dict, old: dict, new: dict, fc_wide: dict[int, np.ndarray], operators: int) -> None:
    """FC_WIDE_SINCE (issue 22): FULLY_CONNECTED filters widened into the plan. Allowed, and taken out
    of found: for each such operator i, model_plan's kWide<i> (after only, exactly the generator's
    words) and the pointer to it in operator i's kChannelQuant entry (one relocation at its `wide`
    member, no byte changed); a model without per-channel weights had no kChannelQuant: then the
    array is after only, all zeros but those pointers, and kPlan gains the pointer to it (its
    num_ops was the operator count already, for kPlannedOps)."""
    unit = "model_plan"
    before, after = gc.read_sections(old[unit]), gc.read_sections(new[unit])
    expected = []
    for i, words in fc_wide.items():
        name = PLAN_ARRAY.format(f"{len(f'kWide{i}')}kWide{i}")
        assert found.pop((unit, name), [""])[0].startswith("only after"), f"kWide{i}: not after only"
        assert after[name].data == words.astype("<u4").tobytes(), f"kWide{i}: not the widened filter"
        expected.append((CHANNEL_QUANT_BYTES * i + CHANNEL_QUANT_WIDE, "R_ARM_ABS32", f"[{name}]"))
    cq = after[CHANNEL_QUANT]
    if CHANNEL_QUANT in before:
        old_cq = before[CHANNEL_QUANT]
        assert cq.data == old_cq.data and sorted(cq.relocs) == sorted((*old_cq.relocs, *expected)), "kChannelQuant"
    else:
        assert cq.data == bytes(CHANNEL_QUANT_BYTES * operators) and sorted(cq.relocs) == sorted(expected)
        plan, old_plan = after[PLAN], before[PLAN]
        pointer = (PLAN_CHANNEL_QUANT, "R_ARM_ABS32", f"[{CHANNEL_QUANT}]")
        assert sorted(plan.relocs) == sorted((*old_plan.relocs, pointer)), "kPlan"
        count = operators.to_bytes(4, "little")  # num_ops: already the operator count (kPlannedOps)
        assert plan.data == old_plan.data and plan.data[PLAN_NUM_OPS:PLAN_NUM_OPS + 4] == count, "kPlan"
        found.pop((unit, PLAN), None)
    found.pop((unit, CHANNEL_QUANT), None)


def _check_objects(model: Path, before: Path, after: Path, tmp_path: Path, fc_wide: dict[int, np.ndarray]) -> None:
    old = gc.compile_project(before, tmp_path / "obj-before")
    new = gc.compile_project(after, tmp_path / "obj-after")
    found = gc.compare_objects(old, new)
    if fc_wide:
        _allow_fc_wide(found, old, new, fc_wide, len(read_model(model).operators))
    # The build hash (src/model/model_build.h, 9e1211e, after BEFORE): SHA-256 of the model and the
    # generated sources as written, comments included, so any comment changes it; BEFORE had none.
    # Allowed: model::kBuildHash, after only, holding exactly this project's hash, and the probe
    # unit's pointer to it. Nothing else of it: the generated .cpp files do not use it.
    hash_section, probe_pointer = f".rodata.{BUILD_HASH}", ".rodata.mf_probe_kBuildHash"
    for name in (hash_section, probe_pointer):
        assert found.pop((gc.PROBE, name), [""])[0].startswith("only after"), f"{name}: not after only"
    value = gc.read_sections(new[gc.PROBE])[hash_section].data
    assert value == generated_hash(model.read_bytes(), after / "src" / "model").encode() + b"\0", value
    if found:
        pytest.fail(gc.demangle(f"{model.name}: the objects differ:\n" + "\n".join(
            f"  {unit}.o {section}: {'; '.join(what)}" for (unit, section), what in found.items())), pytrace=False)


def _check(model: Path, tmp_path: Path, before_tree: Path) -> None:
    before = gc.generate(model, tmp_path / "before", before_tree)
    after = gc.generate(model, tmp_path / "after")
    fc_wide = _fc_wide(model)
    _check_flags(before, after, fc_wide, _widens_rows(model))
    _check_objects(model, before, after, tmp_path, fc_wide)


@pytest.mark.parametrize("model", BUNDLED, ids=[m.stem for m in BUNDLED])
def test_bundled_and_coverage_models_compile_unchanged(model: Path, tmp_path: Path, before_tree: Path) -> None:
    _check(model, tmp_path, before_tree)


@pytest.mark.shared_models
@pytest.mark.parametrize("zoo", [pytest.param(z, id=z.name, marks=() if z.name in DEFAULT_ZOO else pytest.mark.slow)
                                 for z in select("firmware")])
def test_zoo_models_compile_unchanged(zoo: ZooModel, tmp_path: Path, before_tree: Path) -> None:
    _check(shared_model(zoo.rel), tmp_path, before_tree)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAST_MODELS))
def test_fast_path_models_compile_unchanged(name: str, tmp_path: Path, before_tree: Path) -> None:
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(FAST_MODELS[name]())
    _check(model, tmp_path, before_tree)
