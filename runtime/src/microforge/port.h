// The porting layer: everything board-specific the firmware needs.
// One implementation per board family lives in src/port/<name>/port.cpp and is
// compiled only when the build defines MF_PORT_<NAME>=1 (the board catalogue
// sets it in platformio.ini). Kernels never call these; the interpreter calls
// cycle_count() only in profiling builds (-D MF_PROFILE_OPS, see runtime.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace mf {
namespace port {

// Board setup (clocks, UART, timers). Called once, first thing in main.
void init();

// Next byte from the host link, or -1 when none is available yet.
// Returns -2 when the link is closed for good (host port: stdin EOF).
int read_byte();

// Writes bytes to the host link and flushes them.
void write(const char* data, size_t len);

// Monotonic microseconds since init. On QEMU with -icount this is derived
// from the instruction count and is therefore exact and repeatable.
uint64_t time_us();

// Executed-instruction or cycle counter when the board has one, else 0.
// cycle_counter_kind() names it: "cycles", "instructions" or "none".
uint64_t cycle_count();
const char* cycle_counter_kind();

// Ends the program with a status (host: exit code; QEMU: semihosting exit;
// real boards: reset or spin).
[[noreturn]] void exit(int code);

// The main stack, where the port can tell (QEMU: painted at boot by the platform's startup code;
// a port without it gets the weak defaults of port_defaults.cpp: size 0, always intact).
struct StackUse {
  size_t size;  // bytes reserved for the main stack (0: unknown)
  size_t used;  // the most of it ever used: the high-water mark of the painting
  const void* bottom;  // its lowest address (nullptr: unknown)
};
// Scans the painting: for mf-info, not for every invoke.
StackUse stack_use();
// False once the guard words at the bottom of the stack were overwritten: the stack overflowed
// into the memory below it (the arena). A few loads: checked after each invoke, outside its timing.
bool stack_intact();

// A fault that reset the board before this boot. Where a fault cannot be reported as it happens
// (USB CDC needs interrupts a fault handler does not have), the port keeps a record of it in RAM
// that survives the reset and the firmware reports it at the next boot (m-mf-reset-fault-...).
// Returns true and fills `fault` once per recorded fault, then forgets it; the weak default of
// port_defaults.cpp records nothing (ports that report faults directly: host, QEMU).
struct ResetFault {
  const char* kind;  // "hard", "memmanage", "bus", "usage", "stack", or "os" (an RTOS fatal error)
  uint32_t pc;
  uint32_t lr;
  bool has_pc;
  bool has_lr;
};
bool take_reset_fault(ResetFault* fault);

}  // namespace port
}  // namespace mf

// The application hooks. The firmware (src/main.cpp of a generated project) defines these two
// instead of main(): every port supplies the entry point and calls mf::port::init(), then
// mf_app_setup() once, then mf_app_loop() forever. Host and QEMU ports define int main();
// the Arduino port defines setup()/loop(). Plain C++ free functions at global scope.
void mf_app_setup();
void mf_app_loop();
