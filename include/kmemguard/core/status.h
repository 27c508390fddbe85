// SPDX-License-Identifier: Apache-2.0
//
// The error vocabulary of kmemguard. Every fallible function returns
// absl::Status or absl::StatusOr<T>. A status built from a failed system call
// carries the errno as a payload, so callers can branch on the kernel's own
// answer (EBUSY on a limit file, ENOENT on an optional file) without parsing
// messages.

#ifndef KMEMGUARD_CORE_STATUS_H_
#define KMEMGUARD_CORE_STATUS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kmemguard {

// Returns a status for the failed operation `op` on `path` with errno `err`.
// The code is absl::ErrnoToStatusCode(err); the message reads
//   <op> <path>: <strerror> (<ERRNO NAME>)          without a value
//   <op> "<value>" to <path>: <strerror> (<ERRNO NAME>)  with one
// e.g. `write "4096" to /sys/fs/cgroup/memory/c1/memory.limit_in_bytes:
// Device or resource busy (EBUSY)`. `err` is attached as a payload.
absl::Status ErrnoError(int err, absl::string_view op, absl::string_view path,
                        absl::string_view value = {});

// Returns the errno attached by ErrnoError(), or nullopt when there is none.
std::optional<int> ErrnoOf(const absl::Status& status);

// Returns `status` with "<context>: " prepended to its message, keeping its
// code and payloads. An OK status is returned unchanged.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

// Returns `status` with its message replaced by `message`, keeping code and
// payloads.
absl::Status WithMessage(const absl::Status& status, absl::string_view message);

// Returns `status` with its code replaced by `code`, keeping message and
// payloads (the errno among them).
absl::Status WithCode(const absl::Status& status, absl::StatusCode code);

// Returns the symbolic name of an errno value ("EBUSY"), or "errno N".
std::string ErrnoName(int err);

// Outcomes a caller decides on by kind, never by message text. The kind
// travels as a payload, like the errno, so Annotate and WithMessage keep it.
enum class ErrorKind {
  kNone,
  // The host has no cgroup v1 hierarchy carrying the memory controller (pure
  // cgroup v2, or no memory controller): the kmem ID leak does not apply,
  // and the wrapper and the hook pass through (FailedPrecondition).
  kNoMemoryHierarchy,
};
// Returns `status` with `kind` attached (an OK status stays OK).
absl::Status WithErrorKind(const absl::Status& status, ErrorKind kind);
// The kind attached by WithErrorKind, or kNone.
ErrorKind ErrorKindOf(const absl::Status& status);

}  // namespace kmemguard

#endif  // KMEMGUARD_CORE_STATUS_H_
