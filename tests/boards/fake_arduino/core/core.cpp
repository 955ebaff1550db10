// The stand-in core's sources: Serial over stdin/stdout, micros() from a steady clock, main().
#include <stdio.h>

#include "Arduino.h"

SerialLink Serial;

void SerialLink::begin(unsigned long baud) { (void)baud; }
int SerialLink::available() { return 0; }
int SerialLink::read() { return -1; }
size_t SerialLink::write(const uint8_t* data, size_t len) { return fwrite(data, 1, len, stdout); }
void SerialLink::flush() { fflush(stdout); }

unsigned long micros(void) {
  using namespace std::chrono;
  return static_cast<unsigned long>(duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count());
}

int main() {
  setup();
  loop();
  return abs(0);
}
