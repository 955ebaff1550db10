// microforge firmware: the model behind the MLPerf Tiny / EEMBC serial protocol
// plus the mf- extensions (see docs/design.md of microforge).
//
// Commands end with '%' (CR/LF ignored); every reply line starts with "m-" or
// "e-" and every reply ends with "m-ready". Nothing is printed unasked after
// boot and nothing is echoed. No heap: the arena, the input buffer ("db") and
// the command line are static. All I/O and time go through mf::port.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <microforge/port.h>
#include <microforge/runtime.h>

#if MF_RECORD_ROUTINES
#include <microforge/kernels/fast/fast_int8.h>
#endif
#include "model/model.h"
#include "model/model_build.h"
#include "model/model_data.h"
#include "protocol_io.h"

namespace {

constexpr size_t kMaxLine = 1024;  // longest command, without the '%'
constexpr size_t kDbBytes = model::kInputBytes > 0 ? model::kInputBytes : 1;

// The exact arena the generator computed; -D MF_ARENA_BYTES=<n> overrides it (e.g. to
// check that the generated size is the smallest that works).
#if MF_MODEL_FULL_PLAN
// A full plan's records point into the generator's own arena (model_plan.cpp, same override).
constexpr size_t kArenaBytes = model::kArenaBytes;
constexpr uint8_t* arena = model::kArena;
#else
#ifdef MF_ARENA_BYTES
constexpr size_t kArenaBytes = MF_ARENA_BYTES;
#else
constexpr size_t kArenaBytes = model::kArenaSize;
#endif
alignas(16) uint8_t arena[kArenaBytes];
#endif
mf::Interpreter interp(model::kData, model::kSize, model::kOps, arena, kArenaBytes,
                       &model::kPlan);
mf::Status init_status = mf::Status::kBadArgument;

uint8_t db[kDbBytes];   // the EEMBC input buffer: all inputs, back to back
size_t db_len = 0;      // bytes received since "db load"
size_t db_expect = 0;   // bytes announced by "db load" (0: no load yet)
bool have_results = false;

char line[kMaxLine];
size_t line_len = 0;
bool line_overflow = false;

proto::Writer out;

void ready() { out.line("m-ready"); }

void error(const char* what) {
  out.str("e-").str(what).end();
}

void init_error() {
  out.str("e-init-failed-").str(mf::status_name(init_status)).str("-op-");
  out.i64(interp.error_op());
  if (init_status == mf::Status::kArenaTooSmall) {
    out.str("-needs-").u64(interp.arena_required()).str("-has-").u64(kArenaBytes);
  }
  out.end();
}

const char* dtype_name(mf::DType t) {
  switch (t) {
    case mf::DType::kFloat32: return "float32";
    case mf::DType::kFloat16: return "float16";
    case mf::DType::kInt32: return "int32";
    case mf::DType::kUInt8: return "uint8";
    case mf::DType::kInt64: return "int64";
    case mf::DType::kBool: return "bool";
    case mf::DType::kInt16: return "int16";
    case mf::DType::kInt8: return "int8";
    default: return "unknown";
  }
}

// Copies the db buffer into the input tensors (before every invoke: the
// memory plan may reuse input memory for later activations) and invokes.
mf::Status invoke_once() {
  size_t at = 0;
  for (size_t i = 0; i < interp.num_inputs(); ++i) {
    mf::Tensor* t = interp.input(i);
    memcpy(t->data, db + at, t->bytes);
    at += t->bytes;
  }
  mf::Status s = interp.invoke();
  have_results = s == mf::Status::kOk;
  return s;
}

// Element i of a tensor as a real number: dequantized for per-tensor
// quantized integers, the value itself otherwise.
float real_value(const mf::Tensor& t, int32_t i) {
  float v = 0.0f;
  switch (t.type) {
    case mf::DType::kFloat32: return t.as<float>()[i];
    case mf::DType::kInt8: v = static_cast<float>(t.as<int8_t>()[i]); break;
    case mf::DType::kUInt8: v = static_cast<float>(t.as<uint8_t>()[i]); break;
    case mf::DType::kInt16: v = static_cast<float>(t.as<int16_t>()[i]); break;
    case mf::DType::kInt32: v = static_cast<float>(t.as<int32_t>()[i]); break;
    default: return 0.0f;
  }
  if (t.num_channels == 1 && t.scale > 0.0f) {
    return (v - static_cast<float>(t.zero_point)) * t.scale;
  }
  return v;
}

void print_results() {
  const mf::Tensor& t = *interp.output(0);
  out.str("m-results-[");
  for (int32_t i = 0; i < t.elements(); ++i) {
    if (i > 0) out.chr(',');
    out.fixed6(real_value(t, i));
  }
  out.chr(']').end();
}

bool check_ready_to_run() {
  if (init_status != mf::Status::kOk) {
    init_error();
    return false;
  }
  if (db_expect != model::kInputBytes || db_len != model::kInputBytes) {
    error("not-loaded");
    return false;
  }
  return true;
}

void invoke_error(mf::Status s) {
  out.str("e-invoke-").str(mf::status_name(s)).end();
}

// After invokes (outside their timing): the guard words below the stack must be intact, else the
// stack overflowed into the memory below it (the arena, these buffers): report and halt. Written
// through the port directly: the Writer itself may be what the overflow overwrote.
void check_stack() {
  if (mf::port::stack_intact()) return;
  static const char kFault[] = "m-mf-fault-stack-guard\r\n";
  mf::port::write(kFault, sizeof(kFault) - 1);
  mf::port::exit(0x8F);
}

// "infer N W": W untimed warm-up runs, then N runs between two laps.
void cmd_infer(const char* args, size_t n) {
  uint32_t runs = 1;
  uint32_t warmup = 0;
  const char* space = static_cast<const char*>(memchr(args, ' ', n));
  size_t first = space ? static_cast<size_t>(space - args) : n;
  if ((n > 0 && !proto::parse_u32(args, first, &runs)) ||
      (space && !proto::parse_u32(space + 1, n - first - 1, &warmup))) {
    return error("unknown-command");
  }
  if (!check_ready_to_run()) return;
  out.str("m-warmup-start-").u64(warmup).end();
  for (uint32_t i = 0; i < warmup; ++i) {
    mf::Status s = invoke_once();
    if (s != mf::Status::kOk) return invoke_error(s);
  }
  out.line("m-warmup-done");
  out.str("m-infer-start-").u64(runs).end();
  uint64_t t0 = mf::port::time_us();
  mf::Status s = mf::Status::kOk;
  for (uint32_t i = 0; i < runs && s == mf::Status::kOk; ++i) s = invoke_once();
  uint64_t t1 = mf::port::time_us();
  check_stack();
  if (s != mf::Status::kOk) return invoke_error(s);
  out.str("m-lap-us-").u64(t0).end();
  out.str("m-lap-us-").u64(t1).end();
  out.line("m-infer-done");
  print_results();
}

// CRC-32 (IEEE 802.3, zlib's crc32), a nibble at a time: a 64-byte table, ~12 instructions a
// byte; runs outside the timed region.
uint32_t crc32(uint32_t crc, const uint8_t* data, size_t n) {
  static const uint32_t kNibble[16] = {
      0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
      0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
      0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    crc = (crc >> 4) ^ kNibble[crc & 0xFu];
    crc = (crc >> 4) ^ kNibble[crc & 0xFu];
  }
  return ~crc;
}

void hex32(uint32_t v) {
  const uint8_t bytes[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                            static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  out.hex(bytes, sizeof bytes);
}

// "mf-run" or "mf-run <crc>": one timed invoke, then every output's raw bytes. <crc> (8 hex
// digits) is the CRC-32 of the input the host sent: a db buffer with another CRC (a bad byte
// on the link) answers e-mf-crc-mismatch-<crc received> without invoking, and the reply ends
// with m-mf-out-crc-<CRC-32 of all output bytes> so the host checks the way back too.
void cmd_mf_run(const char* args, size_t n) {
  uint8_t want[4] = {0, 0, 0, 0};
  const bool checked = n > 0;
  if (checked && (n != 8 || !proto::parse_hex(args, n, want))) return error("unknown-command");
  if (!check_ready_to_run()) return;
  if (checked) {
    const uint32_t got = crc32(0, db, db_len);
    if (got != (uint32_t{want[0]} << 24 | uint32_t{want[1]} << 16 | uint32_t{want[2]} << 8 | want[3])) {
      out.str("e-mf-crc-mismatch-");
      hex32(got);
      return out.end();
    }
  }
  uint64_t c0 = mf::port::cycle_count();
  uint64_t t0 = mf::port::time_us();
  mf::Status s = invoke_once();
  uint64_t t1 = mf::port::time_us();
  uint64_t c1 = mf::port::cycle_count();
  check_stack();
  if (s != mf::Status::kOk) return invoke_error(s);
  out.str("m-mf-us-").u64(t1 - t0).end();
  out.str("m-mf-count-").u64(c1 - c0).end();
  for (size_t i = 0; i < interp.num_outputs(); ++i) {
    const mf::Tensor& t = *interp.output(i);
    out.str("m-mf-out-").u64(i).chr('-').hex(static_cast<const uint8_t*>(t.data), t.bytes).end();
  }
  if (checked) {
    uint32_t crc = 0;
    for (size_t i = 0; i < interp.num_outputs(); ++i) {
      const mf::Tensor& t = *interp.output(i);
      crc = crc32(crc, static_cast<const uint8_t*>(t.data), t.bytes);
    }
    out.str("m-mf-out-crc-");
    hex32(crc);
    out.end();
  }
}

void print_tensor(const char* kind, size_t i, const mf::Tensor& t) {
  out.str("m-mf-").str(kind).chr('-').u64(i).chr('-').str(dtype_name(t.type)).chr('-');
  for (int d = 0; d < t.rank; ++d) {
    if (d > 0) out.chr('x');
    out.i64(t.dims[d]);
  }
  out.chr('-').u64(t.bytes).end();
}

#ifdef MF_PROFILE_OPS
static_assert(model::kOperators <= mf::profile::kMaxOps,
              "more operators than the profile table holds: build with -D MF_PROFILE_MAX_OPS=<n>");

// "mf-profile" (profiling builds only): the counter per operator accumulated by invoke()
// since boot or the previous mf-profile, then a reset. m-mf-profile-runs-<invokes>;
// m-mf-profile-probe-<n>, the counter's delta over two back-to-back reads (what the reads
// around each operator add to its count); then m-mf-op-<index>-<builtin code>-<count> per
// operator (counter units: see mf-info).
void cmd_mf_profile() {
  out.str("m-mf-profile-runs-").u64(mf::profile::invokes()).end();
  const uint64_t c0 = mf::port::cycle_count();
  const uint64_t c1 = mf::port::cycle_count();
  out.str("m-mf-profile-probe-").u64(c1 - c0).end();
  for (size_t i = 0; i < mf::profile::num_ops(); ++i) {
    const mf::profile::OpCount& c = mf::profile::op(i);
    out.str("m-mf-op-").u64(i).chr('-').i64(c.builtin_code).chr('-').u64(c.count).end();
  }
  mf::profile::reset();
}
#endif

void cmd_mf_info() {
  out.str("m-mf-version-").str(model::kGeneratorVersion).end();
  out.str("m-mf-build-").str(model::kBuildHash).end();
  out.str("m-mf-arena-").u64(model::kArenaSize).end();
  if (init_status != mf::Status::kOk) return init_error();
  for (size_t i = 0; i < interp.num_inputs(); ++i) print_tensor("input", i, *interp.input(i));
  for (size_t i = 0; i < interp.num_outputs(); ++i) print_tensor("output", i, *interp.output(i));
  out.str("m-mf-counter-").str(mf::port::cycle_counter_kind()).end();
  const mf::port::StackUse stack = mf::port::stack_use();
  if (stack.size > 0) out.str("m-mf-stack-used-").u64(stack.used).str("-of-").u64(stack.size).end();
#if MF_RECORD_ROUTINES
  const mf::kernels::fast::RoutineMasks& r = mf::kernels::fast::recorded_routines();
  out.str("m-mf-routines-conv-").u64(r.conv_tiles).str("-dw-").u64(r.depthwise_rows).str("-fc-").u64(r.fc_quads).end();
#endif
}

#if MF_TEST_FAULT
#ifndef MF_TEST_FAULT_BUS_ADDRESS
#define MF_TEST_FAULT_BUS_ADDRESS 0xF0000000u
#endif
// Test builds only (-D MF_TEST_FAULT=1): "mf-fault" provokes a fault so that the tests see the
// port report it. "mf-fault" or "mf-fault trap": an undefined instruction (UsageFault on
// ARMv7-M/v8-M mainline); "mf-fault hard": the same with UsageFault disabled (a HardFault);
// "mf-fault bus": a load from MF_TEST_FAULT_BUS_ADDRESS (a BusFault where nothing answers there);
// "mf-fault stack": recursion past the bottom of the stack.
// Recurses, writing each 256-byte frame whole, until a frame lies below `bottom`.
__attribute__((noinline)) uint32_t burn_stack(uintptr_t bottom) {
  volatile uint8_t frame[256];
  for (size_t i = 0; i < sizeof(frame); ++i) frame[i] = 0;
  if (reinterpret_cast<uintptr_t>(&frame[0]) < bottom) return frame[0];
  return burn_stack(bottom) + frame[sizeof(frame) - 1];
}

void cmd_mf_fault(const char* arg, size_t n) {
  if (proto::equals(arg, n, "stack")) {
    const mf::port::StackUse stack = mf::port::stack_use();
    if (stack.bottom == nullptr) return error("unknown-stack");
    const uint32_t burnt = burn_stack(reinterpret_cast<uintptr_t>(stack.bottom));
    check_stack();  // reports and halts: the guard words were overwritten
    out.str("m-mf-burnt-").u64(burnt).end();
    return;
  }
  if (n == 0 || proto::equals(arg, n, "trap")) __builtin_trap();
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) || \
    defined(__ARM_ARCH_8_1M_MAIN__)
  volatile uint32_t* const shcsr = reinterpret_cast<volatile uint32_t*>(0xE000ED24u);
  if (proto::equals(arg, n, "hard")) {  // the same trap with UsageFault disabled: escalates
    *shcsr = *shcsr & ~(1u << 18);
    __builtin_trap();
  }
  if (proto::equals(arg, n, "bus")) {  // a load from an address nothing answers
    out.str("m-mf-read-").u64(*reinterpret_cast<volatile uint32_t*>(MF_TEST_FAULT_BUS_ADDRESS)).end();
  }
#endif
  error("unknown-command");
}
#endif

void cmd_db_load(const char* arg, size_t n) {
  uint32_t bytes = 0;
  if (!proto::parse_u32(arg, n, &bytes) || bytes != model::kInputBytes) {
    out.str("e-bad-size-expected-").u64(model::kInputBytes).end();
    return;
  }
  db_expect = bytes;
  db_len = 0;
  have_results = false;
  out.str("m-[Expecting ").u64(bytes).str(" bytes]").end();
}

void cmd_db_data(const char* hex, size_t n) {
  if (db_expect == 0) return error("not-loaded");
  if (n % 2 != 0 || db_len + n / 2 > db_expect) {
    return error(n % 2 != 0 ? "bad-hex" : "overflow");
  }
  if (!proto::parse_hex(hex, n, db + db_len)) return error("bad-hex");
  db_len += n / 2;
  if (db_len == db_expect) out.line("m-load-done");
}

void dispatch(const char* c, size_t n) {
  using proto::equals;
  using proto::starts_with;
  if (equals(c, n, "name")) {
    out.line("m-name-dut-[microforge]");
  } else if (equals(c, n, "profile")) {
    out.str("m-profile-[microforge ").str(model::kGeneratorVersion).chr(']').end();
    out.str("m-model-[").str(model::kProfile).chr(']').end();
  } else if (equals(c, n, "timestamp")) {
    out.str("m-lap-us-").u64(mf::port::time_us()).end();
  } else if (equals(c, n, "db print")) {
    out.str("m-buffer-").hex(db, db_len).end();
  } else if (starts_with(c, n, "db load ")) {
    cmd_db_load(c + 8, n - 8);
  } else if (starts_with(c, n, "db ")) {
    cmd_db_data(c + 3, n - 3);
  } else if (equals(c, n, "infer")) {
    cmd_infer(c, 0);
  } else if (starts_with(c, n, "infer ")) {
    cmd_infer(c + 6, n - 6);
  } else if (equals(c, n, "results")) {
    if (init_status != mf::Status::kOk) {
      init_error();
    } else if (!have_results) {
      error("not-loaded");
    } else {
      print_results();
    }
  } else if (equals(c, n, "mf-info")) {
    cmd_mf_info();
  } else if (equals(c, n, "mf-run")) {
    cmd_mf_run(c, 0);
  } else if (starts_with(c, n, "mf-run ")) {
    cmd_mf_run(c + 7, n - 7);
#ifdef MF_PROFILE_OPS
  } else if (equals(c, n, "mf-profile")) {
    cmd_mf_profile();
#endif
#if MF_TEST_FAULT
  } else if (equals(c, n, "mf-fault")) {
    cmd_mf_fault(c, 0);
  } else if (starts_with(c, n, "mf-fault ")) {
    cmd_mf_fault(c + 9, n - 9);
#endif
  } else if (equals(c, n, "mf-exit")) {
    mf::port::exit(0);
  } else {
    error("unknown-command");
  }
  ready();
}

#if MF_PORT_ARDUINO
// A fault that reset the board before this boot (the Arduino port keeps it across the reset):
// m-mf-reset-fault-<kind>[-pc-<hex>[-lr-<hex>]], before the banner, so the host sees why the
// board restarted. Other ports report a fault as it happens (m-mf-fault-...) and never reset.
void report_reset_fault() {
  mf::port::ResetFault fault{};
  if (!mf::port::take_reset_fault(&fault)) return;
  out.str("m-mf-reset-fault-").str(fault.kind);
  if (fault.has_pc) {
    out.str("-pc-");
    hex32(fault.pc);
    if (fault.has_lr) {
      out.str("-lr-");
      hex32(fault.lr);
    }
  }
  out.end();
}
#endif

}  // namespace

void mf_app_setup() {
#if MF_PORT_ARDUINO
  report_reset_fault();
#endif
  out.line("m-timestamp-mode-performance");
  init_status = interp.init();
  check_stack();
  if (init_status == mf::Status::kOk) {
    out.line("m-init-done");
  } else {
    init_error();
  }
  ready();
}

// Consumes every byte available now; returns when the link is idle.
void mf_app_loop() {
  for (;;) {
    int c = mf::port::read_byte();
    if (c == -2) mf::port::exit(0);  // host link closed for good
    if (c < 0) return;
    if (c == '\r' || c == '\n') continue;
    if (c != '%') {
      if (line_len < kMaxLine) {
        line[line_len++] = static_cast<char>(c);
      } else {
        line_overflow = true;  // keep discarding until the '%'
      }
      continue;
    }
    if (line_overflow) {
      error("overflow");
      ready();
    } else {
      // Tolerate spaces around the command (some terminals add them).
      size_t start = 0;
      size_t end = line_len;
      while (start < end && line[start] == ' ') ++start;
      while (end > start && line[end - 1] == ' ') --end;
      dispatch(line + start, end - start);
    }
    line_len = 0;
    line_overflow = false;
  }
}
