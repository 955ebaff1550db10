"""The image check: an embedded microforge image must not allocate, throw or use RTTI.

Plain Python (no SCons), so the builder and the test suite share one definition.
"""

import re
import subprocess

# Heap, C++ allocation, exceptions and unwinding, RTTI (typeinfo objects, names, dynamic_cast).
FORBIDDEN_SYMBOLS = re.compile(
    r"^(?:malloc|free|calloc|realloc|memalign|aligned_alloc|posix_memalign"
    r"|_malloc_r|_free_r|_calloc_r|_realloc_r|_sbrk|_sbrk_r"
    r"|_Znwj.*|_Znaj.*|_Znwm.*|_Znam.*|_ZdlPv.*|_ZdaPv.*"
    r"|__cxa_throw|__cxa_rethrow|__cxa_allocate_exception|__cxa_free_exception"
    r"|__cxa_begin_catch|__cxa_end_catch|__gxx_personality_v0|__cxa_call_unexpected"
    r"|_Unwind_.*|__gnu_unwind_.*|__aeabi_unwind_cpp_pr[0-9]"
    r"|_ZTI.*|_ZTS.*|__dynamic_cast|_ZTVN10__cxxabiv1.*)$"
)


def symbols(elf_path, nm="arm-none-eabi-nm"):
    """Every symbol name defined or referenced in elf_path."""
    out = subprocess.run([nm, elf_path], check=True, capture_output=True, text=True).stdout
    return [line.split()[-1] for line in out.splitlines() if line.split()]


def forbidden_symbols(elf_path, nm="arm-none-eabi-nm"):
    """Names of forbidden symbols defined or referenced in elf_path."""
    return sorted({name for name in symbols(elf_path, nm) if FORBIDDEN_SYMBOLS.match(name)})
