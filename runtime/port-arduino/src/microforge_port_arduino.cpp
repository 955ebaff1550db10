// Arduino port, for every Arduino core the board catalogue names: ArduinoCore-mbed (Nano 33 BLE,
// Nano RP2040 Connect, Pico, Portenta H7), Seeed's mbed core (XIAO nRF52840), nRF5 (micro:bit
// v2), Teensyduino, STM32duino (Nucleo) and arduino-esp32 (ESP32-S3).
// - Host link: Serial at 115200 baud. On native-USB boards Serial is USB CDC and `!Serial` holds
//   until the host opens the port (boot lines would be lost otherwise); on UART-bridged boards
//   (micro:bit, Nucleo, ESP32-S3 DevKitC) `!Serial` is false at once, so the wait costs nothing.
// - Clock: micros(), extended to 64 bits.
// - Cycle counter: DWT CYCCNT on ARMv7-M (Cortex-M3/M4/M7), probed at init; CCOUNT on Xtensa;
//   none on ARMv6-M (Cortex-M0+, RP2040), which has no DWT cycle counter.
// - Faults: on native USB a fault is reported after the reset it causes (take_reset_fault(),
//   printed at boot as m-mf-reset-fault-...), since USB CDC needs interrupts a fault handler does
//   not have; behind a UART bridge it is reported at once:
//   - ArduinoCore-mbed and Seeed's mbed core: an mbed error hook (mbed_set_error_hook) sees every
//     fatal error, the CPU faults among them (their pc and lr from mbed's fault context), keeps it
//     in the variant's no-init RAM (linker section below) and resets the board, where mbed would
//     halt and blink the LED.
//   - Teensy 4.x: the core's own fault handler keeps the fault (CrashReport, pc but no lr) and
//     reboots after 8 s; we read it at boot.
//   - STM32duino and nRF5 (boards behind a UART bridge: Nucleo, micro:bit): our fault handlers
//     (their startup's are weak) print m-mf-fault-<kind>-pc-<hex>-lr-<hex> at once, polling the
//     UART (STM32: Serial's USART registers; nRF5: Serial.write() polls already), then halt.
//   - arduino-esp32: not yet (its panic handler prints on the UART and reboots).
// - Stack (mbed cores, Teensy 4): the main stack is painted at init below the current frame;
//   stack_use() finds the high-water mark, stack_intact() checks the lowest painted word (and, on
//   mbed, RTX's magic word below it). Other cores: unknown (the weak defaults).
// The Arduino core owns main(): setup()/loop() below call the application hooks.
// This is the only microforge file that includes Arduino.h, so it is a library of its own
// (library.json here) built with the core's own C++ standard and flags: ArduinoCore-mbed's
// Arduino.h, for one, defines abs() as a macro that breaks <chrono> under C++17. Keep it C++11.
#if MF_PORT_ARDUINO

#include <Arduino.h>

#include "microforge/port.h"

#if defined(ARDUINO_ARCH_MBED)
#include "cmsis.h"
#include "cmsis_os2.h"
#include "mbed_error.h"
#include "mbed_fault_handler.h"
#include "rtx_os.h"
#endif

#if (defined(ARDUINO_ARCH_STM32) || defined(ARDUINO_ARCH_NRF5)) && \
    (defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__))
#define MF_DIRECT_FAULTS 1
#if defined(ARDUINO_ARCH_STM32)
#include "PeripheralPins.h"
#include "pinmap.h"
#endif
#endif

#if defined(__IMXRT1062__)
extern "C" unsigned long _ebss;   // the Teensy 4 linker script's end of .bss in DTCM: the stack's bottom
extern "C" unsigned long _estack;  // its top
#endif

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

// -- faults kept across a reset -----------------------------------------------------------------
#if defined(ARDUINO_ARCH_MBED)
// The variant's RAM that startup neither loads nor zeroes (its linker script's section name).
#if defined(TARGET_RP2040)
#define MF_NOINIT_SECTION ".uninitialized_data.microforge"
#elif defined(TARGET_PORTENTA_H7)
#define MF_NOINIT_SECTION ".uninitialized"
#elif defined(TARGET_MCU_NRF52840)
#define MF_NOINIT_SECTION ".noinit"
#endif
#endif

#ifdef MF_NOINIT_SECTION
struct KeptFault {
  uint32_t magic;  // kKeptMagic while a fault is kept
  uint32_t kind;   // index into kFaultKinds
  uint32_t pc;
  uint32_t lr;
  uint32_t check;  // ~(magic ^ kind ^ pc ^ lr): RAM after power-on is random
};
constexpr uint32_t kKeptMagic = 0x6D664654u;  // "mfFT"
const char* const kFaultKinds[] = {"hard", "memmanage", "bus", "usage", "stack", "os"};
__attribute__((section(MF_NOINIT_SECTION))) volatile KeptFault g_kept;

uint32_t kept_check(uint32_t kind, uint32_t pc, uint32_t lr) { return ~(kKeptMagic ^ kind ^ pc ^ lr); }

// Runs inside mbed's fatal-error path (in the fault handler, for a CPU fault): keep the fault and
// reset. Warnings (mbed_warning) reach the hook too: they are left alone.
void on_mbed_error(const mbed_error_ctx* ctx) {
  if (!mbed_get_error_in_progress()) return;  // a warning: mbed_error() sets this before the hook
  uint32_t kind = 5;
  uint32_t pc = ctx->error_address;
  uint32_t lr = 0;
  const int code = MBED_GET_ERROR_CODE(ctx->error_status);
  if (code == MBED_ERROR_CODE_HARDFAULT_EXCEPTION || code == MBED_ERROR_CODE_MEMMANAGE_EXCEPTION ||
      code == MBED_ERROR_CODE_BUSFAULT_EXCEPTION || code == MBED_ERROR_CODE_USAGEFAULT_EXCEPTION) {
    kind = code == MBED_ERROR_CODE_HARDFAULT_EXCEPTION    ? 0
           : code == MBED_ERROR_CODE_MEMMANAGE_EXCEPTION ? 1
           : code == MBED_ERROR_CODE_BUSFAULT_EXCEPTION  ? 2
                                                           : 3;
    const mbed_fault_context_t* context = reinterpret_cast<const mbed_fault_context_t*>(ctx->error_value);
    pc = context->PC_reg;
    lr = context->LR_reg;
  } else if (code == MBED_ERROR_CODE_STACK_OVERFLOW) {
    kind = 4;  // RTX found a thread's stack overflowed
  }
  g_kept.kind = kind;
  g_kept.pc = pc;
  g_kept.lr = lr;
  g_kept.check = kept_check(kind, pc, lr);
  g_kept.magic = kKeptMagic;
  __DSB();
  NVIC_SystemReset();
}
#endif  // MF_NOINIT_SECTION

// -- the main stack, painted at init where the core tells its bounds ------------------------------
// mbed: the main thread's RTX stack, RTX's magic word at its base. Teensy 4: DTCM from the end of
// .bss (its first 32 bytes an MPU region that traps an overflow) to _estack.
#if defined(ARDUINO_ARCH_MBED) || defined(__IMXRT1062__)
#define MF_PAINTED_STACK 1
constexpr uint32_t kStackPaint = 0x6D665354u;  // "mfST"
const uint32_t* g_stack_bottom = nullptr;  // the stack's lowest word
uint32_t* g_painted = nullptr;             // the lowest painted word: the guard
size_t g_stack_bytes = 0;

// Paints from the lowest free word to 64 bytes below the current frame (on mbed, interrupts run on
// the MSP, not on this thread's stack; on Teensy nothing else uses it yet).
void paint_stack() {
#if defined(ARDUINO_ARCH_MBED)
  const osRtxThread_t* thread = static_cast<const osRtxThread_t*>(osThreadGetId());
  if (thread == nullptr || thread->stack_mem == nullptr) return;
  uint32_t* const bottom = static_cast<uint32_t*>(thread->stack_mem);
  if (bottom[0] != osRtxStackMagicWord) return;
  uint32_t* const lowest = bottom + 1;
  const size_t bytes = thread->stack_size;
#else
  uint32_t* const bottom = reinterpret_cast<uint32_t*>(&_ebss);
  uint32_t* const lowest = bottom + 8;  // above the MPU guard region
  const size_t bytes = static_cast<size_t>(reinterpret_cast<uintptr_t>(&_estack) - reinterpret_cast<uintptr_t>(bottom));
#endif
  uintptr_t sp = 0;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  uint32_t* const end = reinterpret_cast<uint32_t*>((sp - 64u) & ~uintptr_t{3});
  if (end <= lowest) return;
  for (uint32_t* p = lowest; p < end; ++p) *p = kStackPaint;
  g_stack_bottom = bottom;
  g_painted = lowest;
  g_stack_bytes = bytes;
}
#endif

// -- faults reported as they happen (UART-bridged boards) -----------------------------------------
#ifdef MF_DIRECT_FAULTS
#if defined(ARDUINO_ARCH_STM32)
USART_TypeDef* g_fault_uart = nullptr;  // Serial's USART, found at init

void fault_put(char c) {
  if (g_fault_uart == nullptr) return;
#if defined(USART_ISR_TXE) || defined(USART_ISR_TXE_TXFNF)  // ISR/TDR (L4, L4+, G4, F7, H7)
#ifndef USART_ISR_TXE
#define USART_ISR_TXE USART_ISR_TXE_TXFNF
#endif
  while ((g_fault_uart->ISR & USART_ISR_TXE) == 0) {
  }
  g_fault_uart->TDR = static_cast<uint8_t>(c);
#else  // SR/DR (F1, F4)
  while ((g_fault_uart->SR & USART_SR_TXE) == 0) {
  }
  g_fault_uart->DR = static_cast<uint8_t>(c);
#endif
}
#else
void fault_put(char c) { Serial.write(static_cast<uint8_t>(c)); }  // nRF5: polled, no interrupts
#endif

void fault_puts(const char* s) {
  while (*s != '\0') fault_put(*s++);
}

void fault_hex(uint32_t v) {
  static const char kDigits[] = "0123456789abcdef";
  for (int shift = 28; shift >= 0; shift -= 4) fault_put(kDigits[(v >> shift) & 0xFu]);
}
#endif  // MF_DIRECT_FAULTS

bool g_has_cycles = false;
uint32_t g_cyc_last = 0;
uint64_t g_cyc_high = 0;

uint32_t g_us_last = 0;
uint64_t g_us_high = 0;

}  // namespace

void init() {
#ifdef MF_DIRECT_FAULTS
  reg32(0xE000ED24u) |= (1u << 16) | (1u << 17) | (1u << 18);  // SHCSR: MemManage, BusFault, UsageFault
#if defined(ARDUINO_ARCH_STM32)
  g_fault_uart = static_cast<USART_TypeDef*>(pinmap_peripheral(digitalPinToPinName(PIN_SERIAL_TX), PinMap_UART_TX));
#endif
#endif
#ifdef MF_NOINIT_SECTION
  mbed_set_error_hook(on_mbed_error);
#endif
#ifdef MF_PAINTED_STACK
  paint_stack();
#endif
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

#ifdef MF_PAINTED_STACK
StackUse stack_use() {
  if (g_painted == nullptr) return StackUse{0, 0, nullptr};
  const uint32_t* p = g_painted;
  const uint32_t* const top = g_stack_bottom + g_stack_bytes / 4;
  while (p < top && *p == kStackPaint) ++p;
  return StackUse{g_stack_bytes, static_cast<size_t>(top - p) * 4u, g_stack_bottom};
}

bool stack_intact() {
#if defined(ARDUINO_ARCH_MBED)
  if (g_painted != nullptr && g_stack_bottom[0] != osRtxStackMagicWord) return false;
#endif
  return g_painted == nullptr || g_painted[0] == kStackPaint;
}
#endif

bool take_reset_fault(ResetFault* fault) {
#ifdef MF_NOINIT_SECTION
  if (g_kept.magic != kKeptMagic || g_kept.check != kept_check(g_kept.kind, g_kept.pc, g_kept.lr) ||
      g_kept.kind >= sizeof(kFaultKinds) / sizeof(kFaultKinds[0])) {
    return false;
  }
  g_kept.magic = 0;
  fault->kind = kFaultKinds[g_kept.kind];
  fault->pc = g_kept.pc;
  fault->lr = g_kept.lr;
  fault->has_pc = true;
  fault->has_lr = g_kept.kind < 4;  // a CPU fault: mbed's fault context has the lr
  return true;
#elif defined(__IMXRT1062__)
  if (!CrashReport) return false;
  // The core's record (imxrt.h), kept by its fault handler in the top of OCRAM.
  const arm_fault_info_struct* info = reinterpret_cast<const arm_fault_info_struct*>(0x2027FF80u);
  static const char* const kByException[] = {"hard", "hard", "hard", "hard", "memmanage", "bus", "usage"};
  fault->kind = info->ipsr < 7 ? kByException[info->ipsr] : "hard";
  fault->pc = info->ret;
  fault->lr = 0;
  fault->has_pc = true;
  fault->has_lr = false;
  CrashReport.clear();
  return true;
#else
  (void)fault;
  return false;
#endif
}

void exit(int code) {
  (void)code;
  Serial.flush();
  for (;;) {
    // No process to end on a real board: stay here until reset.
  }
}

#ifdef MF_DIRECT_FAULTS
// The stacked frame of the fault: its pc (frame[6]) and lr (frame[5]); one line, then halt.
extern "C" [[noreturn]] void mf_arduino_fault(const uint32_t* frame) {
  uint32_t ipsr = 0;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  const uint32_t exception = ipsr & 0x1FFu;
  fault_puts("m-mf-fault-");
  fault_puts(exception == 4 ? "memmanage" : exception == 5 ? "bus" : exception == 6 ? "usage" : "hard");
  fault_puts("-pc-");
  fault_hex(frame[6]);
  fault_puts("-lr-");
  fault_hex(frame[5]);
  fault_puts("\r\n");
  for (;;) {
    // Halted: the report is out; a reset starts over.
  }
}
#endif

}  // namespace port
}  // namespace mf

#ifdef MF_DIRECT_FAULTS
// The core's startup declares these weak: ours take their place. Each finds the frame on the
// stack the fault was taken from (EXC_RETURN bit 2: PSP or MSP).
#define MF_FAULT_HANDLER(name)                                                           \
  extern "C" __attribute__((naked)) void name() {                                        \
    __asm__ volatile("tst lr, #4\n\tite eq\n\tmrseq r0, msp\n\tmrsne r0, psp\n\t" \
                     "b mf_arduino_fault\n\t");                                      \
  }
MF_FAULT_HANDLER(HardFault_Handler)
#if defined(ARDUINO_ARCH_NRF5)
MF_FAULT_HANDLER(MemoryManagement_Handler)  // Nordic's startup names the MemManage vector so
#else
MF_FAULT_HANDLER(MemManage_Handler)
#endif
MF_FAULT_HANDLER(BusFault_Handler)
MF_FAULT_HANDLER(UsageFault_Handler)
#endif

void setup() {
  mf::port::init();
  mf_app_setup();
}

void loop() { mf_app_loop(); }

#endif  // MF_PORT_ARDUINO
