// microforge platform test app: an echo round trip over mf::port.
// Boot: prints "mf-echo-ready <counter kind> <42 from a static constructor> <63 from float math>\n".
// Then reads one byte `code` and a 16-bit little-endian length L, echoes L bytes, prints
// "\nmf-echo-done <L> <byte sum> us=<t> count=<n>\n" and exits with status `code`.
// If the link closes first (host: stdin EOF) it exits with 99.
// (No snprintf: newlib-nano's pulls in malloc, which the image check rejects.)
#include <stdint.h>
#include <stdlib.h>

#include <microforge/port.h>

#if !MF_PORT_HOST && !MF_PORT_MPS2
#error "the board must define MF_PORT_HOST or MF_PORT_MPS2"
#endif

namespace {

int next_byte() {
  for (;;) {
    const int b = mf::port::read_byte();
    if (b >= 0) {
      return b;
    }
    if (b == -2) {
      mf::port::exit(99);
    }
  }
}

void put(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') {
    ++n;
  }
  mf::port::write(s, n);
}

void put_u64(uint64_t v) {
  char buf[21];
  size_t i = sizeof buf;
  do {
    buf[--i] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  mf::port::write(buf + i, sizeof buf - i);
}

struct Counter {
  Counter() : value(42) {}
  int value;
};
Counter g_counter;  // needs its static constructor to have run

volatile float g_half = 0.5f;  // hard-float code: faults unless the FPU was enabled

}  // namespace

void mf_app_setup() {
#if MF_TEST_FAULT
  __asm__ volatile("udf #0");
#endif
#if MF_TEST_MALLOC
  void* volatile p = malloc(16);
  free(p);
#endif
  put("mf-echo-ready ");
  put(mf::port::cycle_counter_kind());
  put(" ");
  put_u64(static_cast<uint64_t>(g_counter.value));
  put(" ");
  put_u64(static_cast<uint64_t>(g_half * static_cast<float>(g_counter.value) * 3.0f));
  put("\n");
}

void mf_app_loop() {
  const int code = next_byte();
  const int lo = next_byte();
  const int len = lo | (next_byte() << 8);
  const uint64_t t0 = mf::port::time_us();
  const uint64_t c0 = mf::port::cycle_count();
  uint64_t sum = 0;
  for (int i = 0; i < len; ++i) {
    const char c = static_cast<char>(next_byte());
    sum += static_cast<unsigned char>(c);
    mf::port::write(&c, 1);
  }
  const uint64_t t1 = mf::port::time_us();
  const uint64_t c1 = mf::port::cycle_count();
  put("\nmf-echo-done ");
  put_u64(static_cast<uint64_t>(len));
  put(" ");
  put_u64(sum);
  put(" us=");
  put_u64(t1 - t0);
  put(" count=");
  put_u64(c1 - c0);
  put("\n");
  mf::port::exit(code);
}
