/* SPDX-License-Identifier: Apache-2.0
 *
 * The stub runtime of bench/runtime_bench.py: a static program that exits
 * 0 for any arguments, so that a verb's time through a wrapper is the
 * wrapper's own cost plus one small exec.
 *
 * Built with cc -static -O2 by runtime_bench.py. */

int main(void) { return 0; }
