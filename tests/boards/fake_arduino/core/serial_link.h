// The stand-in core's Serial, whose header pulls in <chrono> (as ArduinoCore-mbed's does through mbed).
#pragma once
#include <chrono>
#include <stddef.h>
#include <stdint.h>

class SerialLink {
 public:
  void begin(unsigned long baud);
  int available();
  int read();
  size_t write(const uint8_t* data, size_t len);
  void flush();
  explicit operator bool() const { return true; }
  std::chrono::microseconds timeout{1000};
};
extern SerialLink Serial;
