// A stand-in for an Arduino core's Arduino.h with the traps real cores set (written for these tests):
// - abs() as a macro before more standard headers are included, as ArduinoCore-mbed does; GCC's
//   <chrono> then declares abs(duration<Rep, Period>) under C++17, which the macro breaks
//   (arduino/ArduinoCore-mbed#818);
// - min() and max() as macros, as the nRF5 and Adafruit nRF52 cores do.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef abs
#undef abs
#endif
#define abs(x) ((x) > 0 ? (x) : -(x))

#include "serial_link.h"

#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))

unsigned long micros(void);
void setup(void);
void loop(void);
