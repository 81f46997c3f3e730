#ifndef LOCALITY_CFUZZER_H
#define LOCALITY_CFUZZER_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (libclang_rt.fuzzer, linked by -sanitize=fuzzer): parses the
// libFuzzer flags in argv and fuzzes `callback` until a limit or a crash.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
