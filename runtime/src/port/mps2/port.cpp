// MPS2 port (QEMU mps2-an385 / mps2-an386 / mps2-an500, and mps3-an547 when the board defines
// MF_MPS3_AN547=1): CMSDK UART0 is the host link, timers the clocks, semihosting
// SYS_EXIT_EXTENDED ends the program.
//
// Run under `qemu-system-arm ... -icount shift=6`: every executed instruction advances
// virtual time by 64 ns.
// - time_us(): a free-running clock: virtual time, idle time included.
// - cycle_count(): executed instructions, exact and identical on every run. Only runs count:
//   read_byte() folds the current run into a base before it sleeps in WFI (QEMU advances
//   virtual time by real, not instruction-aligned, time while the core sleeps) and starts a
//   new run on an instruction boundary when it wakes. Within a run, n instructions take
//   exactly 64 n ns, so the run's ticks give n back exactly:
//   - MPS2 (AN385/AN386/AN500): CMSDK APB timers at 25 MHz, 1.6 ticks per instruction.
//     Timer0 (interrupt 8) keeps time; timer1 (interrupt 9) is stopped for each sleep and
//     restarted on waking, so its origin is on an instruction: ticks = floor(n * 8 / 5), which
//     rounding up inverts. UART0 at 0x40004000, RX interrupt 0.
//   - MPS3 AN547 (SSE-300, MF_MPS3_AN547=1): no CMSDK timers. The SSE-300 system counter
//     (64-bit, 32 MHz, read through system timer 0's CNTPCT) keeps time and counts runs too. It
//     never stops, so a run starts at an arbitrary phase within a tick:
//     ticks = floor(phase + n * 2.048) with phase in [0, 1); as 2.048 > 2 only one n fits.
//     UART0 at 0x49303000, RX interrupt 33 (34 on QEMU before 2024). The core runs Secure
//     with the SAU off, so these addresses are Secure and reachable as they are.
// - read_byte(): sleeps in WFI until the UART RX interrupt (or a timer wrap) wakes it, so
//   an idle firmware costs QEMU no host CPU.
// - Faults: HardFault, MemManage, BusFault and UsageFault (the platform's startup enables the
//   last three) print m-mf-fault-<kind>-pc-<hex>-lr-<hex> on the UART, polled, then exit with
//   0x80 | the exception number. A UsageFault for a stack-limit violation (Cortex-M55: the
//   startup sets MSPLIM to the bottom of the stack) is kind "stack".
// - Stack: the startup paints it (MF_STACK_PAINT); stack_use() scans for the high-water mark,
//   stack_intact() checks the guard words at its bottom.
#if MF_PORT_MPS2

#include "microforge/port.h"

extern "C" uint32_t __StackLimit;  // the linker script's stack bounds
extern "C" uint32_t __StackTop;

namespace mf {
namespace port {
namespace {

// CMSDK APB UART0.
#if MF_MPS3_AN547
// RX is interrupt 33 (AN547; QEMU since "hw/arm/mps2-tz.c: fix RX/TX interrupts order", 2024,
// in Debian's 7.2). Older QEMU raised RX on TX's line 34: both are enabled and handled alike,
// harmless since the TX interrupt itself is never enabled in the UART.
constexpr uintptr_t kUart0 = 0x49303000u;
constexpr unsigned kUart0RxIrq = 33;
constexpr unsigned kUart0TxIrq = 34;
#else
constexpr uintptr_t kUart0 = 0x40004000u;
constexpr unsigned kUart0RxIrq = 0;
#endif
constexpr uint32_t kUartTxFull = 1u << 0;       // STATE
constexpr uint32_t kUartRxFull = 1u << 1;       // STATE
constexpr uint32_t kUartTxEnable = 1u << 0;     // CTRL
constexpr uint32_t kUartRxEnable = 1u << 1;     // CTRL
constexpr uint32_t kUartRxIrqEnable = 1u << 3;  // CTRL
constexpr uint32_t kUartRxIrq = 1u << 1;        // INTSTATUS / INTCLEAR
constexpr uint32_t kUartPclkHz = 25000000u;     // both images clock the UART at 25 MHz

#if MF_MPS3_AN547
// SSE-300 system counter (QEMU clocks it with AN547's 32 MHz SYSCLK): control frame (CNTCR.EN)
// and system timer 0 (CNTPCT at +0/+4).
constexpr uintptr_t kCounterControl = 0x58100000u;
constexpr uintptr_t kSysTimer0 = 0x48000000u;
constexpr uint32_t kCounterHz = 32000000u;
#else
// CMSDK APB timers, 25 MHz: timer0 (interrupt 8) for time, timer1 (interrupt 9) for
// instructions. Both count down from 0xFFFFFFFF; the interrupt counts wraps.
constexpr uintptr_t kTimer0 = 0x40000000u;
constexpr uintptr_t kTimer1 = 0x40001000u;
constexpr uint32_t kTimerEnable = 1u << 0;     // CTRL
constexpr uint32_t kTimerIrqEnable = 1u << 3;  // CTRL
constexpr unsigned kTimer0Irq = 8;
constexpr unsigned kTimer1Irq = 9;
constexpr uint32_t kTimerHz = 25000000u;
#endif

inline volatile uint32_t& reg(uintptr_t base, uintptr_t offset) {
  return *reinterpret_cast<volatile uint32_t*>(base + offset);
}
inline volatile uint32_t& uart_data() { return reg(kUart0, 0x0); }
inline volatile uint32_t& uart_state() { return reg(kUart0, 0x4); }
inline volatile uint32_t& uart_ctrl() { return reg(kUart0, 0x8); }
inline volatile uint32_t& uart_intclear() { return reg(kUart0, 0xC); }  // write 1
inline volatile uint32_t& uart_bauddiv() { return reg(kUart0, 0x10); }
inline volatile uint32_t& nvic_iser(unsigned irq) { return reg(0xE000E100u, 4u * (irq / 32u)); }
inline uint32_t irq_bit(unsigned irq) { return 1u << (irq % 32u); }

// n / d for 0 < d < 2^16 by long division in 16-bit digits, so every divide is 32-bit: a 64-bit
// `/` would link libgcc's __aeabi_uldivmod (~700 B of code). Checked against `n / d` by
// tests/unit/test_int_text.py, which compiles this function from this file.
uint64_t div_u64_small(uint64_t n, uint32_t d) {
  const uint32_t hi = static_cast<uint32_t>(n >> 32);
  const uint32_t lo = static_cast<uint32_t>(n);
  const uint32_t mid = (hi % d) << 16 | lo >> 16;         // < d * 2^16
  const uint32_t low = (mid % d) << 16 | (lo & 0xFFFFu);  // < d * 2^16
  return static_cast<uint64_t>(hi / d) << 32 | (mid / d) << 16 | low / d;
}

// Instructions counted by instruction-counter runs that ended (before each sleep).
uint64_t g_instructions = 0;

#if MF_MPS3_AN547
// The system counter never stops, so a run's origin has an arbitrary phase within a tick:
// ticks = floor(phase + instructions * 2.048), phase in [0, 1). Since 2.048 > 2, the
// instruction count is still unique: the largest n with n * 2.048 < ticks + 1.
uint64_t clock_ticks() {
  uint32_t hi = 0;
  uint32_t lo = 0;
  do {
    hi = reg(kSysTimer0, 0x4);
    lo = reg(kSysTimer0, 0x0);
  } while (hi != reg(kSysTimer0, 0x4));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

uint64_t g_run_start = 0;  // clock_ticks() when the current run began

void start_instruction_counter() { g_run_start = clock_ticks(); }
void stop_instruction_counter() {}

// 64 ns per instruction at 32 MHz: 2.048 = 256/125 ticks each, and n instructions give
// ticks in (n * 2.048 - 1, n * 2.048 + 1): n is the largest integer with n * 2.048 < ticks + 1.
uint64_t run_instructions() { return ((clock_ticks() - g_run_start + 1u) * 125u - 1u) / 256u; }

void start_clocks() {
  reg(kCounterControl, 0x0) = 1;  // CNTCR.EN: start the system counter
  start_instruction_counter();
}

constexpr uint32_t kClockHz = kCounterHz;
#else
inline volatile uint32_t& timer_ctrl(uintptr_t t) { return reg(t, 0x0); }
inline volatile uint32_t& timer_value(uintptr_t t) { return reg(t, 0x4); }
inline volatile uint32_t& timer_reload(uintptr_t t) { return reg(t, 0x8); }
inline volatile uint32_t& timer_intclear(uintptr_t t) { return reg(t, 0xC); }   // write 1
inline volatile uint32_t& timer_intstatus(uintptr_t t) { return reg(t, 0xC); }  // read

// Timer wraps (each 2^32 ticks), bumped by the timer interrupts.
volatile uint32_t g_wraps0 = 0;
volatile uint32_t g_wraps1 = 0;

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

void start_instruction_counter() { start_timer(kTimer1, g_wraps1); }
void stop_instruction_counter() { timer_ctrl(kTimer1) = 0; }

// Instructions executed since timer1 was last started (see the header comment): 1.6 ticks each.
uint64_t run_instructions() { return (ticks(kTimer1, g_wraps1) * 5u + 7u) / 8u; }

void start_clocks() {
  start_timer(kTimer0, g_wraps0);
  start_instruction_counter();
}

uint64_t clock_ticks() { return ticks(kTimer0, g_wraps0); }

constexpr uint32_t kClockHz = kTimerHz;
#endif

void put_byte(uint8_t b) {
  while (uart_state() & kUartTxFull) {
  }
  uart_data() = b;
}

// As boards/platform/startup/cortex-m/startup.c paints the stack.
constexpr uint32_t kStackPaint = 0x6D665354u;
constexpr size_t kStackGuardWords = 8;

}  // namespace

StackUse stack_use() {
  const uint32_t* const bottom = &__StackLimit;
  const uint32_t* const top = &__StackTop;
  const uint32_t* p = bottom;
  while (p < top && *p == kStackPaint) ++p;
  return StackUse{static_cast<size_t>(top - bottom) * 4u, static_cast<size_t>(top - p) * 4u, bottom};
}

bool stack_intact() {
  const volatile uint32_t* const bottom = &__StackLimit;
  for (size_t i = 0; i < kStackGuardWords; ++i) {
    if (bottom[i] != kStackPaint) return false;
  }
  return true;
}

// The C half of the fault handlers (mf_fault_entry below): frame is the stacked exception frame
// (r0-r3, r12, lr, pc, xpsr), read for the faulting pc and lr. Runs on its own small stack.
[[noreturn]] void report_fault(const uint32_t* frame) {
  uint32_t ipsr = 0;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  const uint32_t exception = ipsr & 0x1FFu;
  const uint32_t cfsr = reg(0xE000ED28u, 0);  // SCB->CFSR
  const char* kind = exception == 4 ? "memmanage" : exception == 5 ? "bus" : exception == 6 ? "usage" : "hard";
  if (cfsr & (1u << 20)) kind = "stack";  // UFSR.STKOF (ARMv8-M): MSPLIM was crossed
  static const char kDigits[] = "0123456789abcdef";
  const char* const parts[] = {"m-mf-fault-", kind, "-pc-", nullptr, "-lr-", nullptr, "\r\n"};
  const uint32_t words[] = {frame[6], frame[5]};
  int word = 0;
  for (const char* part : parts) {
    if (part == nullptr) {
      for (int shift = 28; shift >= 0; shift -= 4) put_byte(kDigits[(words[word] >> shift) & 0xFu]);
      ++word;
      continue;
    }
    while (*part) put_byte(static_cast<uint8_t>(*part++));
  }
  exit(static_cast<int>(0x80u | (exception & 0x7Fu)));
}

void init() {
  uart_bauddiv() = kUartPclkHz / 115200u;  // QEMU wants >= 16; the rate itself is not modelled
  uart_ctrl() = kUartTxEnable | kUartRxEnable | kUartRxIrqEnable;
  uart_intclear() = kUartRxIrq;
  start_clocks();
#if MF_MPS3_AN547
  nvic_iser(kUart0RxIrq) = irq_bit(kUart0RxIrq) | irq_bit(kUart0TxIrq);  // same ISER word
#else
  nvic_iser(kTimer0Irq) = irq_bit(kTimer0Irq) | irq_bit(kTimer1Irq);  // same ISER word
  nvic_iser(kUart0RxIrq) = irq_bit(kUart0RxIrq);
#endif
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
    stop_instruction_counter();
    __asm__ volatile("wfi" : : : "memory");
    start_instruction_counter();
    __asm__ volatile("cpsie i" : : : "memory");
  }
}

void write(const char* data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    put_byte(static_cast<uint8_t>(data[i]));
  }
}

static_assert(kClockHz % 1000000u == 0 && kClockHz / 1000000u < 65536u, "div_u64_small");
uint64_t time_us() { return div_u64_small(clock_ticks(), kClockHz / 1000000u); }

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

#if MF_MPS3_AN547
// RX on QEMU before 2024 (see kUart0TxIrq).
extern "C" void UART0TX_IRQHandler() { mf::port::uart_intclear() = mf::port::kUartRxIrq; }
#else
extern "C" void TIMER0_IRQHandler() {
  mf::port::timer_intclear(mf::port::kTimer0) = 1;
  mf::port::g_wraps0 = mf::port::g_wraps0 + 1;
}

extern "C" void TIMER1_IRQHandler() {
  mf::port::timer_intclear(mf::port::kTimer1) = 1;
  mf::port::g_wraps1 = mf::port::g_wraps1 + 1;
}
#endif

// The fault handlers' stack: the faulting one may be exhausted (a stack overflow).
extern "C" {
uint32_t mf_fault_stack[32];
[[noreturn]] void mf_fault_c(const uint32_t* frame) { mf::port::report_fault(frame); }
}

// Finds the exception frame (MSP or PSP, from EXC_RETURN bit 2), lifts the stack limit (ARMv8-M),
// moves to mf_fault_stack and reports.
extern "C" __attribute__((naked)) void mf_fault_entry() {
  __asm__ volatile(
      "tst lr, #4\n\t"
      "ite eq\n\t"
      "mrseq r0, msp\n\t"
      "mrsne r0, psp\n\t"
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
      "movs r2, #0\n\t"
      "msr msplim, r2\n\t"
#endif
      "ldr r2, =mf_fault_stack + 128\n\t"
      "mov sp, r2\n\t"
      "b mf_fault_c\n\t");
}
// The four fault vectors (weak in the startup code): straight on to mf_fault_entry, lr untouched.
extern "C" __attribute__((naked)) void HardFault_Handler() { __asm__ volatile("b mf_fault_entry"); }
extern "C" __attribute__((naked)) void MemManage_Handler() { __asm__ volatile("b mf_fault_entry"); }
extern "C" __attribute__((naked)) void BusFault_Handler() { __asm__ volatile("b mf_fault_entry"); }
extern "C" __attribute__((naked)) void UsageFault_Handler() { __asm__ volatile("b mf_fault_entry"); }

int main() {
  mf::port::init();
  mf_app_setup();
  for (;;) {
    mf_app_loop();
  }
}

#endif  // MF_PORT_MPS2
