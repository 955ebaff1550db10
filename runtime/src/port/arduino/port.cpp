// Arduino port: the host link is Serial (USB CDC on the Nano 33 BLE) at 115200 baud, the
// clock is micros(), and on ARMv7E-M (Cortex-M4/M7) the cycle counter is DWT CYCCNT.
// The Arduino core owns main(): setup()/loop() below call the application hooks.
#if MF_PORT_ARDUINO

#include <Arduino.h>

#include "microforge/port.h"

namespace mf {
namespace port {
namespace {

#if defined(__ARM_ARCH_7EM__)
// Data Watchpoint and Trace unit: a free-running 32-bit core clock counter.
volatile uint32_t& reg32(uintptr_t address) {
  return *reinterpret_cast<volatile uint32_t*>(address);
}
constexpr uintptr_t kDemcr = 0xE000EDFCu;      // CoreDebug->DEMCR, bit 24 TRCENA
constexpr uintptr_t kDwtCtrl = 0xE0001000u;    // DWT->CTRL, bit 0 CYCCNTENA
constexpr uintptr_t kDwtCyccnt = 0xE0001004u;  // DWT->CYCCNT
uint32_t g_cyc_last = 0;
uint64_t g_cyc_high = 0;
#endif

uint32_t g_us_last = 0;
uint64_t g_us_high = 0;

}  // namespace

void init() {
  Serial.begin(115200);
  while (!Serial) {
    // USB CDC: wait until the host opens the port so the boot lines are not lost.
  }
#if defined(__ARM_ARCH_7EM__)
  reg32(kDemcr) |= 1u << 24;
  reg32(kDwtCyccnt) = 0;
  reg32(kDwtCtrl) |= 1u;
#endif
  g_us_last = micros();
}

int read_byte() { return Serial.available() > 0 ? Serial.read() : -1; }

void write(const char* data, size_t len) {
  Serial.write(reinterpret_cast<const uint8_t*>(data), len);
  Serial.flush();
}

// micros() wraps every ~71.6 minutes; extend it to 64 bits (call at least that often).
uint64_t time_us() {
  const uint32_t now = micros();
  if (now < g_us_last) {
    g_us_high += uint64_t{1} << 32;
  }
  g_us_last = now;
  return g_us_high + now;
}

#if defined(__ARM_ARCH_7EM__)
// CYCCNT wraps every 2^32 cycles (67 s at 64 MHz); extended like time_us().
uint64_t cycle_count() {
  const uint32_t now = reg32(kDwtCyccnt);
  if (now < g_cyc_last) {
    g_cyc_high += uint64_t{1} << 32;
  }
  g_cyc_last = now;
  return g_cyc_high + now;
}
const char* cycle_counter_kind() { return "cycles"; }
#else
uint64_t cycle_count() { return 0; }
const char* cycle_counter_kind() { return "none"; }
#endif

void exit(int code) {
  (void)code;
  Serial.flush();
  for (;;) {
    // No process to end on a real board: stay here until reset.
  }
}

}  // namespace port
}  // namespace mf

void setup() {
  mf::port::init();
  mf_app_setup();
}

void loop() { mf_app_loop(); }

#endif  // MF_PORT_ARDUINO
