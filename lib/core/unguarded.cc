// SPDX-License-Identifier: Apache-2.0
//
// The one place of kmemguard::core besides the cgroupfs seam that makes
// system calls (mkdir, open, fstat, fcntl locks, ftruncate, write, pread):
// the counter is a record file in the state directory, not cgroupfs, and
// its locking and torn-tail repair (unguarded.h) are this file's own
// protocol, which a generic "read a whole host file" helper cannot carry.
// Its calls must stay within kmemguard-hook's seccomp allowlist
// (shim/seccomp_filter.cc).

#include "kmemguard/core/unguarded.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kmemguard/core/memcg.h"
#include "kmemguard/core/status.h"

namespace kmemguard {
namespace {

std::string OneLine(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string CounterPath(const std::string& state_dir) {
  return absl::StrCat(state_dir, "/", kUnguardedFileName);
}

// mkdir -p for the state directory; EEXIST is fine.
absl::Status MakeDirs(const std::string& dir) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string prefix = dir.substr(0, slash);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoError(errno, "mkdir", prefix);
    }
    if (slash == std::string::npos) return absl::OkStatus();
  }
}

// A whole-file POSIX record lock (fcntl F_SETLKW), waiting, retried on
// EINTR. Not flock(2): kmemguard-hook reads under a seccomp allowlist that
// has fcntl and not flock (shim/common/seccomp_filter.cc); not an OFD lock: those
// need Linux 3.15, and RHEL 7's 3.10 is a kernel we exist for. The
// process-wide semantics of POSIX locks are harmless here: each call holds
// the file open exactly once and closes it at the end.
absl::Status Lock(int fd, short type, const std::string& path) {
  struct flock lock = {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // the whole file, however long it grows
  while (fcntl(fd, F_SETLKW, &lock) != 0) {
    if (errno != EINTR) return ErrnoError(errno, "lock", path);
  }
  return absl::OkStatus();
}

// Closes the descriptor (and so drops its lock) on every return path.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::string FormatUnguardedRecord(const UnguardedRecord& record) {
  std::string id = OneLine(record.container_id);
  if (id.empty()) id = "-";
  if (id.find(' ') != std::string::npos) id = "?";
  std::string line =
      absl::StrCat(absl::ToUnixSeconds(record.time), " ", id, " ",
                   OneLine(record.reason));
  if (line.size() > kUnguardedRecordSize - 1) {
    line.resize(kUnguardedRecordSize - 1);
    // Do not leave half a UTF-8 sequence at the cut.
    while (!line.empty() && (static_cast<unsigned char>(line.back()) & 0xC0) == 0x80)
      line.pop_back();
    if (!line.empty() && static_cast<unsigned char>(line.back()) >= 0xC0)
      line.pop_back();
  }
  line.resize(kUnguardedRecordSize - 1, ' ');
  line.push_back('\n');
  return line;
}

absl::StatusOr<UnguardedRecord> ParseUnguardedRecord(absl::string_view bytes) {
  std::vector<absl::string_view> f =
      absl::StrSplit(bytes, absl::MaxSplits(' ', 2));
  int64_t seconds = 0;
  if (f.size() < 3 || !absl::SimpleAtoi(f[0], &seconds) || seconds < 0 ||
      f[1].empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unguarded-starts record is not \"<seconds> <id> <reason>\": \"",
        absl::StripTrailingAsciiWhitespace(bytes.substr(0, 80)), "\""));
  }
  UnguardedRecord r;
  r.time = absl::FromUnixSeconds(seconds);
  r.container_id = f[1] == "-" ? "" : std::string(f[1]);
  r.reason = std::string(absl::StripAsciiWhitespace(f[2]));
  return r;
}

absl::Status RecordUnguardedStart(const std::string& state_dir,
                                  absl::string_view container_id,
                                  absl::string_view reason, absl::Time now) {
  absl::Status made = MakeDirs(state_dir);
  if (!made.ok()) return made;
  const std::string path = CounterPath(state_dir);
  ScopedFd fd(open(path.c_str(),
             O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (fd.get() < 0) return ErrnoError(errno, "open", path);
  absl::Status locked = Lock(fd.get(), F_WRLCK, path);
  if (!locked.ok()) return locked;
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoError(errno, "fstat", path);
  // A record torn by a crash (power loss on a disk state-dir, or ENOSPC
  // below) is cut off so the next one starts on a record boundary.
  const off_t record_size = static_cast<off_t>(kUnguardedRecordSize);
  const off_t aligned = st.st_size - st.st_size % record_size;
  if (aligned != st.st_size && ftruncate(fd.get(), aligned) != 0) {
    return ErrnoError(errno, "ftruncate", path);
  }
  const std::string bytes =
      FormatUnguardedRecord(UnguardedRecord{now, std::string(container_id),
                                            std::string(reason)});
  ssize_t n;
  do {
    n = write(fd.get(), bytes.data(), bytes.size());
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(bytes.size())) {
    int err = n < 0 ? errno : ENOSPC;
    (void)ftruncate(fd.get(), aligned);
    return ErrnoError(err, "write", path, bytes.substr(0, 40));
  }
  return absl::OkStatus();
}

absl::StatusOr<UnguardedStarts> ReadUnguardedStarts(
    const std::string& state_dir) {
  UnguardedStarts out;
  out.path = CounterPath(state_dir);
  ScopedFd fd(open(out.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) return out;
    return ErrnoError(errno, "open", out.path);
  }
  absl::Status locked = Lock(fd.get(), F_RDLCK, out.path);
  if (!locked.ok()) return locked;
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoError(errno, "fstat", out.path);
  out.count = static_cast<int64_t>(st.st_size) /
              static_cast<int64_t>(kUnguardedRecordSize);
  if (out.count == 0) return out;
  std::string last(kUnguardedRecordSize, '\0');
  ssize_t n;
  do {
    n = pread(fd.get(), last.data(), last.size(),
              static_cast<off_t>(out.count - 1) *
                  static_cast<off_t>(kUnguardedRecordSize));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError(errno, "read", out.path);
  last.resize(static_cast<size_t>(n));
  absl::StatusOr<UnguardedRecord> record = ParseUnguardedRecord(last);
  if (record.ok()) out.last = *std::move(record);
  return out;
}

std::string DescribeUnguardedStarts(const UnguardedStarts& s) {
  if (s.count == 0) return "";
  std::string out = absl::StrCat(
      WithThousands(s.count),
      s.count == 1 ? " container" : " containers",
      " started without the kmem guard since boot");
  if (s.last.has_value()) {
    absl::StrAppend(
        &out, "; last at ",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", s.last->time, absl::UTCTimeZone()),
        s.last->container_id.empty() ? ""
                                     : absl::StrCat(" (", s.last->container_id, ")"),
        ": ", s.last->reason);
  }
  return out;
}

}  // namespace kmemguard
