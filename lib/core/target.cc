// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/core/target.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "kmemguard/core/paths.h"
#include "kmemguard/core/status.h"

namespace kmemguard {

absl::StatusOr<CgroupTarget> OpenTarget(const CgroupLocation& location) {
  absl::StatusOr<ResolvedCgroup> resolved = ResolveMemoryCgroupOnHost(location);
  if (!resolved.ok()) {
    if (absl::IsNotFound(resolved.status())) {
      return WithErrorKind(
          absl::FailedPreconditionError(absl::StrCat(
              "no cgroup v1 memory hierarchy on this host (",
              resolved.status().message(), ")")),
          ErrorKind::kNoMemoryHierarchy);
    }
    return resolved.status();
  }
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs =
      RealCgroupFs::Open(resolved->hierarchy_root, RootCheck::kRequireCgroupfs);
  if (!fs.ok()) return fs.status();
  CgroupTarget t;
  t.fs = *std::move(fs);
  t.path = resolved->path;
  t.full_path = resolved->full_path;
  t.explicit_path = resolved->explicit_path;
  return t;
}

bool IsNoMemoryHierarchy(const absl::Status& status) {
  return ErrorKindOf(status) == ErrorKind::kNoMemoryHierarchy;
}

absl::StatusOr<OciCgroupConfig> LoadOciConfigFile(
    const std::string& path, absl::string_view container_id,
    bool systemd_cgroup, OciDecoder decoder) {
  absl::StatusOr<std::string> text = ReadHostFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<OciCgroupConfig> oci =
      decoder == OciDecoder::kLean
          ? ParseOciCgroupConfigLean(*text, container_id, systemd_cgroup)
          : ParseOciConfig(*text, container_id, systemd_cgroup);
  if (oci.ok()) return oci;
  // The decoders name the document "config.json"; here it has a path.
  return WithMessage(
      oci.status(),
      absl::StrCat(path, ": ",
                   absl::StripPrefix(oci.status().message(), "config.json: ")));
}

absl::StatusOr<OciCgroupConfig> LoadBundleConfig(
    const std::string& bundle, absl::string_view container_id,
    bool systemd_cgroup, OciDecoder decoder) {
  return LoadOciConfigFile(absl::StrCat(bundle, "/config.json"), container_id,
                           systemd_cgroup, decoder);
}

}  // namespace kmemguard
