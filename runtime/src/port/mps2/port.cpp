// MPS2 port (QEMU mps2-an385 / mps2-an386 / mps2-an500): CMSDK UART0 is the host link,
// CMSDK timer0 (25 MHz) the clock, semihosting SYS_EXIT_EXTENDED ends the program.
//
// Run under `qemu-system-arm ... -icount shift=6`: every instruction then advances the
// 25 MHz timer by exactly 1.6 ticks, so time_us() is virtual time derived from the
// instruction count and cycle_count() (= ticks / 1.6) counts executed instructions,
// identically on every run.
#if MF_PORT_MPS2

#include "microforge/port.h"

namespace mf {
namespace port {
namespace {

// CMSDK APB UART0.
constexpr uintptr_t kUart0 = 0x40004000u;
constexpr uint32_t kUartTxFull = 1u << 0;  // STATE
constexpr uint32_t kUartRxFull = 1u << 1;  // STATE
constexpr uint32_t kUartTxEnable = 1u << 0;  // CTRL
constexpr uint32_t kUartRxEnable = 1u << 1;  // CTRL

// CMSDK APB timer0, 25 MHz, interrupt 8.
constexpr uintptr_t kTimer0 = 0x40000000u;
constexpr uint32_t kTimerEnable = 1u << 0;     // CTRL
constexpr uint32_t kTimerIrqEnable = 1u << 3;  // CTRL
constexpr unsigned kTimer0Irq = 8;
constexpr uint32_t kTimerHz = 25000000u;

inline volatile uint32_t& reg(uintptr_t base, uintptr_t offset) {
  return *reinterpret_cast<volatile uint32_t*>(base + offset);
}
inline volatile uint32_t& uart_data() { return reg(kUart0, 0x0); }
inline volatile uint32_t& uart_state() { return reg(kUart0, 0x4); }
inline volatile uint32_t& uart_ctrl() { return reg(kUart0, 0x8); }
inline volatile uint32_t& uart_bauddiv() { return reg(kUart0, 0x10); }
inline volatile uint32_t& timer_ctrl() { return reg(kTimer0, 0x0); }
inline volatile uint32_t& timer_value() { return reg(kTimer0, 0x4); }
inline volatile uint32_t& timer_reload() { return reg(kTimer0, 0x8); }
inline volatile uint32_t& timer_intclear() { return reg(kTimer0, 0xC); }  // write 1
inline volatile uint32_t& timer_intstatus() { return reg(kTimer0, 0xC); }  // read
inline volatile uint32_t& nvic_iser0() { return reg(0xE000E100u, 0x0); }

// Number of timer0 wraps (each 2^32 ticks); bumped by the timer interrupt.
volatile uint32_t g_wraps = 0;

// Ticks since init, 64-bit. The timer counts down from 0xFFFFFFFF.
uint64_t ticks() {
  uint32_t hi = 0;
  uint32_t value = 0;
  uint32_t pending = 0;
  do {
    hi = g_wraps;
    value = timer_value();
    pending = timer_intstatus() & 1u;
  } while (hi != g_wraps);
  if (pending) {
    // Wrapped, handler not run yet: `value` may predate the wrap; this read does not.
    hi += 1;
    value = timer_value();
  }
  return (static_cast<uint64_t>(hi) << 32) | (0xFFFFFFFFu - value);
}

void put_byte(uint8_t b) {
  while (uart_state() & kUartTxFull) {
  }
  uart_data() = b;
}

}  // namespace

void init() {
  uart_bauddiv() = kTimerHz / 115200u;  // QEMU wants >= 16; the rate itself is not modelled
  uart_ctrl() = kUartTxEnable | kUartRxEnable;

  timer_ctrl() = 0;
  timer_reload() = 0xFFFFFFFFu;
  timer_value() = 0xFFFFFFFFu;
  timer_intclear() = 1;
  nvic_iser0() = 1u << kTimer0Irq;
  timer_ctrl() = kTimerEnable | kTimerIrqEnable;
}

int read_byte() {
  if (!(uart_state() & kUartRxFull)) {
    return -1;
  }
  return static_cast<int>(uart_data() & 0xFFu);
}

void write(const char* data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    put_byte(static_cast<uint8_t>(data[i]));
  }
}

uint64_t time_us() { return ticks() / (kTimerHz / 1000000u); }

// 1.6 timer ticks per instruction under -icount shift=6: instructions = ticks * 5 / 8.
uint64_t cycle_count() { return ticks() * 5u / 8u; }

const char* cycle_counter_kind() { return "instructions"; }

void exit(int code) {
  // Let the last byte leave the UART before QEMU stops.
  while (uart_state() & kUartTxFull) {
  }
  volatile uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */,
                                static_cast<uint32_t>(code)};
  register uint32_t r0 __asm__("r0") = 0x20u;  // SYS_EXIT_EXTENDED
  register volatile uint32_t* r1 __asm__("r1") = block;
  __asm__ volatile("bkpt 0xAB" : : "r"(r0), "r"(r1) : "memory");
  for (;;) {
  }
}

}  // namespace port
}  // namespace mf

extern "C" void TIMER0_IRQHandler() {
  mf::port::timer_intclear() = 1;
  mf::port::g_wraps = mf::port::g_wraps + 1;
}

int main() {
  mf::port::init();
  mf_app_setup();
  for (;;) {
    mf_app_loop();
  }
}

#endif  // MF_PORT_MPS2
