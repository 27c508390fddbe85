// SPDX-License-Identifier: Apache-2.0
//
// What kmemguard-runtime does for each runtime verb, as one table (verbs.cc,
// kVerbs): verb -> handler. A verb that is not in the table passes through
// (execve of the real runtime with the arguments unchanged). To add a verb
// that needs work before or after the runtime, write a handler in verbs.cc
// and add its row; the rows are listed by VerbTable() for tests and docs.
// docs/process-model.md tells what each handler does and why.

#ifndef KMEMGUARD_SHIM_RUNTIME_VERBS_H_
#define KMEMGUARD_SHIM_RUNTIME_VERBS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/runtime_log.h"
#include "common/shim_config.h"
#include "runtime/runtime_args.h"

namespace kmemguard::shim {

// One call of kmemguard-runtime, once its arguments and configuration are
// read and the real runtime is found.
struct Invocation {
  RuntimeArgs args;
  // The configuration in force: config.toml, or when `config_status` is not
  // OK the defaults with only the runtime named outside the file.
  ShimConfig config;
  absl::Status config_status;  // why config.toml could not be used
  std::string runtime_path;    // the real runtime, absolute
  const RuntimeLog* log = nullptr;
};

// A handler returns the exit status to give the caller, when it returns at
// all: the success paths end in the runtime's execve.
using VerbHandler = int (*)(const Invocation&);

struct VerbRow {
  const char* verb;  // "" is the call without a verb (`runc --version`)
  const char* handler;  // its name, for tests and docs
  VerbHandler run;
};

// The table, in order.
absl::Span<const VerbRow> VerbTable();

// The row for `verb`, or the pass-through row when the table has none.
const VerbRow& VerbRowFor(absl::string_view verb);

// True when `verb` has no row of its own: the call only execs the runtime
// (the lean path takes only these, runtime/lean_passthrough.h).
bool PassesThrough(absl::string_view verb);
// Runs the handler for `inv.args.command`.
int DispatchVerb(const Invocation& inv);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_RUNTIME_VERBS_H_
