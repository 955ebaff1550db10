// Arduino port, for every Arduino core the board catalogue names: ArduinoCore-mbed (Nano 33 BLE,
// Nano RP2040 Connect, Pico, Portenta H7), Seeed's mbed core (XIAO nRF52840), nRF5 (micro:bit
// v2), Teensyduino, STM32duino (Nucleo) and arduino-esp32 (ESP32-S3).
// - Host link: Serial at 115200 baud. On native-USB boards Serial is USB CDC and `!Serial` holds
//   until the host opens the port (boot lines would be lost otherwise); on UART-bridged boards
//   (micro:bit, Nucleo, ESP32-S3 DevKitC) `!Serial` is false at once, so the wait costs nothing.
// - Clock: micros(), extended to 64 bits.
// - Cycle counter: DWT CYCCNT on ARMv7-M (Cortex-M3/M4/M7), probed at init; CCOUNT on Xtensa;
//   none on ARMv6-M (Cortex-M0+, RP2040), which has no DWT cycle counter.
// The Arduino core owns main(): setup()/loop() below call the application hooks.
// This is the only microforge file that includes Arduino.h, so it is a library of its own
// (library.json here) built with the core's own C++ standard and flags: ArduinoCore-mbed's
// Arduino.h, for one, defines abs() as a macro that breaks <chrono> under C++17. Keep it C++11.
#if MF_PORT_ARDUINO

#include <Arduino.h>

#include "microforge/port.h"

namespace mf {
namespace port {
namespace {

// The free-running 32-bit core clock counter of this CPU: start_cycles() enables it and says
// whether it runs, cycles32() reads it. One implementation per architecture.
#if defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__)
volatile uint32_t& reg32(uintptr_t address) {
  return *reinterpret_cast<volatile uint32_t*>(address);
}
constexpr uintptr_t kCpuid = 0xE000ED00u;      // SCB->CPUID, bits 15:4 part number
constexpr uintptr_t kDemcr = 0xE000EDFCu;      // CoreDebug->DEMCR, bit 24 TRCENA
constexpr uintptr_t kDwtCtrl = 0xE0001000u;    // DWT->CTRL, bit 0 CYCCNTENA, bit 25 NOCYCCNT
constexpr uintptr_t kDwtCyccnt = 0xE0001004u;  // DWT->CYCCNT
constexpr uintptr_t kDwtLar = 0xE0001FB0u;     // DWT->LAR (Cortex-M7 CoreSight lock)
constexpr uint32_t kCortexM7 = 0xC27u;

uint32_t cycles32() { return reg32(kDwtCyccnt); }

bool start_cycles() {
  reg32(kDemcr) |= 1u << 24;
  if (((reg32(kCpuid) >> 4) & 0xFFFu) == kCortexM7) {
    reg32(kDwtLar) = 0xC5ACCE55u;  // STM32H7 keeps the DWT locked until this key is written
  }
  if (reg32(kDwtCtrl) & (1u << 25)) {
    return false;  // implemented without a cycle counter
  }
  reg32(kDwtCyccnt) = 0;
  reg32(kDwtCtrl) |= 1u;
  const uint32_t before = cycles32();
  for (volatile int i = 0; i < 8; ++i) {
  }
  return cycles32() != before;  // a locked or absent DWT reads a constant
}
#elif defined(__XTENSA__)
uint32_t cycles32() {
  uint32_t count = 0;
  __asm__ volatile("rsr %0, ccount" : "=a"(count));
  return count;
}
bool start_cycles() { return true; }
#else
uint32_t cycles32() { return 0; }
bool start_cycles() { return false; }
#endif

bool g_has_cycles = false;
uint32_t g_cyc_last = 0;
uint64_t g_cyc_high = 0;

uint32_t g_us_last = 0;
uint64_t g_us_high = 0;

}  // namespace

void init() {
  Serial.begin(115200);
  while (!Serial) {
    // USB CDC: wait until the host opens the port so the boot lines are not lost.
  }
  g_has_cycles = start_cycles();
  g_cyc_last = cycles32();
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

// The counter wraps every 2^32 cycles (67 s at 64 MHz, 7 s at 600 MHz); extended like time_us(),
// so call it at least that often.
uint64_t cycle_count() {
  if (!g_has_cycles) {
    return 0;
  }
  const uint32_t now = cycles32();
  if (now < g_cyc_last) {
    g_cyc_high += uint64_t{1} << 32;
  }
  g_cyc_last = now;
  return g_cyc_high + now;
}
const char* cycle_counter_kind() { return g_has_cycles ? "cycles" : "none"; }

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
