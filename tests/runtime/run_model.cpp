// Host test driver for the microforge runtime.
//
//   run_model MODEL [options] < inputs
// Reads the model into an exactly-sized 16-byte-aligned allocation, asks init()
// for the arena size with a tiny arena, then runs in an exactly-sized arena (so
// ASan catches any byte used beyond arena_required()). stdin holds one or more
// concatenated input vectors; for each, prints the outputs as one hex line.
// Options:
//   --ops fc,quantize,dequantize   kernels in the resolver (default: all of them)
//   --plan ACT:o0,o1,...           memory plan (activation bytes, offsets; -1 = none)
//   --expect ACT,NT,NN,IO,CODE:CH,...  check arena_required() == mf::arena_bytes(...)
//   --corrupt SEED                 truncate/flip the model many ways; never crash
//   --skip A:B,C:D                 byte ranges the --corrupt flips avoid
// Errors print "error <status> op=<i> code=<c> required=<n>" and exit 3.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

// Every kernel header, one #include per header of the registry: written by rt_common.build_driver.
#include "mf_kernel_headers.inc"
#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace {

namespace k = mf::kernels;

bool g_quiet = false;

void report(const mf::Interpreter& in, mf::Status s) {
  if (g_quiet) return;
  printf("error %s op=%d code=%d required=%zu\n", mf::status_name(s), in.error_op(),
         in.error_code(), in.arena_required());
}

uint8_t* aligned_copy(const uint8_t* src, size_t n) {
  void* p = nullptr;
  if (posix_memalign(&p, 16, n ? n : 1) != 0) return nullptr;
  if (n && src) memcpy(p, src, n);
  return static_cast<uint8_t*>(p);
}

size_t state_bytes(int32_t code, int32_t ch) {
#define MF_STATE_BYTES(op, ns, header, builtin, lo, hi) \
  if (code == k::ns::kBuiltinCode) return k::ns::state_bytes(ch);
  MF_KERNELS(MF_STATE_BYTES)
#undef MF_STATE_BYTES
  return 0;
}

struct Run {
  mf::Status status;
  size_t required;
};

// init() twice: once to learn the size, once in an exact arena. Calls body on success.
template <typename F>
Run run(const uint8_t* model, size_t size, const mf::OpResolver& ops, const mf::MemoryPlan* plan,
        F body) {
  alignas(16) static uint8_t probe[16];
  mf::Interpreter sizing(model, size, ops, probe, 0, plan);
  mf::Status s = sizing.init();
  const size_t need = sizing.arena_required();
  if (s != mf::Status::kArenaTooSmall || need > (64u << 20)) {
    report(sizing, s);
    return {s == mf::Status::kOk ? mf::Status::kBadArgument : s, need};
  }
  uint8_t* arena = aligned_copy(nullptr, need);
  mf::Interpreter interp(model, size, ops, arena, need, plan);
  s = interp.init();
  if (s == mf::Status::kOk) {
    if (interp.arena_used() != need) s = mf::Status::kKernelError;  // layout bug
    else body(interp);
  } else {
    report(interp, s);
  }
  free(arena);
  return {s, need};
}

// Byte ranges [a, b) the flips avoid (e.g. weight data), so they hit the structure.
std::vector<std::pair<size_t, size_t>> g_skip;

bool skipped(size_t pos) {
  for (const auto& r : g_skip) {
    if (pos >= r.first && pos < r.second) return true;
  }
  return false;
}

int corrupt(const std::vector<uint8_t>& model, const mf::OpResolver& ops, unsigned seed) {
  srand(seed);
  g_quiet = true;
  size_t trunc_ok = 0, trunc_n = 0, flips_ok = 0, flips_n = 0;
  auto noop = [](mf::Interpreter& in) {
    for (size_t i = 0; i < in.num_inputs(); ++i) memset(in.input(i)->data, 1, in.input(i)->bytes);
    in.invoke();
  };
  const size_t step = model.size() > 20000 ? model.size() / 4000 : 1;
  for (size_t len = 0; len < model.size(); len += step) {
    uint8_t* m = aligned_copy(model.data(), len);
    ++trunc_n;
    if (run(m, len, ops, nullptr, noop).status == mf::Status::kOk) ++trunc_ok;
    free(m);
  }
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> c = model;
    const int nflips = 1 + rand() % 4;
    for (int f = 0; f < nflips; ++f) {
      size_t pos = static_cast<size_t>(rand()) % c.size();
      for (int tries = 0; tries < 100 && skipped(pos); ++tries) {
        pos = static_cast<size_t>(rand()) % c.size();
      }
      c[pos] = (i % 3 == 0) ? static_cast<uint8_t>(rand()) : static_cast<uint8_t>(c[pos] ^ (1u << (rand() % 8)));
    }
    uint8_t* m = aligned_copy(c.data(), c.size());
    ++flips_n;
    if (run(m, c.size(), ops, nullptr, noop).status == mf::Status::kOk) ++flips_ok;
    free(m);
  }
  printf("truncated %zu ok %zu\nflipped %zu ok %zu\n", trunc_n, trunc_ok, flips_n, flips_ok);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  FILE* f = fopen(argv[1], "rb");
  if (!f) return 2;
  std::vector<uint8_t> bytes;
  int ch;
  while ((ch = fgetc(f)) != EOF) bytes.push_back(static_cast<uint8_t>(ch));
  fclose(f);

  std::string opnames = "fc,quantize,dequantize,conv2d,depthwise,avgpool,maxpool", plan_arg, expect_arg;
  long seed = -1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--ops") opnames = argv[i + 1];
    else if (a == "--plan") plan_arg = argv[i + 1];
    else if (a == "--expect") expect_arg = argv[i + 1];
    else if (a == "--corrupt") seed = atol(argv[i + 1]);
    else if (a == "--skip") {
      for (char* p = argv[i + 1]; *p;) {
        const size_t lo = strtoul(p, &p, 10);
        const size_t hi = strtoul(p + 1, &p, 10);  // skips ':'
        g_skip.emplace_back(lo, hi);
        if (*p == ',') ++p;
      }
    }
    else return 2;
  }
  // Every kernel of the registry; those named in the table below only when --ops names them, the
  // rest (element-wise and shape kernels) unless --ops has "noew".
  struct Selectable {
    const char* ns;
    const char* flag;
  };
  static const Selectable kSelectable[] = {{"fully_connected", "fc"}, {"dequantize", "dequantize"},
                                           {"conv_2d", "conv2d"},     {"depthwise_conv_2d", "depthwise"},
                                           {"average_pool_2d", "avgpool"}, {"max_pool_2d", "maxpool"}};
  auto wanted = [&](const char* ns) {
    if (strcmp(ns, "quantize") == 0) {
      return opnames.find(",quantize") != std::string::npos || opnames.rfind("quantize", 0) == 0;
    }
    for (const Selectable& s : kSelectable) {
      if (strcmp(ns, s.ns) == 0) return opnames.find(s.flag) != std::string::npos;
    }
    return opnames.find("noew") == std::string::npos;
  };
  std::vector<const mf::Registration*> regs;
#define MF_ADD_KERNEL(op, ns, header, code, lo, hi) \
  if (wanted(#ns)) regs.push_back(&k::ns::kRegistration);
  MF_KERNELS(MF_ADD_KERNEL)
#undef MF_ADD_KERNEL
  const mf::OpResolver ops{regs.data(), regs.size()};
  if (seed >= 0) return corrupt(bytes, ops, static_cast<unsigned>(seed));

  std::vector<int32_t> offsets;
  mf::MemoryPlan plan{nullptr, 0, 0};
  if (!plan_arg.empty()) {
    char* p = nullptr;
    plan.activation_bytes = strtoul(plan_arg.c_str(), &p, 10);
    while (*p == ':' || *p == ',') offsets.push_back(static_cast<int32_t>(strtol(p + 1, &p, 10)));
    plan.offsets = offsets.data();
    plan.num_tensors = offsets.size();
  }
  uint8_t* model = aligned_copy(bytes.data(), bytes.size());
  std::vector<uint8_t> in;
  while ((ch = getchar()) != EOF) in.push_back(static_cast<uint8_t>(ch));

  int rc = 0;
  Run r = run(model, bytes.size(), ops, plan_arg.empty() ? nullptr : &plan, [&](mf::Interpreter& it) {
    size_t need = 0;
    for (size_t i = 0; i < it.num_inputs(); ++i) need += it.input(i)->bytes;
    for (size_t pos = 0; need > 0 && pos + need <= in.size();) {
      for (size_t i = 0; i < it.num_inputs(); ++i) {
        memcpy(it.input(i)->data, in.data() + pos, it.input(i)->bytes);
        pos += it.input(i)->bytes;
      }
      const mf::Status s = it.invoke();
      if (s != mf::Status::kOk) {
        printf("error %s op=%d\n", mf::status_name(s), it.error_op());
        rc = 3;
        return;
      }
      for (size_t o = 0; o < it.num_outputs(); ++o) {
        const uint8_t* d = static_cast<const uint8_t*>(it.output(o)->data);
        for (uint32_t b = 0; b < it.output(o)->bytes; ++b) printf("%02x", d[b]);
      }
      printf("\n");
    }
  });
  if (r.status != mf::Status::kOk) rc = 3;
  fprintf(stderr, "arena %zu\n", r.required);
  if (!expect_arg.empty() && r.status == mf::Status::kOk) {
    size_t v[4] = {0, 0, 0, 0};
    char* p = const_cast<char*>(expect_arg.c_str());
    for (int i = 0; i < 4; ++i) v[i] = strtoul(p + (i ? 1 : 0), &p, 10);
    size_t kernel = 0;
    while (*p == ',') {
      const long code = strtol(p + 1, &p, 10);
      const long chn = strtol(p + 1, &p, 10);  // skips ':'
      kernel += state_bytes(static_cast<int32_t>(code), static_cast<int32_t>(chn));
    }
    const size_t want = mf::arena_bytes(v[0], v[1], v[2], v[3], kernel);
    fprintf(stderr, "expect %zu\n", want);
    if (want != r.required) rc = 4;
  }
  free(model);
  return rc;
}
