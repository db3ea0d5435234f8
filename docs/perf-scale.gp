# perf-scale.gp - the growth curve of docs/performance.md, from the
# figures make bench-scale writes to $BUILD/bench/scale.dat (copied to
# docs/perf-scale.dat):  gnuplot docs/perf-scale.gp > docs/perf-scale.svg
stats "docs/perf-scale.dat" using 2 every ::0::0 nooutput
base = STATS_min
set terminal svg size 640,360 font "sans,11"
set title "Cached decision in a fresh process, by domains in the cache"
set logscale xy
set xlabel "domains in the cache"
set ylabel "microseconds"
set key left top
set grid
set xrange [500:2000000]
set yrange [5:2000]
plot "docs/perf-scale.dat" using 1:2 with linespoints lw 2 title "p50", \
     "" using 1:3 with linespoints lw 2 title "p99", \
     "" using 1:6 with linespoints lw 2 title "open the database + one read (p50)", \
     "" using 1:(2 * base) with lines dt 2 title "goal: p50 <= 2 x p50 at 10^3"
