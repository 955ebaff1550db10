/* microforge Cortex-M startup for QEMU boards (mps2-an385/an386/an500, mps3-an547 with
 * MF_MPS3_AN547=1).
 *
 * Vector table, Reset_Handler (stack limit and painting, fault exceptions enabled, FPU on, .data
 * copied, .bss zeroed, static constructors run, then main), default fault handler (semihosting
 * exit with status 0x80 | exception number; the MPS2 port overrides the fault handlers with
 * ones that report the fault over the UART first),
 * and the few C++ ABI hooks a heap-free, exception-free firmware needs so that nothing from
 * newlib's atexit or libstdc++'s terminate machinery is linked in.
 *
 * Compiled by the microforge platform's builder (env.BuildSources); projects only write main
 * (or, with the microforge runtime, mf_app_setup/mf_app_loop).
 */
#include <stdint.h>

extern uint32_t __data_load__;
extern uint32_t __data_start__;
extern uint32_t __data_end__;
extern uint32_t __bss_start__;
extern uint32_t __bss_end__;
extern uint32_t __StackTop;
extern uint32_t __StackLimit;
typedef void (*mf_init_fn)(void);
extern mf_init_fn __preinit_array_start[];
extern mf_init_fn __preinit_array_end[];
extern mf_init_fn __init_array_start[];
extern mf_init_fn __init_array_end[];

int main(void);
void Reset_Handler(void);
void Default_Handler(void);

/* Semihosting SYS_EXIT_EXTENDED: QEMU (-semihosting-config enable=on) exits with `code`. */
__attribute__((noreturn)) void mf_semihosting_exit(int code) {
  volatile uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
  register uint32_t r0 __asm__("r0") = 0x20u; /* SYS_EXIT_EXTENDED */
  register volatile uint32_t* r1 __asm__("r1") = block;
  __asm__ volatile("bkpt 0xAB" : : "r"(r0), "r"(r1) : "memory");
  for (;;) {
  }
}

#define MF_WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("Default_Handler")))
MF_WEAK_HANDLER(NMI_Handler);
MF_WEAK_HANDLER(HardFault_Handler);
MF_WEAK_HANDLER(MemManage_Handler);
MF_WEAK_HANDLER(BusFault_Handler);
MF_WEAK_HANDLER(UsageFault_Handler);
MF_WEAK_HANDLER(SVC_Handler);
MF_WEAK_HANDLER(DebugMon_Handler);
MF_WEAK_HANDLER(PendSV_Handler);
MF_WEAK_HANDLER(SysTick_Handler);
/* External interrupts of the MPS2 FPGA images (QEMU hw/arm/mps2.c); on mps3-an547 only UART0. */
MF_WEAK_HANDLER(UART0RX_IRQHandler);
MF_WEAK_HANDLER(UART0TX_IRQHandler);
MF_WEAK_HANDLER(UART1RX_IRQHandler);
MF_WEAK_HANDLER(UART1TX_IRQHandler);
MF_WEAK_HANDLER(UART2RX_IRQHandler);
MF_WEAK_HANDLER(UART2TX_IRQHandler);
MF_WEAK_HANDLER(GPIO0ALL_IRQHandler);
MF_WEAK_HANDLER(GPIO1ALL_IRQHandler);
MF_WEAK_HANDLER(TIMER0_IRQHandler);
MF_WEAK_HANDLER(TIMER1_IRQHandler);
MF_WEAK_HANDLER(DUALTIMER_IRQHandler);

#if MF_MPS3_AN547
/* mps3-an547 (SSE-300): IRQs 0..31 are the SSE's own, the FPGA's start at 32. UART0 RX is
 * IRQ 33 and TX 34 (AN547's map; QEMU before its 2024 fix swapped them, which the MPS2 port
 * tolerates). The AN547 has no CMSDK timers: the MPS2 port reads the SSE-300 system counter. */
#define MF_IRQ_COUNT 64
#else
#define MF_IRQ_COUNT 32
#endif

__attribute__((section(".isr_vector"), used)) void (*const mf_vector_table[16 + MF_IRQ_COUNT])(void) = {
    (void (*)(void))(&__StackTop),
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0,
    0,
    0,
    0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
#if MF_MPS3_AN547
    [16 + 0 ... 16 + 32] = Default_Handler,
    [16 + 33] = UART0RX_IRQHandler,
    [16 + 34] = UART0TX_IRQHandler,
    [16 + 35 ... 16 + MF_IRQ_COUNT - 1] = Default_Handler,
#else
    /* IRQ 0.. */
    UART0RX_IRQHandler,   /* 0 */
    UART0TX_IRQHandler,   /* 1 */
    UART1RX_IRQHandler,   /* 2 */
    UART1TX_IRQHandler,   /* 3 */
    UART2RX_IRQHandler,   /* 4 */
    UART2TX_IRQHandler,   /* 5 */
    GPIO0ALL_IRQHandler,  /* 6 */
    GPIO1ALL_IRQHandler,  /* 7 */
    TIMER0_IRQHandler,    /* 8 */
    TIMER1_IRQHandler,    /* 9 */
    DUALTIMER_IRQHandler, /* 10 */
    /* 11..31: Default_Handler */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler,
#endif
};

/* The stack's painting and guard (read by the MPS2 port's stack_use() / stack_intact()): every
 * word from __StackLimit up to just below Reset_Handler's own frame holds MF_STACK_PAINT; the
 * lowest MF_STACK_GUARD_WORDS words are the guard band, checked after each invoke. */
#define MF_STACK_PAINT 0x6D665354u /* "mfST" */
#define MF_STACK_GUARD_WORDS 8u

__attribute__((naked, noreturn)) void Reset_Handler(void) {
  /* Naked, so nothing is pushed before the stack limit is set: ARMv8-M mainline (Cortex-M55)
   * checks every push against MSPLIM and raises a UsageFault (STKOF) instead of writing below
   * __StackLimit into .bss. Then on to C. */
  __asm__ volatile(
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
      "ldr r0, =__StackLimit\n\t"
      "msr msplim, r0\n\t"
#endif
      "b mf_reset_c\n\t");
}

void mf_reset_c(void) __attribute__((noreturn, used));
void mf_reset_c(void) {
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) || \
    defined(__ARM_ARCH_8_1M_MAIN__)
  /* MemManage, BusFault and UsageFault get their own handlers (else they escalate to HardFault
   * and the report could not tell them apart). SHCSR MEMFAULTENA, BUSFAULTENA, USGFAULTENA. */
  *(volatile uint32_t*)0xE000ED24u |= (1u << 16) | (1u << 17) | (1u << 18);
#endif
  {
    /* Paint the free stack: everything below this frame (the loop calls nothing). */
    uint32_t* sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t* p = &__StackLimit; p < sp - 4; ++p) {
      *(volatile uint32_t*)p = MF_STACK_PAINT;
    }
  }
#if defined(__ARM_FP)
  /* FPU first: with -mfloat-abi=hard the compiler may use VFP registers anywhere. Only built
   * for FPU targets: a Cortex-M3 has no CPACR, and QEMU's mps2-an385 faults on the write. */
  volatile uint32_t* const cpacr = (volatile uint32_t*)0xE000ED88u;
  *cpacr |= 0xFu << 20; /* CP10 and CP11 full access */
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif

  for (uint32_t *src = &__data_load__, *dst = &__data_start__; dst < &__data_end__;) {
    *dst++ = *src++;
  }
  for (uint32_t* dst = &__bss_start__; dst < &__bss_end__;) {
    *dst++ = 0;
  }
  for (mf_init_fn* fn = __preinit_array_start; fn < __preinit_array_end; ++fn) {
    (*fn)();
  }
  for (mf_init_fn* fn = __init_array_start; fn < __init_array_end; ++fn) {
    (*fn)();
  }
  mf_semihosting_exit(main());
}

/* Unexpected exception or interrupt: exit with 0x80 | exception number (HardFault -> 131). */
void Default_Handler(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  mf_semihosting_exit((int)(0x80u | (ipsr & 0x7Fu)));
}

/* C++ ABI hooks. Static destructors never run (the program ends by semihosting exit), so
 * registering them is a no-op; this keeps newlib's atexit (and its malloc fallback) out. */
void* __dso_handle = 0;
int __cxa_atexit(void (*fn)(void*), void* arg, void* dso) {
  (void)fn;
  (void)arg;
  (void)dso;
  return 0;
}
int __aeabi_atexit(void* arg, void (*fn)(void*), void* dso) {
  (void)fn;
  (void)arg;
  (void)dso;
  return 0;
}
/* A pure virtual call is a bug: fail loudly (exit status 0xFE) without std::terminate. */
void __cxa_pure_virtual(void) { mf_semihosting_exit(0xFE); }
