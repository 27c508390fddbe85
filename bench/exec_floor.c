/* SPDX-License-Identifier: Apache-2.0
 *
 * The exec floor of bench/runtime_bench.py: the least a wrapper in front of
 * a runtime can cost, one extra execve of a small static program.
 *
 *   exec_floor RUNTIME [ARGS...]   execve()s RUNTIME with ARGS, nothing else
 *
 * Built with cc -static -O2 by runtime_bench.py. */

#include <stdio.h>
#include <unistd.h>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  execve(argv[1], argv + 1, environ);
  perror("execve");
  return 127;
}
