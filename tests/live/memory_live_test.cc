// SPDX-License-Identifier: Apache-2.0
//
// The library on the real kernel: every cgroup lives under the scratch
// parent that live_main.cc creates and removes.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "catch2/catch.hpp"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/status.h"
#include "live/live_env.h"
#include "testing/recording_cgroup_fs.h"
#include "testing/status_matchers.h"

namespace kmemguard::live {
namespace {

std::unique_ptr<RealCgroupFs> OpenMemory() {
  auto fs = RealCgroupFs::Open(kMemoryMount, RootCheck::kRequireCgroupfs);
  REQUIRE_OK(fs);
  return *std::move(fs);
}

std::string Trim(const std::string& s) {
  return std::string(absl::StripAsciiWhitespace(s));
}

std::string Read(const CgroupPath& dir, const std::string& file) {
  return Trim(ReadMemoryFile(dir.ToString() + "/" + file));
}

int CountWrites(const std::vector<FsRecord>& records,
                const std::string& file) {
  return static_cast<int>(std::count_if(
      records.begin(), records.end(), [&](const FsRecord& r) {
        return r.op == FsOp::kWrite && absl::EndsWith(r.path, "/" + file);
      }));
}

// A child process that sleeps until killed.
pid_t SpawnSleeper() {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

void Reap(pid_t pid) {
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
}

constexpr int64_t kMiB = 1024 * 1024;

TEST_CASE("Apply and Set put limits into the kernel that read back exactly",
          "[live]") {
  auto fs = OpenMemory();
  MemoryController mc(fs.get(), KmemPolicy::kGuarded);
  CgroupPath path = FreshChild("limits");
  MemoryResources r;
  r.limit_bytes = 64 * kMiB;
  r.memsw_limit_bytes = 128 * kMiB;
  r.reservation_bytes = 32 * kMiB;
  r.swappiness = 10;
  r.oom_kill_disable = true;
  auto done = mc.ApplyAndSet(path, r, -1);
  REQUIRE_OK(done);
  CHECK(done->apply.created);
  CHECK(Read(path, kLimitInBytes) == absl::StrCat(64 * kMiB));
  CHECK(Read(path, kMemswLimitInBytes) == absl::StrCat(128 * kMiB));
  CHECK(Read(path, kSoftLimitInBytes) == absl::StrCat(32 * kMiB));
  CHECK(Read(path, kSwappiness) == "10");
  CHECK(absl::StrContains(ReadMemoryFile(path.ToString() + "/memory.oom_control"),
                          "oom_kill_disable 1"));
  REQUIRE_OK(mc.Remove(path));
  CHECK_FALSE(*fs->Exists(path));
}

TEST_CASE("The memsw ordering is accepted by the kernel when growing and "
          "when shrinking, and the wrong order is not",
          "[live]") {
  auto fs = OpenMemory();
  RecordingCgroupFs rec(fs.get());
  MemoryController mc(&rec, KmemPolicy::kGuarded);
  CgroupPath path = FreshChild("order");
  MemoryResources r;
  r.limit_bytes = 64 * kMiB;
  r.memsw_limit_bytes = 64 * kMiB;
  REQUIRE_OK(mc.ApplyAndSet(path, r, -1));

  // Grow both beyond the current memsw: memsw must go first.
  rec.ClearRecords();
  r.limit_bytes = 256 * kMiB;
  r.memsw_limit_bytes = 512 * kMiB;
  REQUIRE_OK(mc.Set(path, r));
  std::vector<std::string> writes;
  for (const FsRecord& x : rec.records())
    if (x.op == FsOp::kWrite) writes.push_back(x.path.substr(x.path.rfind('/') + 1));
  CHECK(writes == std::vector<std::string>{kMemswLimitInBytes, kLimitInBytes});
  CHECK(Read(path, kLimitInBytes) == absl::StrCat(256 * kMiB));
  CHECK(Read(path, kMemswLimitInBytes) == absl::StrCat(512 * kMiB));

  // Shrink both: the limit must go first.
  rec.ClearRecords();
  r.limit_bytes = 16 * kMiB;
  r.memsw_limit_bytes = 32 * kMiB;
  REQUIRE_OK(mc.Set(path, r));
  writes.clear();
  for (const FsRecord& x : rec.records())
    if (x.op == FsOp::kWrite) writes.push_back(x.path.substr(x.path.rfind('/') + 1));
  CHECK(writes == std::vector<std::string>{kLimitInBytes, kMemswLimitInBytes});
  CHECK(Read(path, kLimitInBytes) == absl::StrCat(16 * kMiB));
  CHECK(Read(path, kMemswLimitInBytes) == absl::StrCat(32 * kMiB));

  // The rule is real: memsw below the limit is refused with EINVAL.
  absl::Status wrong =
      fs->WriteFile(path, kMemswLimitInBytes, absl::StrCat(8 * kMiB));
  CHECK(ErrnoOf(wrong) == EINVAL);
  REQUIRE_OK(mc.Remove(path));
}

TEST_CASE("Apply with a pid really moves the process", "[live]") {
  auto fs = OpenMemory();
  MemoryController mc(fs.get(), KmemPolicy::kGuarded);
  CgroupPath path = FreshChild("join");
  pid_t child = SpawnSleeper();
  REQUIRE(child > 0);
  MemoryResources r;
  r.limit_bytes = 64 * kMiB;
  auto done = mc.ApplyAndSet(path, r, child);
  CHECK_OK(done);
  CHECK(Read(path, kCgroupProcs) == absl::StrCat(child));
  std::ifstream in(absl::StrCat("/proc/", child, "/cgroup"));
  std::string all((std::istreambuf_iterator<char>(in)), {});
  CHECK(absl::StrContains(all, absl::StrCat(":memory:/", path.ToString())));

  // With the task inside, rmdir stays EBUSY through every retry.
  absl::Status busy = mc.Remove(path);
  CHECK(ErrnoOf(busy) == EBUSY);
  CHECK(absl::StrContains(busy.message(), path.ToString()));
  Reap(child);
  REQUIRE_OK(mc.Remove(path));
}

TEST_CASE("guarded never writes memory.kmem.limit_in_bytes unless it created "
          "the cgroup with a kernel memory limit",
          "[live]") {
  auto fs = OpenMemory();
  RecordingCgroupFs rec(fs.get());
  MemoryResources memory_only;
  memory_only.limit_bytes = 64 * kMiB;
  MemoryResources with_kmem = memory_only;
  with_kmem.kernel_limit_bytes = 32 * kMiB;

  SECTION("guarded, created, memory limit only: no kmem write") {
    MemoryController mc(&rec, KmemPolicy::kGuarded);
    CgroupPath path = FreshChild("guarded-nokmem");
    auto done = mc.ApplyAndSet(path, memory_only, -1);
    REQUIRE_OK(done);
    CHECK(done->apply.created);
    CHECK(done->apply.kmem == KmemActivation::kNotAttempted);
    CHECK(CountWrites(rec.records(), kKmemLimitInBytes) == 0);
    REQUIRE_OK(mc.Remove(path));
  }
  SECTION("guarded, created, kernel limit: enables, then sets the limit") {
    MemoryController mc(&rec, KmemPolicy::kGuarded);
    CgroupPath path = FreshChild("guarded-kmem");
    auto done = mc.ApplyAndSet(path, with_kmem, -1);
    REQUIRE_OK(done);
    CHECK(done->apply.kmem == KmemActivation::kEnabled);
    CHECK(CountWrites(rec.records(), kKmemLimitInBytes) == 3);
    REQUIRE_OK(mc.Remove(path));
  }
  SECTION("guarded, pre-existing cgroup, kernel limit: no enabling") {
    CgroupPath path = FreshChild("guarded-existing");
    REQUIRE_OK(fs->MakeDir(path));
    MemoryController mc(&rec, KmemPolicy::kGuarded);
    auto done = mc.Apply(path, with_kmem, -1);
    REQUIRE_OK(done);
    CHECK_FALSE(done->created);
    CHECK(CountWrites(rec.records(), kKmemLimitInBytes) == 0);
    REQUIRE_OK(mc.Remove(path));
  }
  SECTION("legacy, created, memory limit only: enables (runc@4d6e672)") {
    MemoryController mc(&rec, KmemPolicy::kLegacy);
    CgroupPath path = FreshChild("legacy");
    auto done = mc.ApplyAndSet(path, memory_only, -1);
    REQUIRE_OK(done);
    CHECK(done->apply.kmem == KmemActivation::kEnabled);
    CHECK(CountWrites(rec.records(), kKmemLimitInBytes) == 2);
    REQUIRE_OK(mc.Remove(path));
  }
  SECTION("disabled with a kernel limit: refused, nothing created") {
    MemoryController mc(&rec, KmemPolicy::kDisabled);
    CgroupPath path = FreshChild("disabled");
    auto done = mc.ApplyAndSet(path, with_kmem, -1);
    CHECK(absl::IsFailedPrecondition(done.status()));
    CHECK_FALSE(*fs->Exists(path));
    CHECK(CountWrites(rec.records(), kKmemLimitInBytes) == 0);
  }
}

TEST_CASE("An explicit kernel memory limit on this kernel warns that it was "
          "ignored, where the kernel ignores it",
          "[live]") {
  auto fs = OpenMemory();
  MemoryController mc(fs.get(), KmemPolicy::kGuarded);
  CgroupPath path = FreshChild("kmem-ignored");
  MemoryResources r;
  r.limit_bytes = 64 * kMiB;
  r.kernel_limit_bytes = 32 * kMiB;
  auto done = mc.ApplyAndSet(path, r, -1);
  REQUIRE_OK(done);
  std::string back = Read(path, kKmemLimitInBytes);
  uint64_t value = 0;
  REQUIRE(absl::SimpleAtoi(back, &value));
  // Kernels that honour the limit read it back and give no warning; kernels
  // that accept and ignore it (6.x, spec §9) must produce the warning.
  if (value > static_cast<uint64_t>(r.kernel_limit_bytes)) {
    REQUIRE(done->set.warnings.size() == 1);
    CHECK(absl::StrContains(done->set.warnings[0], "ignored"));
  } else {
    CHECK(done->set.warnings.empty());
  }
  REQUIRE_OK(mc.Remove(path));
}

// Writes `bytes` of page cache from inside `path`, then exits.
void ChargePageCache(const CgroupPath& path, const std::string& file,
                     size_t bytes) {
  pid_t pid = fork();
  if (pid == 0) {
    std::ofstream procs(std::string(kMemoryMount) + "/" + path.ToString() +
                        "/cgroup.procs");
    procs << getpid();
    procs.close();
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::string chunk(1 << 20, 'x');
    for (size_t done = 0; done < bytes; done += chunk.size()) {
      if (write(fd, chunk.data(), chunk.size()) < 0) _exit(1);
    }
    close(fd);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

long Dying() { return MemoryCgroupsInUse() - VisibleMemoryCgroups(); }

// The dying count once it has not moved for a second (at most 10 s): the
// kernel frees earlier zombies asynchronously, which would mask a rise.
long StableDying() {
  long last = Dying();
  int still = 0;
  for (int i = 0; i < 100 && still < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    long now = Dying();
    still = now == last ? still + 1 : 0;
    last = now;
  }
  return last;
}

// The dying count, once it has stopped falling (IDs are freed
// asynchronously after rmdir, spec §9).
long SettledDying(long at_most_expected, int polls = 40) {
  long d = Dying();
  for (int i = 0; i < polls && d > at_most_expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    d = Dying();
  }
  return d;
}

TEST_CASE("A plain remove leaves a page-cache zombie and --force-empty does "
          "not",
          "[live]") {
  auto fs = OpenMemory();
  MemoryController mc(fs.get(), KmemPolicy::kGuarded);
  const std::string dir = "/var/tmp";
  constexpr int kN = 4;
  // The dying count is host-wide: the host's own process management makes
  // and frees memory cgroups at any time, and the kernel frees earlier
  // zombies asynchronously. So each attempt starts from a stable count,
  // uses kN cgroups per phase, tolerates one unrelated change per phase,
  // and a disturbed attempt is retried (at most 3).
  auto attempt = [&](int a, std::string* report) {
    std::vector<std::string> files;
    auto charged_cgroup = [&](const std::string& tag, bool force_empty) {
      CgroupPath path = FreshChild(tag);
      MemoryResources r;
      r.limit_bytes = 256 * kMiB;
      REQUIRE_OK(mc.ApplyAndSet(path, r, -1));
      std::string file = absl::StrCat(dir, "/kmemguard-live-", getpid(), "-",
                                      tag, "-", files.size());
      files.push_back(file);
      ChargePageCache(path, file, 20 << 20);
      RemoveOptions o;
      o.force_empty = force_empty;
      REQUIRE_OK(mc.Remove(path, o));
    };
    const long before = StableDying();
    for (int i = 0; i < kN; ++i) charged_cgroup(absl::StrCat("forced", a), true);
    const long after_forced = StableDying();
    for (int i = 0; i < kN; ++i) charged_cgroup(absl::StrCat("plain", a), false);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const long after_plain = Dying();
    for (const std::string& f : files) unlink(f.c_str());
    // Deleting the files frees the page cache and with it the zombies.
    const long after_delete = SettledDying(after_plain - kN, 400);
    *report = absl::StrCat("attempt ", a, ": dying ", before, " -> ",
                           after_forced, " after ", kN, " force_empty removals -> ",
                           after_plain, " after ", kN, " plain removals -> ",
                           after_delete, " after deleting the files");
    return after_forced <= before + 1 && after_plain >= after_forced + kN - 1 &&
           after_delete <= after_plain - (kN - 1);
  };
  bool seen = false;
  std::string report;
  for (int a = 0; a < 3 && !seen; ++a) {
    seen = attempt(a, &report);
    UNSCOPED_INFO(report);
  }
  CHECK(seen);
}

TEST_CASE("Concurrent appliers of one new path: exactly one creates it and "
          "kmem is enabled at most once",
          "[live]") {
  constexpr int kProcs = 8;
  constexpr int kRounds = 10;
  auto fs = OpenMemory();
  for (int round = 0; round < kRounds; ++round) {
    CgroupPath path = FreshChild("race");
    int pipes[kProcs][2];
    std::vector<pid_t> pids;
    for (int i = 0; i < kProcs; ++i) {
      REQUIRE(pipe(pipes[i]) == 0);
      pid_t pid = fork();
      if (pid == 0) {
        auto own = RealCgroupFs::Open(kMemoryMount, RootCheck::kRequireCgroupfs);
        RecordingCgroupFs rec(own->get());
        MemoryController mc(&rec, KmemPolicy::kLegacy);
        MemoryResources r;
        r.limit_bytes = 64 * kMiB;
        auto done = mc.ApplyAndSet(path, r, -1);
        char out[3] = {done.ok() ? 'o' : 'e', done.ok() && done->apply.created ? 'c' : '-',
                       static_cast<char>('0' + CountWrites(rec.records(), kKmemLimitInBytes))};
        (void)!write(pipes[i][1], out, 3);
        _exit(0);
      }
      pids.push_back(pid);
    }
    int created = 0, ok = 0, kmem_writes = 0;
    for (int i = 0; i < kProcs; ++i) {
      char in[3] = {0, 0, 0};
      close(pipes[i][1]);
      REQUIRE(read(pipes[i][0], in, 3) == 3);
      close(pipes[i][0]);
      int status;
      waitpid(pids[i], &status, 0);
      ok += in[0] == 'o';
      created += in[1] == 'c';
      kmem_writes += in[2] - '0';
    }
    CHECK(ok == kProcs);
    CHECK(created == 1);
    CHECK(kmem_writes == 2);  // "1" and "-1", by the creator only
    MemoryController mc(fs.get(), KmemPolicy::kGuarded);
    REQUIRE_OK(mc.Remove(path));
  }
}

}  // namespace
}  // namespace kmemguard::live
