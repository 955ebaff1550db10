// libFuzzer target: load-and-prepare (Interpreter::init) on arbitrary bytes.
//
// Built by tests/fuzz/run_fuzz.sh (clang, -fsanitize=fuzzer,address,undefined)
// with every kernel of the registry (microforge/kernels/registry.h) registered.
// Also built without libFuzzer (-DMF_FUZZ_REPLAY) as a replay tool that runs
// each file named on the command line and prints "<file> <status>".
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace {

const mf::Registration* const kRegs[] = {
#define MF_REG(op, ns, header, code, lo, hi) &mf::kernels::ns::kRegistration,
    MF_KERNELS(MF_REG)
#undef MF_REG
};

const mf::OpResolver kResolver = {kRegs, sizeof(kRegs) / sizeof(kRegs[0])};

constexpr size_t kMaxArena = 4u << 20;
// invoke() only for models up to this size: big zoo models (convolutions) would
// spend the fuzzer's time in arithmetic rather than in the checks.
constexpr size_t kMaxInvokeModel = 32u << 10;

// Replay only: bytes taken off the exact arena size (to check arena-too-small).
size_t g_arena_shortfall = 0;

// Copies the input into an exactly-sized 16-byte-aligned block (so ASan sees
// any read past the end), sizes the arena with a zero-byte probe, then runs
// init() in an exactly-sized arena, and invoke() (zeroed inputs) when init
// succeeds on a small model.
mf::Status load_and_prepare(const uint8_t* data, size_t size) {
  const size_t padded = (size + 15u) & ~static_cast<size_t>(15u);
  uint8_t* model = static_cast<uint8_t*>(aligned_alloc(16, padded ? padded : 16));
  if (model == nullptr) return mf::Status::kBadArgument;
  if (size) memcpy(model, data, size);
  alignas(16) static uint8_t probe[16];
  mf::Interpreter sizing(model, size, kResolver, probe, 0);
  mf::Status s = sizing.init();
  if (s == mf::Status::kArenaTooSmall && sizing.arena_required() <= kMaxArena) {
    const size_t need = sizing.arena_required() > g_arena_shortfall
                            ? sizing.arena_required() - g_arena_shortfall
                            : 0;
    uint8_t* arena = static_cast<uint8_t*>(aligned_alloc(16, need ? (need + 15u) & ~size_t{15u} : 16));
    if (arena != nullptr) {
      mf::Interpreter interp(model, size, kResolver, arena, need);
      s = interp.init();
      if (s == mf::Status::kOk && size <= kMaxInvokeModel) {
        for (size_t i = 0; i < interp.num_inputs(); ++i) {
          mf::Tensor* t = interp.input(i);
          memset(t->data, 0, t->bytes);
        }
        s = interp.invoke();
      }
      free(arena);
    }
  }
  free(model);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  load_and_prepare(data, size);
  return 0;
}

#ifdef MF_FUZZ_REPLAY
#include <stdio.h>

// replay [--short N] MODEL...: prints "<file> <status>" per model.
int main(int argc, char** argv) {
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "--short") == 0) {
    g_arena_shortfall = static_cast<size_t>(strtoul(argv[2], nullptr, 10));
    first = 3;
  }
  for (int i = first; i < argc; ++i) {
    FILE* f = fopen(argv[i], "rb");
    if (f == nullptr) return 2;
    static uint8_t buf[8u << 20];
    const size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    const mf::Status s = load_and_prepare(buf, n);
    printf("%s %s\n", argv[i], mf::status_name(s));
  }
  return 0;
}
#endif
