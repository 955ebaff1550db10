// MPS2 port (QEMU mps2-an385 / mps2-an386 / mps2-an500): CMSDK UART0 is the host link,
// CMSDK timers (25 MHz) the clocks, semihosting SYS_EXIT_EXTENDED ends the program.
//
// Run under `qemu-system-arm ... -icount shift=6`: every executed instruction advances
// virtual time by 64 ns, 1.6 ticks of a 25 MHz timer.
// - time_us(): timer0, free running: virtual time, idle time included.
// - cycle_count(): executed instructions, exact and identical on every run. Timer1 counts
//   only while the core runs: read_byte() folds it into a base and stops it before it
//   sleeps (QEMU advances virtual time by real, not instruction-aligned, time while the
//   core sleeps) and restarts it on an instruction boundary when it wakes. With the
//   timer's origin on an instruction, ticks = floor(instructions * 8 / 5), which rounding
//   up inverts exactly.
// - read_byte(): sleeps in WFI until the UART RX interrupt (or a timer wrap) wakes it, so
//   an idle firmware costs QEMU no host CPU.
#if MF_PORT_MPS2

#include "microforge/port.h"

namespace mf {
namespace port {
namespace {

// CMSDK APB UART0, RX interrupt 0.
constexpr uintptr_t kUart0 = 0x40004000u;
constexpr uint32_t kUartTxFull = 1u << 0;       // STATE
constexpr uint32_t kUartRxFull = 1u << 1;       // STATE
constexpr uint32_t kUartTxEnable = 1u << 0;     // CTRL
constexpr uint32_t kUartRxEnable = 1u << 1;     // CTRL
constexpr uint32_t kUartRxIrqEnable = 1u << 3;  // CTRL
constexpr uint32_t kUartRxIrq = 1u << 1;        // INTSTATUS / INTCLEAR
constexpr unsigned kUart0RxIrq = 0;

// CMSDK APB timers, 25 MHz: timer0 (interrupt 8) for time, timer1 (interrupt 9) for
// instructions. Both count down from 0xFFFFFFFF; the interrupt counts wraps.
constexpr uintptr_t kTimer0 = 0x40000000u;
constexpr uintptr_t kTimer1 = 0x40001000u;
constexpr uint32_t kTimerEnable = 1u << 0;     // CTRL
constexpr uint32_t kTimerIrqEnable = 1u << 3;  // CTRL
constexpr unsigned kTimer0Irq = 8;
constexpr unsigned kTimer1Irq = 9;
constexpr uint32_t kTimerHz = 25000000u;

inline volatile uint32_t& reg(uintptr_t base, uintptr_t offset) {
  return *reinterpret_cast<volatile uint32_t*>(base + offset);
}
inline volatile uint32_t& uart_data() { return reg(kUart0, 0x0); }
inline volatile uint32_t& uart_state() { return reg(kUart0, 0x4); }
inline volatile uint32_t& uart_ctrl() { return reg(kUart0, 0x8); }
inline volatile uint32_t& uart_intclear() { return reg(kUart0, 0xC); }  // write 1
inline volatile uint32_t& uart_bauddiv() { return reg(kUart0, 0x10); }
inline volatile uint32_t& timer_ctrl(uintptr_t t) { return reg(t, 0x0); }
inline volatile uint32_t& timer_value(uintptr_t t) { return reg(t, 0x4); }
inline volatile uint32_t& timer_reload(uintptr_t t) { return reg(t, 0x8); }
inline volatile uint32_t& timer_intclear(uintptr_t t) { return reg(t, 0xC); }   // write 1
inline volatile uint32_t& timer_intstatus(uintptr_t t) { return reg(t, 0xC); }  // read
inline volatile uint32_t& nvic_iser0() { return reg(0xE000E100u, 0x0); }

// Timer wraps (each 2^32 ticks), bumped by the timer interrupts.
volatile uint32_t g_wraps0 = 0;
volatile uint32_t g_wraps1 = 0;
// Instructions counted by timer1 runs that ended (before each sleep).
uint64_t g_instructions = 0;

// Ticks since `timer` was (re)started, 64-bit.
uint64_t ticks(uintptr_t timer, volatile uint32_t& wraps) {
  uint32_t hi = 0;
  uint32_t value = 0;
  uint32_t pending = 0;
  do {
    hi = wraps;
    value = timer_value(timer);
    pending = timer_intstatus(timer) & 1u;
  } while (hi != wraps);
  if (pending) {
    // Wrapped, handler not run yet: `value` may predate the wrap; this read does not.
    hi += 1;
    value = timer_value(timer);
  }
  return (static_cast<uint64_t>(hi) << 32) | (0xFFFFFFFFu - value);
}

void start_timer(uintptr_t timer, volatile uint32_t& wraps) {
  timer_ctrl(timer) = 0;
  timer_intclear(timer) = 1;
  wraps = 0;
  timer_reload(timer) = 0xFFFFFFFFu;
  timer_value(timer) = 0xFFFFFFFFu;
  timer_ctrl(timer) = kTimerEnable | kTimerIrqEnable;
}

// Instructions executed since timer1 was last started (see the header comment).
uint64_t run_instructions() { return (ticks(kTimer1, g_wraps1) * 5u + 7u) / 8u; }

void put_byte(uint8_t b) {
  while (uart_state() & kUartTxFull) {
  }
  uart_data() = b;
}

}  // namespace

void init() {
  uart_bauddiv() = kTimerHz / 115200u;  // QEMU wants >= 16; the rate itself is not modelled
  uart_ctrl() = kUartTxEnable | kUartRxEnable | kUartRxIrqEnable;
  uart_intclear() = kUartRxIrq;
  start_timer(kTimer0, g_wraps0);
  start_timer(kTimer1, g_wraps1);
  nvic_iser0() = (1u << kTimer0Irq) | (1u << kTimer1Irq) | (1u << kUart0RxIrq);
}

// Interrupts are masked between the RX check and the WFI so an arriving byte cannot slip
// in unseen (a pending interrupt still ends WFI); its handler runs once they are unmasked.
int read_byte() {
  for (;;) {
    __asm__ volatile("cpsid i" : : : "memory");
    if (uart_state() & kUartRxFull) {
      __asm__ volatile("cpsie i" : : : "memory");
      return static_cast<int>(uart_data() & 0xFFu);
    }
    g_instructions += run_instructions();
    timer_ctrl(kTimer1) = 0;
    __asm__ volatile("wfi" : : : "memory");
    start_timer(kTimer1, g_wraps1);
    __asm__ volatile("cpsie i" : : : "memory");
  }
}

void write(const char* data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    put_byte(static_cast<uint8_t>(data[i]));
  }
}

uint64_t time_us() { return ticks(kTimer0, g_wraps0) / (kTimerHz / 1000000u); }

uint64_t cycle_count() { return g_instructions + run_instructions(); }

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

extern "C" void UART0RX_IRQHandler() { mf::port::uart_intclear() = mf::port::kUartRxIrq; }

extern "C" void TIMER0_IRQHandler() {
  mf::port::timer_intclear(mf::port::kTimer0) = 1;
  mf::port::g_wraps0 = mf::port::g_wraps0 + 1;
}

extern "C" void TIMER1_IRQHandler() {
  mf::port::timer_intclear(mf::port::kTimer1) = 1;
  mf::port::g_wraps1 = mf::port::g_wraps1 + 1;
}

int main() {
  mf::port::init();
  mf_app_setup();
  for (;;) {
    mf_app_loop();
  }
}

#endif  // MF_PORT_MPS2
