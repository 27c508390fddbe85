// SPDX-License-Identifier: Apache-2.0
//
// Path resolution as runc@4d6e672's cgroup v1 fs driver does it: Go's
// path/filepath semantics, utils.CleanPath, the /proc parsers, and
// d.path("memory") (spec §3). Pure functions: every input is hand-written
// text, nothing touches the filesystem.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/doctor/doctor.h"
#include "kmemguard/core/paths.h"
#include "kmemguard/core/resources.h"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

// A host like the development machines: hybrid v1 with the memory
// controller at /sys/fs/cgroup/memory, optional "shared:N" fields and a
// co-mounted cpu,cpuacct hierarchy.
constexpr char kHostMountinfo[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "25 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs "
    "rw\n"
    "30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs "
    "ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime "
    "shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime "
    "shared:11 - cgroup cgroup rw,xattr,name=systemd\n"
    "35 30 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime "
    "shared:14 - cgroup cgroup rw,memory\n"
    "36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime "
    "shared:15 - cgroup cgroup rw,cpu,cpuacct\n";

constexpr char kHostProcCgroup[] =
    "12:memory:/user.slice\n"
    "4:cpu,cpuacct:/user.slice\n"
    "1:name=systemd:/user.slice/session-1.scope\n"
    "0::/user.slice/session-1.scope\n";

// Inside a container whose memory cgroup is bind-mounted from the host's
// /docker/abc: mountinfo's root field is the host path, and
// /proc/self/cgroup shows host paths too.
constexpr char kNestedMountinfo[] =
    "100 90 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/l\n"
    "110 100 0:60 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro\n"
    "115 110 0:31 /docker/abc /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,"
    "relatime master:14 - cgroup cgroup rw,memory\n";
constexpr char kNestedProcCgroup[] = "9:memory:/docker/abc/sub\n";

CgroupLocation PathLoc(const std::string& path) {
  CgroupLocation l;
  l.path = path;
  return l;
}
CgroupLocation ParentName(const std::string& parent, const std::string& name) {
  CgroupLocation l;
  l.parent = parent;
  l.name = name;
  return l;
}

// ------------------------------------------------------------- Go semantics

TEST_CASE("GoClean behaves like Go's filepath.Clean", "[unit]") {
  struct Case {
    const char* in;
    const char* want;
  };
  // Taken from Go's path/filepath cleantests.
  const Case cases[] = {
      {"", "."},
      {".", "."},
      {"/", "/"},
      {"abc", "abc"},
      {"abc/def", "abc/def"},
      {"a/b/c", "a/b/c"},
      {"..", ".."},
      {"../..", "../.."},
      {"../../abc", "../../abc"},
      {"/abc", "/abc"},
      {"abc/", "abc"},
      {"/abc/", "/abc"},
      {"abc//def//ghi", "abc/def/ghi"},
      {"//abc", "/abc"},
      {"///abc", "/abc"},
      {"abc/./def", "abc/def"},
      {"/./abc/def", "/abc/def"},
      {"abc/.", "abc"},
      {"abc/def/ghi/../jkl", "abc/def/jkl"},
      {"abc/def/../ghi/../jkl", "abc/jkl"},
      {"abc/def/..", "abc"},
      {"abc/def/../..", "."},
      {"/abc/def/../..", "/"},
      {"abc/def/../../..", ".."},
      {"/abc/def/../../..", "/"},
      {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"},
      {"/../abc", "/abc"},
      {"abc/./../def", "def"},
      {"abc//./../def", "def"},
      {"abc/../../././../def", "../../def"},
  };
  for (const Case& c : cases) {
    INFO("in: \"" << c.in << "\"");
    CHECK(GoClean(c.in) == c.want);
  }
}

TEST_CASE("GoJoin skips empty elements and cleans like Go's filepath.Join",
          "[unit]") {
  CHECK(GoJoin({}) == "");
  CHECK(GoJoin({""}) == "");
  CHECK(GoJoin({"", ""}) == "");
  CHECK(GoJoin({"a"}) == "a");
  CHECK(GoJoin({"a", "b"}) == "a/b");
  CHECK(GoJoin({"a", ""}) == "a");
  CHECK(GoJoin({"", "b"}) == "b");
  CHECK(GoJoin({"a", "b/c"}) == "a/b/c");
  CHECK(GoJoin({"a/b", "c"}) == "a/b/c");
  CHECK(GoJoin({"a/b", "/c"}) == "a/b/c");
  CHECK(GoJoin({"a/b/", "c"}) == "a/b/c");
  CHECK(GoJoin({"", "/a"}) == "/a");
  CHECK(GoJoin({"/", "a"}) == "/a");
  CHECK(GoJoin({"/sys/fs/cgroup", "memory", "/kubepods/pod1"}) ==
        "/sys/fs/cgroup/memory/kubepods/pod1");
  // Join does not protect against "..": that is CleanPath's job.
  CHECK(GoJoin({"/sys/fs/cgroup/memory", "../../x"}) == "/sys/fs/x");
  CHECK(GoJoin({"a", ".."}) == ".");
}

TEST_CASE("GoRel computes relative paths like Go's filepath.Rel", "[unit]") {
  struct Case {
    const char* base;
    const char* target;
    const char* want;
  };
  // From Go's reltests.
  const Case cases[] = {
      {"a/b", "a/b", "."},
      {"a/b/.", "a/b", "."},
      {"a/b", "a/b/.", "."},
      {"./a/b", "a/b", "."},
      {"a/b", "./a/b", "."},
      {"ab/cd", "ab/cde", "../cde"},
      {"ab/cd", "ab/c", "../c"},
      {"a/b", "a/b/c/d", "c/d"},
      {"a/b", "a/b/../c", "../c"},
      {"a/b/../c", "a/b", "../b"},
      {"a/b/c", "a/c/d", "../../c/d"},
      {"a/b", "c/d", "../../c/d"},
      {"a/b/c/d", "a/b", "../.."},
      {"a/b/c/d", "a/b/", "../.."},
      {"a/b/c/d/", "a/b", "../.."},
      {"a/b/c/d/", "a/b/", "../.."},
      {"../../a/b", "../../a/b/c/d", "c/d"},
      {"/a/b", "/a/b", "."},
      {"/a/b/.", "/a/b", "."},
      {"/ab/cd", "/ab/cde", "../cde"},
      {"/a/b", "/a/b/c/d", "c/d"},
      {"/a/b/c/d", "/a/b", "../.."},
      {"/../../a/b", "/../../a/b/c/d", "c/d"},
      {".", "a/b", "a/b"},
      {".", "..", ".."},
      {"/", "/a", "a"},
      {"/docker/abc", "/docker/abc/sub", "sub"},
      {"/docker/abc", "/", "../.."},
  };
  for (const Case& c : cases) {
    INFO("Rel(\"" << c.base << "\", \"" << c.target << "\")");
    absl::StatusOr<std::string> got = GoRel(c.base, c.target);
    REQUIRE_OK(got);
    CHECK(*got == c.want);
  }
}

TEST_CASE("GoRel fails where Go's filepath.Rel cannot make a path relative",
          "[unit]") {
  // Go's error cases: one absolute and one relative, or a base that has to
  // climb through "..".
  const std::pair<const char*, const char*> cases[] = {
      {"/a", "a"}, {"a", "/a"}, {"..", "."}, {"..", "a"},
      {"../a", "."}, {"../a", "a"}, {"../../c", "../a"},
  };
  for (const auto& [base, target] : cases) {
    INFO("Rel(\"" << base << "\", \"" << target << "\")");
    absl::StatusOr<std::string> got = GoRel(base, target);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(got.status().message(), "can't make"));
  }
}

// ---------------------------------------------------------------- CleanPath

TEST_CASE("CleanPath gives runc's upstream results", "[unit]") {
  // runc libcontainer/utils/utils_test.go TestCleanPath, plus ".".
  CHECK(CleanPath("") == "");
  CHECK(CleanPath("rootfs") == "rootfs");
  CHECK(CleanPath("../../../var") == "var");
  CHECK(CleanPath("/../../../var") == "/var");
  CHECK(CleanPath(".") == ".");
}

TEST_CASE("CleanPath never lets a relative path climb out of its parent",
          "[unit]") {
  CHECK(CleanPath("..") == ".");
  CHECK(CleanPath("../..") == ".");
  CHECK(CleanPath("./..") == ".");
  CHECK(CleanPath("a/../../b") == "b");
  CHECK(CleanPath("a/b/../../../../c/d") == "c/d");
  CHECK(CleanPath("a//b/./c/") == "a/b/c");
  CHECK(CleanPath("kubepods/burstable/pod1") == "kubepods/burstable/pod1");
  // No result of a relative input starts with "..".
  for (const char* in : {"..", "../", "../..", "../x", "x/../../y", "./../z",
                         "../../../../../../../../../../some/path"}) {
    INFO(in);
    CHECK_FALSE(absl::StartsWith(CleanPath(in), ".."));
    CHECK_FALSE(absl::StartsWith(CleanPath(in), "/"));
  }
}

TEST_CASE("CleanPath keeps absolute paths absolute and clean", "[unit]") {
  CHECK(CleanPath("/") == "/");
  CHECK(CleanPath("/..") == "/");
  CHECK(CleanPath("//a//b/") == "/a/b");
  CHECK(CleanPath("/a/./b/../c") == "/a/c");
  CHECK(CleanPath("/kubepods/../../../../etc") == "/etc");
}

// ---------------------------------------------------------- ParseMountinfo

TEST_CASE("ParseMountinfo reads root, mount point, type, source and options",
          "[unit]") {
  absl::StatusOr<std::vector<MountInfo>> mounts =
      ParseMountinfo(kHostMountinfo);
  REQUIRE_OK(mounts);
  REQUIRE(mounts->size() == 7);
  const MountInfo& memory = (*mounts)[5];
  CHECK(memory.root == "/");
  CHECK(memory.mount_point == "/sys/fs/cgroup/memory");
  CHECK(memory.fs_type == "cgroup");
  CHECK(memory.source == "cgroup");
  CHECK(memory.super_options == std::vector<std::string>{"rw", "memory"});
  const MountInfo& cpu = (*mounts)[6];
  CHECK(cpu.mount_point == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(cpu.super_options ==
        std::vector<std::string>{"rw", "cpu", "cpuacct"});
  CHECK((*mounts)[0].fs_type == "ext4");
  CHECK((*mounts)[0].source == "/dev/sda1");
  CHECK((*mounts)[3].fs_type == "cgroup2");
}

TEST_CASE("ParseMountinfo accepts any number of optional fields", "[unit]") {
  // Zero, one and three optional fields before the separator.
  const char text[] =
      "35 30 0:31 / /a rw - cgroup cgroup rw,memory\n"
      "36 30 0:32 /x /b rw shared:5 - cgroup cgroup rw,pids\n"
      "37 30 0:33 / /c rw shared:5 master:3 propagate_from:2 - tmpfs none "
      "rw,size=4k\n";
  absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(text);
  REQUIRE_OK(mounts);
  REQUIRE(mounts->size() == 3);
  CHECK((*mounts)[0].mount_point == "/a");
  CHECK((*mounts)[1].root == "/x");
  CHECK((*mounts)[1].mount_point == "/b");
  CHECK((*mounts)[1].super_options ==
        std::vector<std::string>{"rw", "pids"});
  CHECK((*mounts)[2].mount_point == "/c");
  CHECK((*mounts)[2].fs_type == "tmpfs");
  CHECK((*mounts)[2].source == "none");
  CHECK((*mounts)[2].super_options ==
        std::vector<std::string>{"rw", "size=4k"});
}

TEST_CASE("ParseMountinfo decodes the kernel's octal escapes", "[unit]") {
  const char text[] =
      "40 30 0:40 /my\\040root /mnt/my\\040cgroup\\011tab rw - cgroup "
      "my\\134src rw,memory\n";
  absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(text);
  REQUIRE_OK(mounts);
  REQUIRE(mounts->size() == 1);
  CHECK((*mounts)[0].root == "/my root");
  CHECK((*mounts)[0].mount_point == "/mnt/my cgroup\ttab");
  CHECK((*mounts)[0].source == "my\\src");
}

TEST_CASE("ParseMountinfo skips blank lines and accepts no trailing newline",
          "[unit]") {
  absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(
      "\n35 30 0:31 / /a rw - cgroup cgroup rw,memory\n\n"
      "36 30 0:32 / /b rw - cgroup cgroup rw,pids");
  REQUIRE_OK(mounts);
  REQUIRE(mounts->size() == 2);
  CHECK((*mounts)[1].mount_point == "/b");
  absl::StatusOr<std::vector<MountInfo>> none = ParseMountinfo("");
  REQUIRE_OK(none);
  CHECK(none->empty());
}

TEST_CASE("ParseMountinfo skips a line without the \" - \" separator",
          "[unit]") {
  std::vector<std::string> skipped;
  absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(
      "35 30 0:31 / /a rw - cgroup cgroup rw,memory\n"
      "36 30 0:32 / /b rw shared:5 cgroup cgroup rw,pids\n",
      &skipped);
  REQUIRE_OK(mounts);
  REQUIRE(mounts->size() == 1);
  CHECK((*mounts)[0].mount_point == "/a");
  // The skipped line is described with its number and text.
  REQUIRE(skipped.size() == 1);
  CHECK(absl::StrContains(skipped[0], "line 2"));
  CHECK(absl::StrContains(skipped[0],
                          "36 30 0:32 / /b rw shared:5 cgroup cgroup rw,pids"));
}

TEST_CASE("ParseMountinfo skips a short non-cgroup line, refuses a short "
          "cgroup line naming it",
          "[unit]") {
  for (const char* line : {"35 30 0:31 / - tmpfs tmpfs rw",
                           "35 30 0:31 / /a rw - tmpfs tmpfs",
                           "35 30 0:31 / /a rw - "}) {
    INFO(line);
    std::vector<std::string> skipped;
    absl::StatusOr<std::vector<MountInfo>> mounts =
        ParseMountinfo(line, &skipped);
    REQUIRE_OK(mounts);
    CHECK(mounts->empty());
    CHECK(skipped.size() == 1);
  }
  for (const char* line : {"35 30 0:31 / - cgroup cgroup rw,memory",
                           "35 30 0:31 / /a rw - cgroup cgroup",
                           "35 30 0:31 / /a rw - cgroup2"}) {
    INFO(line);
    absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(
        absl::StrCat("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n", line, "\n"));
    REQUIRE_FALSE(mounts.ok());
    CHECK(mounts.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(mounts.status().message(), "line 2"));
    CHECK(absl::StrContains(mounts.status().message(), line));
  }
}

TEST_CASE("ParseMountinfo keeps nsfs and //deleted roots as the kernel writes "
          "them (issue 10)",
          "[unit]") {
  // The line of issue 10's transcript, after `ip netns add x`.
  const std::string text =
      absl::StrCat(kHostMountinfo,
                   "44 75 0:4 net:[4026532177] /run/netns/x rw shared:1 - nsfs "
                   "nsfs rw\n"
                   "45 22 8:1 /srv/gone//deleted /mnt/gone rw - ext4 /dev/sda1 "
                   "rw\n");
  std::vector<std::string> skipped;
  absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(text, &skipped);
  REQUIRE_OK(mounts);
  CHECK(skipped.empty());
  REQUIRE(mounts->size() == 9);
  CHECK((*mounts)[7].root == "net:[4026532177]");
  CHECK((*mounts)[7].mount_point == "/run/netns/x");
  CHECK((*mounts)[7].fs_type == "nsfs");
  CHECK((*mounts)[8].root == "/srv/gone//deleted");
  // And resolution is the same as without those lines.
  absl::StatusOr<ResolvedCgroup> with =
      ResolveMemoryCgroup(PathLoc("/demo/c"), text, kHostProcCgroup);
  REQUIRE_OK(with);
  CHECK(with->full_path == "/sys/fs/cgroup/memory/demo/c");
}

TEST_CASE("ParseMountinfo refuses a cgroup mount with a relative root or "
          "mount point, naming the line",
          "[unit]") {
  for (const char* line :
       {"35 31 0:32 / sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
        "35 31 0:32 x /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
        "35 31 0:32 net:[1] /sys/fs/cgroup rw - cgroup2 cgroup2 rw"}) {
    INFO(line);
    absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(line);
    REQUIRE_FALSE(mounts.ok());
    CHECK(mounts.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(mounts.status().message(), "line 1"));
    CHECK(absl::StrContains(mounts.status().message(), line));
  }
}

TEST_CASE("FindHierarchy ignores a non-cgroup mount with a relative mount "
          "point",
          "[unit]") {
  absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(
      "1 0 0:1 / rel rw - tmpfs none rw,memory\n"
      "2 0 0:2 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
  REQUIRE_OK(mounts);
  absl::StatusOr<HierarchyMount> h = FindHierarchy(*mounts, "memory");
  REQUIRE_OK(h);
  CHECK(h->mount_point == "/sys/fs/cgroup/memory");
}

// --------------------------------------------------------- ParseProcCgroup

TEST_CASE("ParseProcCgroup keys every co-mounted controller", "[unit]") {
  absl::StatusOr<std::map<std::string, std::string>> own =
      ParseProcCgroup(kHostProcCgroup);
  REQUIRE_OK(own);
  CHECK(own->size() == 5);
  CHECK(own->at("memory") == "/user.slice");
  CHECK(own->at("cpu") == "/user.slice");
  CHECK(own->at("cpuacct") == "/user.slice");
  CHECK(own->at("name=systemd") == "/user.slice/session-1.scope");
  // cgroup2's "0::/..." line has an empty controller list.
  CHECK(own->at("") == "/user.slice/session-1.scope");
}

TEST_CASE("ParseProcCgroup reads \"4:cpu,cpuacct:/x\" and \"0::/\"", "[unit]") {
  absl::StatusOr<std::map<std::string, std::string>> own =
      ParseProcCgroup("4:cpu,cpuacct:/x\n0::/\n");
  REQUIRE_OK(own);
  CHECK(*own == std::map<std::string, std::string>{
                    {"cpu", "/x"}, {"cpuacct", "/x"}, {"", "/"}});
}

TEST_CASE("ParseProcCgroup keeps colons inside the path", "[unit]") {
  // runc splits with SplitN(text, ":", 3).
  absl::StatusOr<std::map<std::string, std::string>> own =
      ParseProcCgroup("5:memory:/a:b:c\n");
  REQUIRE_OK(own);
  CHECK(own->at("memory") == "/a:b:c");
}

TEST_CASE("ParseProcCgroup skips a malformed line unless it is the memory "
          "line",
          "[unit]") {
  std::vector<std::string> skipped;
  absl::StatusOr<std::map<std::string, std::string>> own =
      ParseProcCgroup("12:memory:/a\n4:cpu\ngarbage\n", &skipped);
  REQUIRE_OK(own);
  CHECK(own->size() == 1);
  CHECK(own->at("memory") == "/a");
  CHECK(skipped.size() == 2);
  // The memory line is the one we need: runc's text, naming it.
  absl::StatusOr<std::map<std::string, std::string>> bad =
      ParseProcCgroup("4:cpu:/\n12-memory\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.status().message() ==
        "invalid cgroup entry: must contain at least two colons: 12-memory");
}

// ------------------------------------------- FindHierarchy / FindCgroupRoot

TEST_CASE("FindHierarchy matches a super option exactly", "[unit]") {
  absl::StatusOr<std::vector<MountInfo>> mounts =
      ParseMountinfo(kHostMountinfo);
  REQUIRE_OK(mounts);
  absl::StatusOr<HierarchyMount> memory = FindHierarchy(*mounts, "memory");
  REQUIRE_OK(memory);
  CHECK(memory->mount_point == "/sys/fs/cgroup/memory");
  CHECK(memory->root == "/");
  absl::StatusOr<HierarchyMount> cpuacct = FindHierarchy(*mounts, "cpuacct");
  REQUIRE_OK(cpuacct);
  CHECK(cpuacct->mount_point == "/sys/fs/cgroup/cpu,cpuacct");
  // name=systemd is found through its option, whatever the fs type.
  absl::StatusOr<HierarchyMount> systemd =
      FindHierarchy(*mounts, "name=systemd");
  REQUIRE_OK(systemd);
  CHECK(systemd->mount_point == "/sys/fs/cgroup/systemd");
  // "mem" is not "memory"; "cpu,cpuacct" is not an option.
  absl::StatusOr<HierarchyMount> mem = FindHierarchy(*mounts, "mem");
  REQUIRE_FALSE(mem.ok());
  CHECK(mem.status().code() == absl::StatusCode::kNotFound);
  CHECK(mem.status().message() == "mountpoint for mem not found");
  CHECK(FindHierarchy(*mounts, "cpu,cpuacct").status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("FindHierarchy returns the first matching mount", "[unit]") {
  absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(
      "1 0 0:1 /first /m1 rw - cgroup cgroup rw,memory\n"
      "2 0 0:1 /second /m2 rw - cgroup cgroup rw,memory\n");
  REQUIRE_OK(mounts);
  absl::StatusOr<HierarchyMount> h = FindHierarchy(*mounts, "memory");
  REQUIRE_OK(h);
  CHECK(h->mount_point == "/m1");
  CHECK(h->root == "/first");
}

TEST_CASE("FindCgroupRoot is the parent of the first cgroup v1 mount",
          "[unit]") {
  absl::StatusOr<std::vector<MountInfo>> mounts =
      ParseMountinfo(kHostMountinfo);
  REQUIRE_OK(mounts);
  absl::StatusOr<std::string> root = FindCgroupRoot(*mounts);
  REQUIRE_OK(root);
  // The cgroup2 mount at /sys/fs/cgroup/unified comes first but is not of
  // type "cgroup".
  CHECK(*root == "/sys/fs/cgroup");

  absl::StatusOr<std::vector<MountInfo>> top =
      ParseMountinfo("1 0 0:1 / /memory rw - cgroup cgroup rw,memory\n");
  REQUIRE_OK(top);
  absl::StatusOr<std::string> slash = FindCgroupRoot(*top);
  REQUIRE_OK(slash);
  CHECK(*slash == "/");

  absl::StatusOr<std::vector<MountInfo>> v2 = ParseMountinfo(
      "1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  REQUIRE_OK(v2);
  absl::StatusOr<std::string> missing = FindCgroupRoot(*v2);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
}

// ------------------------------------------------------ ResolveMemoryCgroup

TEST_CASE("An absolute cgroups path lies under the memory mount", "[unit]") {
  absl::StatusOr<ResolvedCgroup> r = ResolveMemoryCgroup(
      PathLoc("/kubepods/burstable/pod1"), kHostMountinfo, kHostProcCgroup);
  REQUIRE_OK(r);
  CHECK(r->hierarchy_root == "/sys/fs/cgroup/memory");
  CHECK(r->full_path == "/sys/fs/cgroup/memory/kubepods/burstable/pod1");
  CHECK(r->path.ToString() == "kubepods/burstable/pod1");
  CHECK_FALSE(r->explicit_path);
}

TEST_CASE("Resolution skips mounts that cannot matter, and only those",
          "[unit]") {
  // A node's mountinfo: hundreds of pod volumes and overlays before the
  // cgroup mounts. ResolveMemoryCgroup parses only lines that hold
  // "cgroup" or "memory"; the result must be that of the full parse.
  std::string noise;
  for (int i = 0; i < 300; ++i) {
    absl::StrAppend(&noise, 100 + i, " 22 0:", 50 + i,
                    " / /var/lib/kubelet/pods/p", i,
                    "/volumes/x\\040y rw,relatime - tmpfs tmpfs rw,size=4k\n");
  }
  for (const char* path : {"/kubepods/pod1", "rel/c"}) {
    absl::StatusOr<ResolvedCgroup> plain =
        ResolveMemoryCgroup(PathLoc(path), kHostMountinfo, kHostProcCgroup);
    absl::StatusOr<ResolvedCgroup> noisy = ResolveMemoryCgroup(
        PathLoc(path), noise + kHostMountinfo, kHostProcCgroup);
    REQUIRE_OK(plain);
    REQUIRE_OK(noisy);
    CHECK(noisy->full_path == plain->full_path);
    CHECK(noisy->hierarchy_root == plain->hierarchy_root);
  }
  // runc matches the hierarchy on the super options alone, whatever the fs
  // type: a line that is no cgroup mount but holds "memory" is kept.
  std::string fuse =
      "40 22 0:40 / /mnt/fake rw - fuse.x fuse.x rw,memory\n" + noise +
      kHostMountinfo;
  absl::StatusOr<ResolvedCgroup> r =
      ResolveMemoryCgroup(PathLoc("rel/c"), fuse, kHostProcCgroup);
  REQUIRE_OK(r);
  CHECK(r->hierarchy_root == "/mnt/fake");
  // A refused cgroup line is still named by its own line number.
  absl::StatusOr<ResolvedCgroup> bad = ResolveMemoryCgroup(
      PathLoc("/c"), noise + "35 30 0:31 / memory rw - cgroup cgroup rw,memory\n",
      kHostProcCgroup);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()),
             Catch::Matchers::Contains("mountinfo line 301"));
}

TEST_CASE("An absolute path is not relative to the caller's own cgroup",
          "[unit]") {
  // The caller sits in /user.slice; "/ctr" still lands at the mount's top.
  absl::StatusOr<ResolvedCgroup> r =
      ResolveMemoryCgroup(PathLoc("/ctr"), kHostMountinfo, kHostProcCgroup);
  REQUIRE_OK(r);
  CHECK(r->full_path == "/sys/fs/cgroup/memory/ctr");
}

TEST_CASE("A relative cgroups path lies under the caller's own memory cgroup",
          "[unit]") {
  absl::StatusOr<ResolvedCgroup> r = ResolveMemoryCgroup(
      PathLoc("kubepods/ctr"), kHostMountinfo, kHostProcCgroup);
  REQUIRE_OK(r);
  CHECK(r->full_path == "/sys/fs/cgroup/memory/user.slice/kubepods/ctr");
  CHECK(r->path.components() ==
        std::vector<std::string>{"user.slice", "kubepods", "ctr"});
}

TEST_CASE("An empty path with Name = id is the id under the own cgroup",
          "[unit]") {
  CgroupLocation loc;
  loc.name = "4f1c0d";
  absl::StatusOr<ResolvedCgroup> r =
      ResolveMemoryCgroup(loc, kHostMountinfo, kHostProcCgroup);
  REQUIRE_OK(r);
  CHECK(r->full_path == "/sys/fs/cgroup/memory/user.slice/4f1c0d");
  CHECK(r->path.ToString() == "user.slice/4f1c0d");
}

TEST_CASE("Parent and Name are joined; an absolute Parent anchors at the mount",
          "[unit]") {
  absl::StatusOr<ResolvedCgroup> abs = ResolveMemoryCgroup(
      ParentName("/kubepods/burstable", "pod1"), kHostMountinfo,
      kHostProcCgroup);
  REQUIRE_OK(abs);
  CHECK(abs->full_path == "/sys/fs/cgroup/memory/kubepods/burstable/pod1");

  absl::StatusOr<ResolvedCgroup> rel = ResolveMemoryCgroup(
      ParentName("kubepods", "pod1"), kHostMountinfo, kHostProcCgroup);
  REQUIRE_OK(rel);
  CHECK(rel->full_path == "/sys/fs/cgroup/memory/user.slice/kubepods/pod1");

  // A Parent alone is a location too.
  absl::StatusOr<ResolvedCgroup> parent_only = ResolveMemoryCgroup(
      ParentName("/kubepods", ""), kHostMountinfo, kHostProcCgroup);
  REQUIRE_OK(parent_only);
  CHECK(parent_only->full_path == "/sys/fs/cgroup/memory/kubepods");
}

TEST_CASE("Path together with Name or Parent is refused with runc's text",
          "[unit]") {
  CgroupLocation with_name = PathLoc("/a");
  with_name.name = "b";
  CgroupLocation with_parent = PathLoc("/a");
  with_parent.parent = "p";
  for (const CgroupLocation& loc : {with_name, with_parent}) {
    absl::StatusOr<ResolvedCgroup> r =
        ResolveMemoryCgroup(loc, kHostMountinfo, kHostProcCgroup);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(r.status().message() ==
          "cgroup: either Path or Name and Parent should be used");
  }
}

TEST_CASE("A nested container resolves relative paths below its mount root",
          "[unit]") {
  // Own cgroup /docker/abc/sub, mount root /docker/abc: runc's
  // filepath.Rel(root, own) = "sub".
  absl::StatusOr<ResolvedCgroup> r =
      ResolveMemoryCgroup(PathLoc("ctr"), kNestedMountinfo, kNestedProcCgroup);
  REQUIRE_OK(r);
  CHECK(r->hierarchy_root == "/sys/fs/cgroup/memory");
  CHECK(r->full_path == "/sys/fs/cgroup/memory/sub/ctr");
  CHECK(r->path.ToString() == "sub/ctr");
  // An absolute path ignores the own cgroup.
  absl::StatusOr<ResolvedCgroup> a =
      ResolveMemoryCgroup(PathLoc("/ctr"), kNestedMountinfo, kNestedProcCgroup);
  REQUIRE_OK(a);
  CHECK(a->full_path == "/sys/fs/cgroup/memory/ctr");
}

TEST_CASE("An own cgroup above the mount root cannot lead outside the mount",
          "[unit]") {
  // /proc/self/cgroup says "/", the mount's root is /docker/abc: Rel gives
  // "../..", which would climb above the mount point.
  absl::StatusOr<ResolvedCgroup> r =
      ResolveMemoryCgroup(PathLoc("ctr"), kNestedMountinfo, "9:memory:/\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(r.status().message(), "outside"));
}

TEST_CASE("Memory missing from /proc/self/cgroup is NotFound", "[unit]") {
  absl::StatusOr<ResolvedCgroup> r = ResolveMemoryCgroup(
      PathLoc("/ctr"), kHostMountinfo,
      "4:cpu,cpuacct:/user.slice\n0::/user.slice\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kNotFound);
  CHECK(r.status().message() == "mountpoint for memory not found");
}

TEST_CASE("Memory in /proc/self/cgroup but not mounted is NotFound", "[unit]") {
  absl::StatusOr<ResolvedCgroup> r = ResolveMemoryCgroup(
      PathLoc("/ctr"),
      "36 30 0:32 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n",
      "12:memory:/\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("A name=memory entry of /proc/self/cgroup counts as memory",
          "[unit]") {
  absl::StatusOr<ResolvedCgroup> r = ResolveMemoryCgroup(
      PathLoc("ctr"), kHostMountinfo, "3:name=memory:/grp\n");
  REQUIRE_OK(r);
  CHECK(r->full_path == "/sys/fs/cgroup/memory/grp/ctr");
}

TEST_CASE("Resolution passes parse errors of both texts through", "[unit]") {
  absl::StatusOr<ResolvedCgroup> bad_mounts = ResolveMemoryCgroup(
      PathLoc("/ctr"), "35 30 0:31 / memory rw - cgroup cgroup rw,memory\n",
      kHostProcCgroup);
  REQUIRE_FALSE(bad_mounts.ok());
  CHECK(bad_mounts.status().code() == absl::StatusCode::kInvalidArgument);
  absl::StatusOr<ResolvedCgroup> bad_cgroup =
      ResolveMemoryCgroup(PathLoc("/ctr"), kHostMountinfo, "12-memory\n");
  REQUIRE_FALSE(bad_cgroup.ok());
  CHECK(bad_cgroup.status().message() ==
        "invalid cgroup entry: must contain at least two colons: 12-memory");
}

TEST_CASE("Explicit controller paths are used as given and marked explicit",
          "[unit]") {
  CgroupLocation loc;
  loc.controller_paths = {{"memory", "/sys/fs/cgroup/memory/sys/ctr/"},
                          {"cpu", "/sys/fs/cgroup/cpu,cpuacct/elsewhere"}};
  absl::StatusOr<ResolvedCgroup> r =
      ResolveMemoryCgroup(loc, kHostMountinfo, kHostProcCgroup);
  REQUIRE_OK(r);
  CHECK(r->explicit_path);
  CHECK(r->full_path == "/sys/fs/cgroup/memory/sys/ctr");
  CHECK(r->path.ToString() == "sys/ctr");
}

TEST_CASE("Explicit controller paths without memory, relative or outside fail",
          "[unit]") {
  CgroupLocation no_memory;
  no_memory.controller_paths = {{"cpu", "/sys/fs/cgroup/cpu/x"}};
  CHECK(ResolveMemoryCgroup(no_memory, kHostMountinfo, kHostProcCgroup)
            .status()
            .code() == absl::StatusCode::kNotFound);

  CgroupLocation relative;
  relative.controller_paths = {{"memory", "sys/ctr"}};
  CHECK(ResolveMemoryCgroup(relative, kHostMountinfo, kHostProcCgroup)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);

  CgroupLocation outside;
  outside.controller_paths = {{"memory", "/sys/fs/cgroup/memory/../cpu/x"}};
  absl::StatusOr<ResolvedCgroup> r =
      ResolveMemoryCgroup(outside, kHostMountinfo, kHostProcCgroup);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(r.status().message(), "/sys/fs/cgroup/cpu/x"));
}

TEST_CASE("A location naming nothing is refused", "[unit]") {
  for (const CgroupLocation& loc :
       {CgroupLocation{}, PathLoc("/"), PathLoc("/../.."), PathLoc("."),
        ParentName("", ".."), ParentName("/", "")}) {
    INFO("path=\"" << loc.path << "\" parent=\"" << loc.parent << "\" name=\""
                   << loc.name << "\"");
    absl::StatusOr<ResolvedCgroup> r =
        ResolveMemoryCgroup(loc, kHostMountinfo, kHostProcCgroup);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("A location that resolves to the hierarchy root is refused",
          "[unit]") {
  // Mount root /a, own cgroup "/": Rel = "..", and the relative path
  // "memory" climbs straight back to /sys/fs/cgroup/memory itself. runc
  // would operate on the root; we refuse.
  absl::StatusOr<ResolvedCgroup> r = ResolveMemoryCgroup(
      PathLoc("memory"),
      "35 30 0:31 /a /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
      "12:memory:/\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(r.status().message(), "hierarchy root"));
}

// Ports of runc apply_raw_test.go's eight TestInvalid* cases: a hostile
// location must stay inside the memory hierarchy.
TEST_CASE("Hostile '..' locations stay inside the memory hierarchy", "[unit]") {
  const std::string rel = "../../../../../../../../../../some/path";
  const std::string abs = "/../../../../../../../../../../some/path";
  struct Case {
    const char* what;
    CgroupLocation loc;
    const char* want;
  };
  const Case cases[] = {
      {"Path", PathLoc(rel), "/sys/fs/cgroup/memory/user.slice/some/path"},
      {"absolute Path", PathLoc(abs), "/sys/fs/cgroup/memory/some/path"},
      {"Parent", ParentName(rel, "name"),
       "/sys/fs/cgroup/memory/user.slice/some/path/name"},
      {"absolute Parent", ParentName(abs, "name"),
       "/sys/fs/cgroup/memory/some/path/name"},
      {"Name", ParentName("parent", rel),
       "/sys/fs/cgroup/memory/user.slice/parent/some/path"},
      {"absolute Name", ParentName("parent", abs),
       "/sys/fs/cgroup/memory/user.slice/parent/some/path"},
      {"Name and Parent", ParentName(rel, rel),
       "/sys/fs/cgroup/memory/user.slice/some/path/some/path"},
      {"absolute Name and Parent", ParentName(abs, abs),
       "/sys/fs/cgroup/memory/some/path/some/path"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    absl::StatusOr<ResolvedCgroup> r =
        ResolveMemoryCgroup(c.loc, kHostMountinfo, kHostProcCgroup);
    REQUIRE_OK(r);
    CHECK(r->full_path == c.want);
    CHECK(absl::StartsWith(r->full_path, "/sys/fs/cgroup/memory/"));
    for (const std::string& component : r->path.components()) {
      CHECK(component != "..");
      CHECK(component != ".");
    }
  }
}

TEST_CASE("Hostile '..' locations stay inside a nested container's mount",
          "[unit]") {
  for (const char* p : {"../../../../../../../../../../some/path",
                        "/../../../../../../../../../../some/path"}) {
    INFO(p);
    absl::StatusOr<ResolvedCgroup> r =
        ResolveMemoryCgroup(PathLoc(p), kNestedMountinfo, kNestedProcCgroup);
    REQUIRE_OK(r);
    CHECK(absl::StartsWith(r->full_path, "/sys/fs/cgroup/memory/"));
    CHECK(absl::EndsWith(r->full_path, "/some/path"));
  }
}

// ---------------------------------------------------------------- CgroupPath

TEST_CASE("CgroupPath::Parse splits components and ignores outer slashes",
          "[unit]") {
  absl::StatusOr<CgroupPath> p = CgroupPath::Parse("/a/b/c/");
  REQUIRE_OK(p);
  CHECK(p->components() == std::vector<std::string>{"a", "b", "c"});
  CHECK(p->ToString() == "a/b/c");
  CHECK(p->Leaf() == "c");
  CHECK(p->Parent().ToString() == "a/b");
  CHECK(p->Child("d").ToString() == "a/b/c/d");
  CHECK_FALSE(p->IsRoot());

  absl::StatusOr<CgroupPath> root = CgroupPath::Parse("");
  REQUIRE_OK(root);
  CHECK(root->IsRoot());
  CHECK(root->ToString() == "");
  CHECK(root->Leaf() == "");
  CHECK(root->Parent() == *root);
  absl::StatusOr<CgroupPath> slash = CgroupPath::Parse("/");
  REQUIRE_OK(slash);
  CHECK(slash->IsRoot());
}

TEST_CASE("CgroupPath::Contains is component-wise, not a string prefix",
          "[unit]") {
  CgroupPath ab = *CgroupPath::Parse("a/b");
  CHECK(ab.Contains(*CgroupPath::Parse("a/b")));
  CHECK(ab.Contains(*CgroupPath::Parse("a/b/c")));
  CHECK_FALSE(ab.Contains(*CgroupPath::Parse("a/bc")));
  CHECK_FALSE(ab.Contains(*CgroupPath::Parse("a")));
  CHECK(CgroupPath().Contains(ab));
  CHECK(ab != *CgroupPath::Parse("a/bc"));
}

TEST_CASE("CgroupPath::Parse rejects components that could escape or are "
          "invalid",
          "[unit]") {
  const std::string nul("a/b\0c", 5);
  const std::string long_component(256, 'x');
  const std::string cases[] = {"..",   "a/..",       "../a", ".",    "a/./b",
                               nul,    "a/" + long_component, "a//b",
                               "/a//b/"};
  for (const std::string& c : cases) {
    INFO("\"" << c << "\"");
    absl::StatusOr<CgroupPath> p = CgroupPath::Parse(c);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(absl::StrContains(CgroupPath::Parse("a/../b").status().message(),
                          "\"..\""));
  CHECK(absl::StrContains(
      CgroupPath::Parse("a/" + long_component).status().message(), "256"));
}

TEST_CASE("CgroupPath::Parse accepts a 255-byte component", "[unit]") {
  const std::string max_component(255, 'y');
  absl::StatusOr<CgroupPath> p = CgroupPath::Parse("a/" + max_component);
  REQUIRE_OK(p);
  CHECK(p->Leaf() == max_component);
  // Names that merely contain dots are fine.
  REQUIRE_OK(CgroupPath::Parse("a.b/..c/...d/.e"));
}

// ------------------------------------------- the mountinfo seed corpus
// tests/fuzz/corpus/mountinfo_fuzz/ holds realistic mountinfo files of the
// hosts we run on (written for this project from proc(5) and the kernel's
// formats); each must parse without a skipped line and resolve to its memory
// hierarchy.

struct CorpusCase {
  const char* file;
  CgroupLayout layout;
  const char* memory_mount;  // "" for pure v2
  int nsfs_mounts;
};

TEST_CASE("Every mountinfo of the seed corpus resolves to its memory "
          "hierarchy",
          "[unit]") {
  const CorpusCase cases[] = {
      {"docker_host_containers.txt", CgroupLayout::kHybrid,
       "/sys/fs/cgroup/memory", 2},
      {"k8s_node_cni.txt", CgroupLayout::kV1, "/sys/fs/cgroup/memory", 2},
      {"systemd_autofs_deleted.txt", CgroupLayout::kHybrid,
       "/sys/fs/cgroup/memory", 2},
      {"hybrid_netns_ubuntu.txt", CgroupLayout::kHybrid,
       "/sys/fs/cgroup/memory", 2},
      {"host_v1_hybrid.txt", CgroupLayout::kHybrid, "/sys/fs/cgroup/memory", 0},
      {"pure_v2_netns.txt", CgroupLayout::kUnifiedV2, "", 1},
      {"pure_v2.txt", CgroupLayout::kUnifiedV2, "", 0},
  };
  for (const CorpusCase& c : cases) {
    INFO(c.file);
    absl::StatusOr<std::string> text = ReadHostFile(absl::StrCat(
        KMEMGUARD_TESTS_DIR, "/fuzz/corpus/mountinfo_fuzz/", c.file));
    REQUIRE_OK(text);
    std::vector<std::string> skipped;
    absl::StatusOr<std::vector<MountInfo>> mounts =
        ParseMountinfo(*text, &skipped);
    REQUIRE_OK(mounts);
    CHECK(skipped.empty());
    int nsfs = 0;
    for (const MountInfo& m : *mounts) nsfs += m.fs_type == "nsfs";
    CHECK(nsfs == c.nsfs_mounts);
    LayoutInfo layout = DetectLayout(*mounts);
    CHECK(layout.layout == c.layout);
    CHECK(layout.memory_mount == c.memory_mount);
    absl::StatusOr<ResolvedCgroup> r =
        ResolveMemoryCgroup(PathLoc("/demo/c"), *text, kHostProcCgroup);
    if (c.memory_mount[0] == '\0') {
      CHECK(r.status().code() == absl::StatusCode::kNotFound);
    } else {
      REQUIRE_OK(r);
      CHECK(r->hierarchy_root == c.memory_mount);
      CHECK(r->full_path == absl::StrCat(c.memory_mount, "/demo/c"));
      // Relative paths go below the caller's own memory cgroup.
      absl::StatusOr<ResolvedCgroup> rel =
          ResolveMemoryCgroup(PathLoc("c"), *text, kHostProcCgroup);
      REQUIRE_OK(rel);
      CHECK(rel->full_path == absl::StrCat(c.memory_mount, "/user.slice/c"));
    }
  }
}

TEST_CASE("The seed corpus's escaped kubelet volumes and //deleted roots "
          "decode",
          "[unit]") {
  absl::StatusOr<std::string> k8s = ReadHostFile(absl::StrCat(
      KMEMGUARD_TESTS_DIR, "/fuzz/corpus/mountinfo_fuzz/k8s_node_cni.txt"));
  REQUIRE_OK(k8s);
  absl::StatusOr<std::vector<MountInfo>> mounts = ParseMountinfo(*k8s);
  REQUIRE_OK(mounts);
  int spaced = 0;
  for (const MountInfo& m : *mounts) {
    if (absl::StrContains(m.mount_point, "my tls keys") ||
        absl::StrContains(m.mount_point, "build cache/builder/0"))
      ++spaced;
  }
  CHECK(spaced == 2);
  absl::StatusOr<std::string> systemd = ReadHostFile(
      absl::StrCat(KMEMGUARD_TESTS_DIR,
                   "/fuzz/corpus/mountinfo_fuzz/systemd_autofs_deleted.txt"));
  REQUIRE_OK(systemd);
  mounts = ParseMountinfo(*systemd);
  REQUIRE_OK(mounts);
  bool deleted = false;
  for (const MountInfo& m : *mounts) {
    deleted = deleted || (m.root == "/var/lib/old data//deleted" &&
                          m.mount_point == "/srv/old data");
  }
  CHECK(deleted);
}

}  // namespace
}  // namespace kmemguard
