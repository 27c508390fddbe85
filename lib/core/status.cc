// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/core/status.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kmemguard {
namespace {

constexpr char kErrnoPayloadUrl[] = "kmemguard/errno";
constexpr char kKindPayloadUrl[] = "kmemguard/kind";

}  // namespace

std::string ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ERANGE: return "ERANGE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ESRCH: return "ESRCH";
    default: return absl::StrCat("errno ", err);
  }
}

absl::Status ErrnoError(int err, absl::string_view op, absl::string_view path,
                        absl::string_view value) {
  std::string message =
      value.empty() ? absl::StrCat(op, " ", path)
                    : absl::StrCat(op, " \"", value, "\" to ", path);
  absl::StrAppend(&message, ": ", std::strerror(err), " (", ErrnoName(err),
                  ")");
  absl::Status status(absl::ErrnoToStatusCode(err), message);
  status.SetPayload(kErrnoPayloadUrl, absl::Cord(absl::StrCat(err)));
  return status;
}

std::optional<int> ErrnoOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrnoPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  int err = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &err)) return std::nullopt;
  return err;
}

absl::Status WithMessage(const absl::Status& status,
                         absl::string_view message) {
  if (status.ok()) return status;
  absl::Status out(status.code(), message);
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& p) {
    out.SetPayload(url, p);
  });
  return out;
}

absl::Status WithCode(const absl::Status& status, absl::StatusCode code) {
  if (status.ok()) return status;
  absl::Status out(code, status.message());
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& p) {
    out.SetPayload(url, p);
  });
  return out;
}

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return WithMessage(status, absl::StrCat(context, ": ", status.message()));
}

absl::Status WithErrorKind(const absl::Status& status, ErrorKind kind) {
  if (status.ok()) return status;
  absl::Status out = status;
  out.SetPayload(kKindPayloadUrl,
                 absl::Cord(absl::StrCat(static_cast<int>(kind))));
  return out;
}

ErrorKind ErrorKindOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kKindPayloadUrl);
  int kind = 0;
  if (!payload.has_value() ||
      !absl::SimpleAtoi(std::string(*payload), &kind) ||
      kind != static_cast<int>(ErrorKind::kNoMemoryHierarchy)) {
    return ErrorKind::kNone;
  }
  return ErrorKind::kNoMemoryHierarchy;
}

}  // namespace kmemguard
