// Host port: the firmware runs as a native process; the host link is stdin/stdout.
// POSIX read(2)/write(2) on fds 0 and 1: unbuffered, 8-bit clean.
// Faults: SIGSEGV, SIGBUS, SIGILL and SIGFPE print m-mf-fault-<segv|bus|ill|fpe> (no pc: a
// position-independent executable's addresses mean nothing without its load address), then the
// process exits with 128 + the signal number, as a shell reports a death by that signal.
#if MF_PORT_HOST

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>

#include "microforge/port.h"

namespace mf {
namespace port {
namespace {

std::chrono::steady_clock::time_point g_start;

// Async-signal-safe: write(2) of a constant line and _exit(2) only.
void on_fault(int sig) {
  const char* line = "m-mf-fault-segv\r\n";
  if (sig == SIGBUS) line = "m-mf-fault-bus\r\n";
  if (sig == SIGILL) line = "m-mf-fault-ill\r\n";
  if (sig == SIGFPE) line = "m-mf-fault-fpe\r\n";
  size_t len = 0;
  while (line[len] != '\0') ++len;
  ssize_t written = ::write(1, line, len);
  (void)written;
  ::_exit(128 + sig);
}

}  // namespace

void init() {
  g_start = std::chrono::steady_clock::now();
  struct sigaction action = {};
  action.sa_handler = on_fault;
  sigemptyset(&action.sa_mask);
  const int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
  for (int sig : signals) sigaction(sig, &action, nullptr);
}

int read_byte() {
  for (;;) {
    unsigned char c = 0;
    const ssize_t n = ::read(0, &c, 1);
    if (n == 1) {
      return c;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return -2;  // EOF or a broken stdin: the link is closed for good
  }
}

void write(const char* data, size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(1, data, len);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;  // stdout is gone; nothing sensible left to do
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

uint64_t time_us() {
  const auto elapsed = std::chrono::steady_clock::now() - g_start;
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
}

uint64_t cycle_count() { return 0; }

const char* cycle_counter_kind() { return "none"; }

void exit(int code) { ::exit(code); }

}  // namespace port
}  // namespace mf

int main() {
  mf::port::init();
  mf_app_setup();
  for (;;) {
    mf_app_loop();
  }
}

#endif  // MF_PORT_HOST
