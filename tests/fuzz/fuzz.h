/*
 * The libFuzzer entry point every target in tests/fuzz/ defines. Built two ways:
 *  - with clang -fsanitize=fuzzer (make fuzz): libFuzzer's main mutates inputs;
 *  - with replay.c (make test): a plain main that feeds the committed corpus and crash files
 *    through the same function, so regressions are caught without clang.
 * A target returns 0 and must never crash, leak, hang or abort on any input; a target may
 * abort() on purpose when an invariant of the code under test fails.
 */
#ifndef TR_FUZZ_H
#define TR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
