#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Renders the CSV of `kmemguard simulate --csv FILE` as a PNG: one panel per
# kmem policy, side by side, memcg IDs in use against pods started (and
# days at the churn rate), with the 16-bit ID limit drawn across.
#
#   scripts/plot_simulation.sh [CSV] [PNG] [ID_LIMIT]
#
# Defaults: simulation.csv, docs/simulation.png, 65535. Needs gnuplot
# (Debian: apt-get install gnuplot-nox).
#
# To regenerate docs/simulation.png:
#   build/kmemguard simulate --csv /tmp/simulation.csv
#   scripts/plot_simulation.sh /tmp/simulation.csv docs/simulation.png
set -eu

csv=${1:-simulation.csv}
png=${2:-docs/simulation.png}
limit=${3:-65535}

if ! command -v gnuplot >/dev/null 2>&1; then
  echo "plot_simulation.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2
  exit 1
fi
if [ ! -r "$csv" ]; then
  echo "plot_simulation.sh: cannot read $csv" >&2
  exit 1
fi

# Pods per hour, from the sample with the most pods (hours = pods / rate).
rate=$(awk -F, 'NR > 1 && $2 > m && $3 > 0 { m = $2; r = $2 / $3 }
                END { printf "%.4g", r ? r : 60 }' "$csv")
maxpods=$(awk -F, 'NR > 1 && $2 > m { m = $2 } END { print m + 0 }' "$csv")
# Per policy: peak IDs in use, zombies at the end, pods started at the end,
# and whether the last sample is at the limit (mkdir failed).
stats() {
  awk -F, -v p="$1" -v lim="$limit" '
    NR > 1 && $1 == p { if ($4 > peak) peak = $4; z = $5; n = $2; last = $4 }
    END { printf "%d %d %d %d", peak, z, n, (last >= lim) }' "$csv"
}

gnuplot <<GNUPLOT
set terminal pngcairo size 1500,560 enhanced font "DejaVu Sans,11"
set output "$png"
set datafile separator ","
limit = $limit
rate = $rate
set multiplot layout 1,3 title \
  "memcg IDs in use under pod churn on a simulated 3.10 kernel (a model: docs/simulation.md)" \
  font ",13"
set xrange [0:$maxpods/1000.0]
set yrange [0:limit*1.12]
set x2range [0:$maxpods/rate/24.0]
set xtics nomirror
set x2tics nomirror
set xlabel "pods started (thousands)"
set x2label "days at " . sprintf("%g", rate) . " pod starts per hour"
set ylabel "memcg IDs in use (/proc/cgroups num\\\\_cgroups)"
set format y "%.0s%c"
set grid ytics
set key at graph 0.98, graph 0.80 right opaque box
set arrow 1 from graph 0, first limit to graph 1, first limit nohead \
  lc rgb "#cc0000" dt 2 lw 2
set label 1 sprintf("ID limit %d: mkdir fails (ENOSPC)", limit) \
  at graph 0.02, first limit*1.05 tc rgb "#cc0000"

peak(p) = p eq "legacy" ? peak_l : p eq "guarded" ? peak_g : peak_d
zomb(p) = p eq "legacy" ? zomb_l : p eq "guarded" ? zomb_g : zomb_d
pods(p) = p eq "legacy" ? pods_l : p eq "guarded" ? pods_g : pods_d
full(p) = p eq "legacy" ? full_l : p eq "guarded" ? full_g : full_d
$(set -- $(stats legacy); echo "peak_l=$1; zomb_l=$2; pods_l=$3; full_l=$4")
$(set -- $(stats guarded); echo "peak_g=$1; zomb_g=$2; pods_g=$3; full_g=$4")
$(set -- $(stats disabled); echo "peak_d=$1; zomb_d=$2; pods_d=$3; full_d=$4")

do for [p in "legacy guarded disabled"] {
  unset label 2
  unset object 2
  if (full(p)) {
    set label 2 sprintf("mkdir fails at pod %d\\n(day %.1f)", pods(p) + 1, \
        pods(p) / rate / 24.0) at first pods(p)/1000.0, first limit*0.55 \
        offset 1,0 tc rgb "#cc0000"
    set object 2 circle at first pods(p)/1000.0, first limit size char 0.6 \
        fc rgb "#cc0000" fs solid front
  } else {
    set label 2 sprintf("flat: peak %d IDs, %d zombies", peak(p), zomb(p)) \
        at graph 0.5, first limit*0.12 center
  }
  set title p eq "legacy" ? "legacy (runc as in Kubernetes 1.9)" : \
            p eq "guarded" ? "guarded (kmemguard default)" : \
            "disabled (runc nokmem)"
  color = p eq "legacy" ? "#d95f02" : p eq "guarded" ? "#1b9e77" : "#7570b3"
  plot "$csv" skip 1 using (strcol(1) eq p ? \$2/1000.0 : NaN):4 \
         with lines lw 3 lc rgb color title "IDs in use", \
       "$csv" skip 1 using (strcol(1) eq p ? \$2/1000.0 : NaN):5 \
         with lines lw 2 dt 3 lc rgb "#555555" title "of which zombies"
}
unset multiplot
GNUPLOT
echo "wrote $png"
