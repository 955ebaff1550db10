// Weak defaults of the optional port functions (port.h), for ports that cannot tell: a port that
// knows defines its own (the MPS2 port for QEMU does), which the linker takes instead.
#include "microforge/port.h"

namespace mf {
namespace port {

__attribute__((weak)) StackUse stack_use() { return StackUse{0, 0, nullptr}; }

__attribute__((weak)) bool stack_intact() { return true; }

__attribute__((weak)) bool take_reset_fault(ResetFault* fault) {
  (void)fault;
  return false;
}

}  // namespace port
}  // namespace mf
