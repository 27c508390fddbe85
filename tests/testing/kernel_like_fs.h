// SPDX-License-Identifier: Apache-2.0
//
// A CgroupFs decorator for fixture trees that behaves like cgroupfs where a
// plain directory cannot: a directory created through it gets the v1 memory
// control files, as the kernel populates a new cgroup. "Created" is still
// decided by the inner mkdir's own result.

#ifndef KMEMGUARD_TESTS_KERNEL_LIKE_FS_H_
#define KMEMGUARD_TESTS_KERNEL_LIKE_FS_H_

#include <string>
#include <utility>
#include <vector>

#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/memory.h"
#include "testing/fixture_tree.h"

namespace kmemguard::testing {

// Stands in for cgroupfs's "mkdir creates the control files" (see the file
// comment). Optionally swallows writes to memory.kmem.limit_in_bytes the
// way Linux 6.x after the kmem restoration does ("writing any value to this
// file has no effect").
class KernelLikeFs final : public CgroupFs {
 public:
  KernelLikeFs(CgroupFs* inner, FixtureTree* tree, Files files)
      : inner_(inner), tree_(tree), files_(std::move(files)) {}
  void set_ignore_kmem_limit_writes(bool ignore) { ignore_kmem_ = ignore; }

  absl::Status MakeDir(const CgroupPath& dir) override {
    absl::Status s = inner_->MakeDir(dir);
    if (s.ok()) {
      for (const auto& [name, content] : files_) {
        tree_->Write(dir.ToString() + "/" + name, content);
      }
    }
    return s;
  }
  absl::Status RemoveDir(const CgroupPath& dir) override {
    return inner_->RemoveDir(dir);
  }
  absl::StatusOr<std::string> ReadFile(const CgroupPath& dir,
                                       absl::string_view name) override {
    return inner_->ReadFile(dir, name);
  }
  absl::Status WriteFile(const CgroupPath& dir, absl::string_view name,
                         absl::string_view value) override {
    if (ignore_kmem_ && name == kKmemLimitInBytes) return absl::OkStatus();
    return inner_->WriteFile(dir, name, value);
  }
  absl::StatusOr<bool> Exists(const CgroupPath& dir,
                              absl::string_view name) override {
    return inner_->Exists(dir, name);
  }
  absl::StatusOr<std::vector<std::string>> ListDirs(
      const CgroupPath& dir) override {
    return inner_->ListDirs(dir);
  }
  void Sleep(absl::Duration duration) override { inner_->Sleep(duration); }
  std::string DisplayPath(const CgroupPath& dir,
                          absl::string_view name) const override {
    return inner_->DisplayPath(dir, name);
  }

 private:
  CgroupFs* inner_;
  FixtureTree* tree_;
  Files files_;
  bool ignore_kmem_ = false;
};

}  // namespace kmemguard::testing

#endif  // KMEMGUARD_TESTS_KERNEL_LIKE_FS_H_
