#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Regenerates tests/doctor/fixtures/: recorded /proc and /sys trees of four
# hosts (see docs/doctor.md "Fixtures"). The trees are committed; run this
# only to change them.
set -eu
cd "$(dirname "$0")"
rm -rf fixtures
U=9223372036854771712      # "unlimited" on 4.x+ (PAGE_COUNTER_MAX pages)
U310=9223372036854775807   # "unlimited" on 3.10 (RESOURCE_MAX)

memcg() { # memcg DIR UNLIMITED KMEM_LIMIT KMEM_USAGE SLABINFO USE_HIERARCHY
  mkdir -p "$1"
  echo "$2" >"$1/memory.limit_in_bytes"
  echo "$3" >"$1/memory.kmem.limit_in_bytes"
  echo "$4" >"$1/memory.kmem.usage_in_bytes"
  printf '%b' "$5" >"$1/memory.kmem.slabinfo"
  echo "$6" >"$1/memory.use_hierarchy"
  : >"$1/cgroup.procs"
}
v1_mountinfo() { # v1_mountinfo FILE [unified]
  mkdir -p "$(dirname "$1")"
  {
    echo "22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw"
    echo "25 22 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755"
    [ "${2:-}" = unified ] && echo "26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw"
    echo "27 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd"
    echo "31 25 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory"
    echo "32 25 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct"
  } >"$1"
}
proc_cgroups() { # proc_cgroups FILE HIERARCHY NUM
  cat >"$1" <<PC
#subsys_name	hierarchy	num_cgroups	enabled
cpuset	3	12	1
cpu	2	80	1
cpuacct	2	80	1
memory	$2	$3	1
devices	5	80	1
PC
}
runtime() { # runtime FILE VERSION-LINE [extra line]
  mkdir -p "$(dirname "$1")"
  printf '#!/bin/sh\n# %s\necho "%s"\necho "commit: fixture"\n' "${3:-}" "$2" >"$1"
  chmod 755 "$1"
}
SLAB='slabinfo - version: 2.1\n# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n'
SLAB_DENTRY="${SLAB}dentry(5:burstable)     1239   1239    192   21    1 : tunables    0    0    0 : slabdata     59     59      0\n"

# 1. el7-cliff: CentOS 7.6 kernel before 3.10.0-1075, 60,000 IDs in use,
#    kubepods parents kmem-active with use_hierarchy=1, runc rc93, kubelet
#    1.9: critical (exit 2).
F=fixtures/el7-cliff
mkdir -p $F/proc/sys/kernel $F/proc/self
echo "3.10.0-957.el7.x86_64" >$F/proc/sys/kernel/osrelease
echo "BOOT_IMAGE=/vmlinuz-3.10.0-957.el7.x86_64 root=/dev/mapper/centos-root ro crashkernel=auto rhgb quiet" >$F/proc/cmdline
proc_cgroups $F/proc/cgroups 4 60000
v1_mountinfo $F/proc/self/mountinfo
M=$F/sys/fs/cgroup/memory
memcg $M $U310 $U310 0 "" 1
memcg $M/kubepods $U310 $U310 1048576 "$SLAB" 1
memcg $M/kubepods/burstable $U310 $U310 0 "$SLAB_DENTRY" 1
memcg $M/kubepods/besteffort $U310 536870912 0 "$SLAB" 1
memcg $M/kubepods/burstable/pod1 $U310 $U310 4096 "$SLAB" 1
memcg $M/system.slice 0 $U310 0 "$SLAB" 1
mkdir -p $F/sys/fs/cgroup/systemd/system.slice/docker.service
: >$F/sys/fs/cgroup/systemd/system.slice/docker.service/cgroup.procs
runtime $F/bin/runc "runc version 1.0.0-rc93"
runtime $F/bin/kubelet "Kubernetes v1.9.11"

# 2. u44-nokmem: Ubuntu 16.04 4.4 kernel booted with cgroup.memory=nokmem,
#    40,000 IDs in use (61 %), runc rc10 built with nokmem: warning (exit 1).
F=fixtures/u44-nokmem
mkdir -p $F/proc/sys/kernel $F/proc/self
echo "4.4.0-21-generic" >$F/proc/sys/kernel/osrelease
echo "BOOT_IMAGE=/boot/vmlinuz-4.4.0-21-generic root=UUID=0a1b ro cgroup.memory=nosocket,nokmem quiet splash" >$F/proc/cmdline
proc_cgroups $F/proc/cgroups 6 40000
v1_mountinfo $F/proc/self/mountinfo
M=$F/sys/fs/cgroup/memory
memcg $M $U $U 0 "" 1
memcg $M/docker $U $U 0 "$SLAB" 1
memcg $M/docker/c1 $U $U 0 "$SLAB" 1
memcg $M/system.slice $U $U 0 "$SLAB" 1
mkdir -p $F/sys/fs/cgroup/systemd/system.slice
: >$F/sys/fs/cgroup/systemd/system.slice/cgroup.procs
runtime $F/bin/runc "runc version 1.0.0-rc10" "kernel memory accounting disabled in this runc build"

# 3. v6-hybrid: this machine's shape: Linux 6.18, hybrid, 36 IDs in use,
#    6 visible, runc 1.1.5, four run-*.scope units: ok (exit 0); with
#    --run-scope-threshold 4 the kubernetes#70324 differential warns.
F=fixtures/v6-hybrid
mkdir -p $F/proc/sys/kernel $F/proc/self
echo "6.18.44-fc-v857" >$F/proc/sys/kernel/osrelease
echo "console=ttyS0 quiet reboot=k panic=1" >$F/proc/cmdline
proc_cgroups $F/proc/cgroups 4 36
v1_mountinfo $F/proc/self/mountinfo unified
M=$F/sys/fs/cgroup/memory
memcg $M $U $U 0 "" 1
memcg $M/process_api $U $U 8192 "" 1
memcg $M/system.slice $U $U 0 "" 1
memcg $M/system.slice/a.service $U $U 0 "" 1
memcg $M/system.slice/b.service $U $U 0 "" 1
memcg $M/user.slice $U $U 0 "" 1
mkdir -p $F/sys/fs/cgroup/unified
printf 'nr_descendants 5\nnr_dying_descendants 2\n' >$F/sys/fs/cgroup/unified/cgroup.stat
for s in run-r1 run-r2 run-r3 run-u4; do
  mkdir -p $F/sys/fs/cgroup/systemd/system.slice/$s.scope
  : >$F/sys/fs/cgroup/systemd/system.slice/$s.scope/cgroup.procs
done
runtime $F/bin/runc "runc version 1.1.5+ds1"
runtime $F/bin/crun "crun version 1.8.1"

# 4. v2-pure: Debian 12 on pure cgroup v2: 53 visible, 3 dying: ok (exit 0).
F=fixtures/v2-pure
mkdir -p $F/proc/sys/kernel $F/proc/self
echo "6.1.0-18-amd64" >$F/proc/sys/kernel/osrelease
echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1c2d ro quiet" >$F/proc/cmdline
cat >$F/proc/cgroups <<'PC'
#subsys_name	hierarchy	num_cgroups	enabled
cpuset	0	56	1
cpu	0	56	1
memory	0	56	1
pids	0	56	1
PC
cat >$F/proc/self/mountinfo <<'MI'
22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
25 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
MI
mkdir -p $F/sys/fs/cgroup/system.slice
printf 'nr_descendants 52\nnr_dying_descendants 3\n' >$F/sys/fs/cgroup/cgroup.stat
: >$F/sys/fs/cgroup/system.slice/cgroup.procs
# 5. node-unguarded: the v6-hybrid host as a node: two network namespaces
#    in mountinfo (nsfs roots "net:[INODE]", issue 10), and kmemguard-runtime
#    started 3 containers without the guard (fail-open): warning (exit 1).
#    Records are 256-byte lines "<unix seconds> <id> <reason>" (unguarded.h).
F=fixtures/node-unguarded
mkdir -p $F
cp -r fixtures/v6-hybrid/proc fixtures/v6-hybrid/sys fixtures/v6-hybrid/bin $F/
cat >>$F/proc/self/mountinfo <<'MI'
40 26 0:4 net:[4026532177] /run/netns/cni-7c1f3e2a rw shared:2 - nsfs nsfs rw
41 26 0:4 net:[4026532291] /run/docker/netns/5d2e8a1c9b47 rw shared:3 - nsfs nsfs rw
MI
mkdir -p $F/state
{
  printf '%-255s\n' "1796160000 web-1 mountinfo line 22: root and mount point must be absolute"
  printf '%-255s\n' "1796163000 - open /run/kmemguard/x.json: Read-only file system (EROFS)"
  printf '%-255s\n' "1796166000 db-2 seccomp: Operation not permitted (EPERM)"
} >$F/state/unguarded-starts
echo "fixtures written"
