// SPDX-License-Identifier: Apache-2.0
//
// kmemguard-runtime's lean path for the verbs it only passes through
// (start, state, kill, exec, update, ...: docs/process-model.md). Engines
// call these far more often than create, and the wrapper's cost there is
// its start-up: the full path's argv parse, toml++ and std::string work
// took 0.18 of an extra exec (docs/benchmarks.md). This path finds the
// command and the runtime without allocating and execs it, or returns
// when the call is anything else (create, run, restore, delete, no
// command, our own flags, $KMEMGUARD_RUNTIME, a config file the lean
// reader does not take, a runtime that is not an absolute path, a failed
// exec), and main goes on to the full path, which does the same call its
// own way and reports any error.

#ifndef KMEMGUARD_SHIM_RUNTIME_LEAN_PASSTHROUGH_H_
#define KMEMGUARD_SHIM_RUNTIME_LEAN_PASSTHROUGH_H_

namespace kmemguard::shim {

// Execs the real runtime with argv (argv[0] replaced) and does not return,
// or returns having changed nothing.
void TryLeanPassThrough(int argc, char** argv);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_RUNTIME_LEAN_PASSTHROUGH_H_
